// multicast receiver: each event as one UDP datagram of JSON to a multicast group, so one host
// (`storeventd monitor --multicast GROUP`) can watch a subnet of storage hosts.
import type * as dgram from "node:dgram";
import { dgramLib, netLib } from "../../../src/plugin-kit/builtins.ts";
import { networkInterfaces } from "node:os";
import * as v from "valibot";
import { definePlugin, type ReceiverContext, type StorageEvent } from "../../../src/plugin-api.ts";
import { parseGroup, type MulticastGroup } from "../../../src/plugin-kit/multicast.ts";
import sample from "./sample.toml" with { type: "text" };

// The largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP).
export const MAX_DATAGRAM = 65507;

const schema = v.strictObject({
  group: v.pipe(
    v.string(),
    v.check((g) => typeof parseGroup(g) !== "string", (i) => `bad group: ${parseGroup(String(i.input))}`),
    v.description('The group and port: "239.0.0.77:6699" or "[ff05::77]:6699".'),
  ),
  ttl: v.pipe(
    v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255)), 1),
    v.description("Multicast TTL / hop limit (1 = this subnet)."),
  ),
  interface: v.pipe(
    v.optional(v.string()),
    v.description("Outgoing interface: its name (eth0), or for IPv4 also a local address of it (10.0.0.5). Default: the route's."),
  ),
  loopback: v.pipe(
    v.optional(v.boolean(), true),
    v.description("Also deliver to listeners on this host (a local `storeventd monitor --multicast`)."),
  ),
  max_size: v.pipe(
    v.optional(v.pipe(v.number(), v.integer(), v.minValue(512), v.maxValue(MAX_DATAGRAM)), 65000),
    v.description("Largest datagram in bytes; bigger events are truncated (raw dropped, then extension, then msg cut)."),
  ),
});

type Opts = v.InferOutput<typeof schema>;

/**
 * The datagram for one event, at most max bytes: first `raw` is emptied, then `extension` becomes
 * {truncated}, then `msg` is cut; a cut event always has extension.truncated = true and
 * extension.original_size = the full JSON's size.
 */
export function encodeDatagram(e: StorageEvent, max: number): { buf: Buffer; truncated: boolean } {
  const full = Buffer.from(JSON.stringify(e));
  if (full.length <= max) return { buf: full, truncated: false };
  const mark = { truncated: true, original_size: full.length };
  let cut: StorageEvent = { ...e, raw: "", extension: { ...e.extension, ...mark } };
  let buf = Buffer.from(JSON.stringify(cut));
  if (buf.length > max) {
    cut = { ...cut, extension: mark };
    buf = Buffer.from(JSON.stringify(cut));
  }
  if (buf.length > max) {
    // JSON escapes can grow the msg; cut by bytes of the encoded form, then back off to fit.
    const overhead = buf.length - Buffer.byteLength(JSON.stringify(cut.msg));
    let keep = Math.max(0, max - overhead - 16);
    for (;;) {
      const msg = Buffer.from(cut.msg).subarray(0, keep).toString("utf8").replace(/\uFFFD$/, "") + "…";
      buf = Buffer.from(JSON.stringify({ ...cut, msg }));
      if (buf.length <= max || keep === 0) break;
      keep = Math.max(0, keep - (buf.length - max) - 8);
    }
  }
  return { buf, truncated: true };
}

/**
 * What the socket API wants for the outgoing interface: IPv4 a local address (a name is looked up),
 * IPv6 the interface name (which must exist).
 */
export function resolveInterface(iface: string, family: 4 | 6, nics = networkInterfaces()): string | { error: string } {
  if (family === 4 && netLib().isIPv4(iface)) return iface;
  const addrs = nics[iface];
  if (!addrs) return { error: `no interface ${iface}` + (family === 4 ? " (give its name or one of its IPv4 addresses)" : "") };
  if (family === 6) return iface;
  const a4 = addrs.find((a) => a.family === "IPv4");
  return a4 ? a4.address : { error: `interface ${iface} has no IPv4 address` };
}

export class MulticastReceiver {
  private sock: dgram.Socket | undefined;
  private group: MulticastGroup;
  private ready: Promise<void> | undefined;
  private sent = 0;
  private errors = 0;
  private truncated = 0;

  constructor(private opts: Opts, private ctx: ReceiverContext) {
    this.group = parseGroup(opts.group) as MulticastGroup;
  }

  /** Opens and binds the socket; rejects on a bad interface (the start fails). */
  async start(): Promise<void> {
    const { opts } = this;
    const sock = dgramLib().createSocket({ type: this.group.family === 4 ? "udp4" : "udp6" });
    this.sock = sock;
    sock.on("error", (err) => {
      this.ctx.count("errors");
      this.ctx.log.once("socket", `multicast: socket error: ${err.message}`);
    });
    this.ready = new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(0, () => {
        sock.off("error", reject);
        try {
          sock.setMulticastTTL(opts.ttl);
          sock.setMulticastLoopback(opts.loopback);
          if (opts.interface !== undefined) {
            sock.setMulticastInterface(this.group.family === 6 ? `::%${opts.interface}` : opts.interface);
          }
          resolve();
        } catch (e) {
          reject(e);
        }
      });
    });
    try {
      await this.ready;
    } catch (e) {
      this.close();
      throw new Error(`multicast ${opts.group}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Resolves once the socket is bound and configured; rejects on a bad interface. */
  opened(): Promise<void> {
    return this.ready ?? Promise.reject(new Error("not started"));
  }

  async send(events: readonly StorageEvent[]): Promise<void> {
    await this.opened();
    const sock = this.sock!;
    const pending: Promise<void>[] = [];
    for (const e of events) {
      const { buf, truncated } = encodeDatagram(e, this.opts.max_size);
      if (truncated) {
        this.truncated++;
        this.ctx.count("truncated");
      }
      pending.push(
        new Promise<void>((resolve) => {
          sock.send(buf, this.group.port, this.group.address, (err) => {
            if (err) {
              this.errors++;
              this.ctx.count("errors");
              this.ctx.log.once(`send-${(err as NodeJS.ErrnoException).code}`, `multicast: send to ${this.opts.group} failed: ${err.message}`);
            } else {
              this.sent++;
              this.ctx.count("sent");
            }
            resolve();
          });
        }),
      );
    }
    await Promise.all(pending);
  }

  close(): void {
    try {
      this.sock?.close();
    } catch {
      // closed already
    }
    this.sock = undefined;
  }

  status(): Record<string, unknown> {
    return { group: this.opts.group, sent: this.sent, errors: this.errors, truncated: this.truncated };
  }
}

/** The interface address for the group's family; a config error when there is no such interface. */
function groupInterface(config: v.InferOutput<typeof schema>): string | undefined {
  const g = parseGroup(config.group) as MulticastGroup;
  const iface = config.interface === undefined ? undefined : resolveInterface(config.interface, g.family);
  if (typeof iface === "object") throw new Error(`interface: ${iface.error}`);
  return iface;
}

export default definePlugin({
  kind: "receiver",
  name: "multicast",
  description: "Sends each event as one JSON datagram to a UDP multicast group (IPv4 or IPv6).",
  schema,
  sample,
  validate: (config) => void groupInterface(config),
  create(config, ctx) {
    const iface = groupInterface(config);
    return new MulticastReceiver({ ...config, interface: iface }, ctx);
  },
});
