import { expect, test } from "bun:test";
import * as v from "valibot";
import { Pipeline } from "../pipeline.ts";
import { Registry } from "../registry.ts";
import { RootLog } from "../util/log.ts";
import { ServiceMap } from "../util/services.ts";
import { createDeviceDirectory } from "../devices/index.ts";
import { definePlugin, type AnyPluginDef, type StorageEvent } from "../plugin-api.ts";
import { loadConfig } from "../config/load.ts";

// A receiver whose behaviour the test picks: collect, never finish (stuck), or fail.
const seen = new Map<string, StorageEvent[]>();
const mem = definePlugin({
  kind: "receiver",
  name: "mem",
  description: "test receiver",
  schema: v.strictObject({ mode: v.optional(v.picklist(["collect", "stuck", "fail", "hang-close"]), "collect") }),
  create(cfg, ctx) {
    const got: StorageEvent[] = [];
    seen.set(ctx.instance, got);
    return {
      send(events) {
        if (cfg.mode === "stuck") return new Promise<void>(() => {});
        if (cfg.mode === "fail") throw new Error("server down");
        got.push(...events);
      },
      close: cfg.mode === "hang-close" ? () => new Promise<void>(() => {}) : undefined,
    };
  },
}) as unknown as AnyPluginDef;

function pipelineFor(toml: string) {
  const registry = new Registry([mem]);
  const logs: string[] = [];
  const p = new Pipeline({
    registry, log: new RootLog({ write: (l) => void logs.push(l) }), devices: createDeviceDirectory(),
    services: new ServiceMap(), native: null, mode: "daemon",
  });
  return { p, cfg: loadConfig({ registry, text: toml, path: "test.toml" }), logs };
}

const draft = (i: number) => ({ severity: "warn" as const, system: "scsi" as const, event_type: "SCSI_TIMEOUT", msg: `event ${i}`, dev_name: "sdz" });

test("Router: a receiver that never drains does not block others; its drops are counted exactly", async () => {
  const { p, cfg } = pipelineFor(`[main]\nhostname="h"\n[fast]\nplugin="mem"\n[stuck]\nplugin="mem"\nmode="stuck"\nqueue={max_events=10,batch=1}\n[also]\nplugin="mem"\n`);
  await p.apply(cfg);
  for (let i = 0; i < 1000; i++) p.emitDraft(draft(i));
  await Bun.sleep(20);
  p.tick(Date.now() * 1000 + 10_000_000);
  await Bun.sleep(20);
  const fast = seen.get("fast")!.filter((e) => e.event_type === "SCSI_TIMEOUT");
  expect(fast.map((e) => e.msg)).toEqual(Array.from({ length: 1000 }, (_, i) => `event ${i}`));
  expect(seen.get("also")!.filter((e) => e.event_type === "SCSI_TIMEOUT")).toHaveLength(1000);
  // All 1000 were queued before its loop ran: 990 dropped, then 1 went into the hung send(), 9 wait.
  const stuck = p.instances().find((i) => i.name === "stuck")!;
  expect(stuck.queue).toEqual({ depth: 9, max: 10, dropped: 990, sent: 0, errors: 0 });
  const report = seen.get("fast")!.filter((e) => e.event_type === "RECEIVER_DROPPED");
  expect(report).toHaveLength(1);
  expect(report[0]!.extension).toEqual({ receiver: "stuck", dropped: 990, reason: "queue_full" });
  expect(p.counters.get("receiver_dropped")).toBe(990);
});

test("Router: a failing receiver counts errors and keeps going; filters select events", async () => {
  const { p, cfg } = pipelineFor(`[failing]\nplugin="mem"\nmode="fail"\n[errors_only]\nplugin="mem"\nfilter={severity=["error"], dev_name=["sd*"]}\n`);
  await p.apply(cfg);
  for (let i = 0; i < 5; i++) p.emitDraft(draft(i));
  p.emitDraft({ ...draft(9), severity: "error" });
  p.emitDraft({ ...draft(10), severity: "error", dev_name: "nvme0n1" });
  await Bun.sleep(20);
  expect(seen.get("errors_only")!.map((e) => e.msg)).toEqual(["event 9"]);
  const failing = p.instances().find((i) => i.name === "failing")!;
  expect(failing.queue!.errors).toBe(7);
  expect(failing.queue!.sent).toBe(0);
});

test("Pipeline.stop() drains queued events before closing receivers", async () => {
  const { p, cfg } = pipelineFor(`[sink]\nplugin="mem"\nqueue={batch=3}\n`);
  await p.apply(cfg);
  for (let i = 0; i < 50; i++) p.emitDraft(draft(i));
  await p.stop(2000);
  expect(seen.get("sink")!.filter((e) => e.event_type === "SCSI_TIMEOUT")).toHaveLength(50);
});

test("Pipeline.apply() keeps unchanged instances, restarts changed ones, stops removed ones", async () => {
  const { p, cfg } = pipelineFor(`[a]\nplugin="mem"\n[b]\nplugin="mem"\n[c]\nplugin="mem"\n`);
  expect(await p.apply(cfg)).toEqual({ started: ["a", "b", "c"], stopped: [], kept: [], failed: [], restored: [] });
  const next = loadConfig({ registry: new Registry([mem]), text: `[a]\nplugin="mem"\n[b]\nplugin="mem"\nmode="fail"\n[d]\nplugin="mem"\n`, path: "t.toml" });
  const r = await p.apply(next);
  expect(r.kept).toEqual(["a"]);
  expect(r.started.sort()).toEqual(["b", "d"]);
  expect(r.stopped.sort()).toEqual(["b", "c"]);
});

test("Pipeline.stop() is bounded even when a receiver's close() never returns", async () => {
  const { p, cfg, logs } = pipelineFor(`[hung]\nplugin="mem"\nmode="hang-close"\n[ok]\nplugin="mem"\n`);
  await p.apply(cfg);
  p.emitDraft(draft(1));
  const t0 = performance.now();
  await p.stop(200);
  expect(performance.now() - t0).toBeLessThan(2000);
  expect(seen.get("ok")!.some((e) => e.msg === "event 1")).toBe(true);
  expect(logs.join("")).toContain("close() did not finish within 1000 ms");
});
