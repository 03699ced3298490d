// Receiver `prometheus` (drbd-reactor's [[prometheus]]): serves the DRBD model as drbd-reactor's
// metrics on `address` (default ":9942", all interfaces, the port registered for this exporter),
// plus counters of the DRBD events it received. Any path answers, as drbd-reactor's does.
import { DRBD_MODEL_SERVICE, readDrbdVersions, UNKNOWN_VERSIONS, type DrbdVersions } from "../../../src/plugin-kit/drbd.ts";
import * as v from "valibot";
import { definePlugin, type ReceiverContext, type StorageEvent } from "../../../src/plugin-api.ts";
import type { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import { renderMetrics } from "./metrics.ts";
import sample from "./sample.toml" with { type: "text" };
import { startedSection } from "../../../src/plugin-kit/ctl.ts";

/** ":9942" (all interfaces), "127.0.0.1:9942", "[::1]:9942", "host:9942". */
export function parseAddress(a: string): { hostname: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.%\w]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(a.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  const host = m[1] ?? m[2] ?? "";
  return { hostname: host === "" ? "::" : host, port };
}

const schema = v.strictObject({
  address: v.pipe(
    v.optional(v.string(), ":9942"),
    v.check((a) => parseAddress(a) !== null, 'expected ":PORT", "IP:PORT" or "[IPv6]:PORT"'),
    v.description('address and port to serve metrics on; ":9942" listens on all interfaces'),
  ),
  enums: v.pipe(v.optional(v.boolean(), false),
    v.description("also export role, connection and disk states as one 0/1 series per possible value")),
  id: v.pipe(v.optional(v.string()), v.description("deprecated in drbd-reactor; accepted and ignored")),
});
type Config = v.InferOutput<typeof schema>;

class PrometheusReceiver {
  private server: ReturnType<typeof Bun.serve> | undefined;
  private counts = new Map<string, number>();
  private version: DrbdVersions = UNKNOWN_VERSIONS;
  private scrapes = 0;

  constructor(private cfg: Config, private ctx: ReceiverContext) {}

  /** Binds the port (a reload closes the old instance first, so the same port is free again). */
  start(): void {
    const { cfg, ctx } = this;
    const { hostname, port } = parseAddress(cfg.address)!;
    const model = () => ctx.services.get(DRBD_MODEL_SERVICE);
    const serve = (host: string) => Bun.serve({
      hostname: host, port,
      fetch: (req) => {
        if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405 });
        this.scrapes++;
        ctx.count("scrapes");
        const body = renderMetrics({ model: model(), enums: cfg.enums, version: this.version, eventCounts: this.counts });
        return new Response(body, { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
      },
    });
    try {
      this.server = serve(hostname);
    } catch (e) {
      // ":PORT" means every interface: [::] (dual stack), or 0.0.0.0 where IPv6 is off.
      if (hostname !== "::") throw e;
      this.server = serve("0.0.0.0");
    }
    void this.readVersion();
  }

  private async readVersion(): Promise<void> {
    this.version = await readDrbdVersions(); // drbdadm missing: 0.0.0, as drbd-reactor's does
  }

  get port(): number {
    return this.server?.port ?? 0;
  }

  send(events: readonly StorageEvent[]): void {
    for (const e of events) {
      if (e.system !== "drbd") continue;
      this.counts.set(e.event_type, (this.counts.get(e.event_type) ?? 0) + 1);
    }
  }

  close(): void {
    this.server?.stop(true);
    this.server = undefined;
  }

  status(): Record<string, unknown> {
    return { address: this.cfg.address, port: this.port, scrapes: this.scrapes };
  }
}

export default definePlugin({
  kind: "receiver",
  name: "prometheus",
  reactorTable: "prometheus",
  ctl: {
    order: 2,
    status: startedSection("prometheus", "Prometheus", { says: "listening on", probe: true }),
    read: (e) => ({ address: typeof e.address === "string" ? e.address : ":9942" }),
    template: `[[prometheus]]
enums = true
# address = ":9942"`,
  },
  needs: ["events2"],
  description: "drbd-reactor's Prometheus exporter: DRBD metrics (same names and labels) and DRBD event counters",
  schema,
  sample,
  create(config, ctx) {
    return new PrometheusReceiver(config, ctx);
  },
});
