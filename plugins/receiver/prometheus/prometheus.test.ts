// prometheus: drbd-reactor's metric names and labels from the model after a recorded stream,
// `promtool check metrics` on the output, and a real Prometheus server (Debian's) scraping it.
import { DRBD_MODEL_SERVICE } from "../../../src/plugin-kit/drbd.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import plugin, { parseAddress } from "./index.ts";
import { renderMetrics } from "./metrics.ts";
import { parseDrbdVersions } from "../../../src/plugin-kit/drbd.ts";
import { decodeEvents2Text } from "../../../src/plugin-kit/drbd.ts";
import { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import type { EventDraft, StorageEvent } from "../../../src/plugin-api.ts";
import { makeContext } from "../../../test/helpers/context.ts";

const lifecycle = readFileSync(join(import.meta.dir, "../../../test/drbd/streams/lifecycle.events2"), "utf8");

function model(): { m: DrbdModel; events: EventDraft[] } {
  const m = new DrbdModel();
  const events: EventDraft[] = [];
  for (const r of decodeEvents2Text(lifecycle)) m.apply(r, (d) => events.push(d));
  return { m, events };
}

function asEvents(drafts: EventDraft[]): StorageEvent[] {
  return drafts.map((d) => ({
    event_id: crypto.randomUUID(), time: "2026-11-26T00:00:00.000000Z", hostname: "h", severity: d.severity,
    system: d.system, event_type: d.event_type, dev_name: d.dev_name ?? "", dev_path: "", dev_wwid: "", owners: [],
    msg: d.msg, source: "drbd", raw: d.raw ?? "", extension: d.extension ?? {},
  }));
}

const counts = (events: EventDraft[]) => {
  const c = new Map<string, number>();
  for (const e of events) c.set(e.event_type, (c.get(e.event_type) ?? 0) + 1);
  return c;
};

describe("prometheus metrics", () => {
  test("drbd-reactor's names, labels and units from the model", () => {
    const { m, events } = model();
    const text = renderMetrics({ model: m, enums: false, version: { kmod: "9.2.12", utils: "9.22.0" }, eventCounts: counts(events) });
    const lines = text.split("\n");
    const r0 = m.resource("r0")!;
    const alice = r0.connections.get(1)!.peerDevices.get(0)!;
    for (const want of [
      "drbdreactor_up 1",
      'drbd_version{kmod="9.2.12",utils="9.22.0"} 1',
      "drbd_resource_resources 3",
      'drbd_resource_maypromote{name="r0"} 0',
      'drbd_resource_promotionscore{name="new0"} 0',
      'drbd_resource_suspended{name="r0"} 0',
      'drbd_device_quorum{name="r0",volume="0",minor="1000"} 1',
      'drbd_device_open{name="r0",volume="0",minor="1000"} 1',
      'drbd_device_client{name="new0",volume="0",minor="1030"} 1',
      'drbd_device_unintentionaldiskless{name="new0",volume="0",minor="1030"} 0',
      `drbd_device_written_bytes_total{name="r0",volume="0",minor="1000"} ${r0.devices.get(0)!.written * 1024}`,
      'drbd_device_size_bytes{name="r0",volume="0",minor="1000"} 1073741824',
      `drbd_peerdevice_sent_bytes{name="r0",conn_name="alice",peer_node_id="1",volume="0"} ${alice.sent * 1024}`,
      'drbd_peerdevice_outofsync_bytes{name="r0",conn_name="alice",peer_node_id="1",volume="0"} 0',
      'drbd_connection_congested{name="web",conn_name="bob",peer_node_id="2"} 0',
      'storeventd_drbd_events_total{event_type="DRBD_SPLIT_BRAIN"} 1',
      'storeventd_drbd_events_total{event_type="DRBD_QUORUM_LOST"} 2',
    ]) expect(lines).toContain(want);
    expect(alice.sent).toBeGreaterThan(0);
    expect(text).not.toContain("drbd_resource_role{");
    expect(text).toContain("# HELP drbd_device_read_bytes_total Net data read from local hard disk\n# TYPE drbd_device_read_bytes_total counter\n");
  });

  test("enums = true adds one 0/1 series per state", () => {
    const { m } = model();
    const text = renderMetrics({ model: m, enums: true, version: { kmod: "0.0.0", utils: "0.0.0" }, eventCounts: new Map() });
    expect(text).toContain('drbd_resource_role{name="r0",drbd_resource_role="Primary"} 1\n');
    expect(text).toContain('drbd_resource_role{name="r0",drbd_resource_role="Secondary"} 0\n');
    expect(text).toContain('drbd_connection_state{name="web",conn_name="bob",peer_node_id="2",drbd_connection_state="StandAlone"} 1\n');
    expect(text).toContain('drbd_device_state{name="new0",volume="0",minor="1030",drbd_device_state="Diskless"} 1\n');
    expect(text.match(/^drbd_device_state\{name="r0",/gm)).toHaveLength(10);
  });

  test("`promtool check metrics` accepts the output", async () => {
    const { m, events } = model();
    const text = renderMetrics({ model: m, enums: true, version: { kmod: "9.2.12", utils: "9.22.0" }, eventCounts: counts(events) });
    const p = Bun.spawn(["promtool", "check", "metrics"], { stdin: new Blob([text]), stdout: "pipe", stderr: "pipe" });
    const out = (await new Response(p.stdout).text()) + (await new Response(p.stderr).text());
    expect(out).toBe("");
    expect(await p.exited).toBe(0);
  });

  test("address parsing and drbdadm --version", () => {
    expect(parseAddress(":9942")).toEqual({ hostname: "::", port: 9942 });
    expect(parseAddress("127.0.0.1:9100")).toEqual({ hostname: "127.0.0.1", port: 9100 });
    expect(parseAddress("[::1]:9942")).toEqual({ hostname: "::1", port: 9942 });
    for (const bad of ["9942", "localhost", ":99999", "1.2.3.4:"]) expect(parseAddress(bad)).toBeNull();
    expect(v.safeParse(plugin.schema, { address: "nope" }).success).toBe(false);
    expect(v.parse(plugin.schema, {})).toEqual({ address: ":9942", enums: false });
    // What this machine's drbdadm (drbd-utils 9.22, no kernel module) prints, and a loaded 9.2.12 module.
    expect(parseDrbdVersions(readFileSync(join(import.meta.dir, "testdata/drbdadm-version.txt"), "utf8")))
      .toEqual({ kmod: "0.0.0", utils: "9.22.0" });
    expect(parseDrbdVersions("DRBD_KERNEL_VERSION_CODE=0x09020c\nDRBDADM_VERSION_CODE=0x091600\n")).toEqual({ kmod: "9.2.12", utils: "9.22.0" });
  });
});

describe("prometheus receiver scraped by a real Prometheus", () => {
  const dirs: string[] = [];
  const procs: ReturnType<typeof Bun.spawn>[] = [];
  afterAll(async () => {
    for (const p of procs) {
      p.kill();
      await p.exited;
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("prometheus scrapes /metrics and its API returns the DRBD series", async () => {
    const { m, events } = model();
    const { ctx } = makeContext({ instance: "prometheus[0]", plugin: "prometheus" });
    ctx.services.provide(DRBD_MODEL_SERVICE, m);
    const recv = await plugin.create(v.parse(plugin.schema, { address: "127.0.0.1:0" }), ctx);
    await recv.start?.();
    try {
      recv.send(asEvents(events));
      const port = (recv.status!() as { port: number }).port;
      expect(port).toBeGreaterThan(0);
      const direct = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(direct).toContain("drbd_resource_resources 3\n");

      const dir = mkdtempSync(join(tmpdir(), "storeventd-prom-"));
      dirs.push(dir);
      writeFileSync(join(dir, "prometheus.yml"), [
        "global:", "  scrape_interval: 1s", "scrape_configs:", "  - job_name: drbd",
        "    static_configs:", `      - targets: ["127.0.0.1:${port}"]`, "",
      ].join("\n"));
      const free = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      const webPort = free.port;
      free.stop(true);
      const prom = Bun.spawn([
        "prometheus", `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${webPort}`,
      ], { stdout: "ignore", stderr: "pipe" });
      procs.push(prom);
      const query = async (q: string) => {
        const r = await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(q)}`);
        return (await r.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      };
      let result: Awaited<ReturnType<typeof query>> | undefined;
      const t0 = Date.now();
      while (Date.now() - t0 < 30_000) {
        try {
          result = await query("drbd_device_quorum");
          if (result.data.result.length) break;
        } catch {
          // not listening yet
        }
        await Bun.sleep(250);
      }
      expect(result?.status).toBe("success");
      const series = result!.data.result.map((s) => `${s.metric.name}/${s.metric.volume}=${s.value[1]}`).sort();
      expect(series).toEqual(["new0/0=1", "r0/0=1", "web/0=1"]);
      const sb = await query('storeventd_drbd_events_total{event_type="DRBD_SPLIT_BRAIN"}');
      expect(sb.data.result[0]!.value[1]).toBe("1");
      const up = await query('up{job="drbd"}');
      expect(up.data.result[0]!.value[1]).toBe("1");
    } finally {
      await recv.close?.();
    }
  }, 60_000);
});
