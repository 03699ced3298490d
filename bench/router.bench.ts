// Router throughput: events through fold + router into 3 receivers, as a ratio to building the
// same event objects without routing (the baseline in this run).
import * as v from "valibot";
import { Pipeline } from "../src/pipeline.ts";
import { Registry } from "../src/registry.ts";
import { RootLog } from "../src/util/log.ts";
import { ServiceMap } from "../src/util/services.ts";
import { createDeviceDirectory } from "../src/devices/index.ts";
import { loadConfig } from "../src/config/load.ts";
import { definePlugin, type AnyPluginDef } from "../src/plugin-api.ts";

export default async function () {
  const N = 300_000;
  let received = 0;
  const sink = definePlugin({
    kind: "receiver", name: "sink", description: "", schema: v.strictObject({}),
    create: () => ({ send: (e) => void (received += e.length) }),
  }) as unknown as AnyPluginDef;
  const registry = new Registry([sink]);
  const p = new Pipeline({ registry, log: new RootLog({ write() {} }), devices: createDeviceDirectory(), services: new ServiceMap(), native: null, mode: "daemon" });
  await p.apply(loadConfig({ registry, path: "b.toml", text: `[main]\ndedup_window="0s"\nhostname="h"\n[a]\nplugin="sink"\nqueue={max_events=${N}}\n[b]\nplugin="sink"\nqueue={max_events=${N}}\n[c]\nplugin="sink"\nfilter={severity=["error"]}\nqueue={max_events=${N}}\n` }));
  const draft = (i: number) => ({ severity: (i % 3 ? "warn" : "error") as "warn" | "error", system: "block" as const, event_type: "BLK_IO_ERROR", msg: `I/O error ${i}`, dev_name: "sdq" });

  let t0 = performance.now();
  let sinkhole = 0;
  for (let i = 0; i < N; i++) sinkhole += JSON.stringify({ ...draft(i), event_id: crypto.randomUUID() }).length;
  const baseMs = performance.now() - t0;

  t0 = performance.now();
  for (let i = 0; i < N; i++) p.emitDraft(draft(i));
  while (received < N * 2 + N / 3 - 1) await Bun.sleep(1);
  const routeMs = performance.now() - t0;
  return {
    events: N,
    routed_events_per_s: Math.round(N / (routeMs / 1000)),
    baseline_build_events_per_s: Math.round(N / (baseMs / 1000)),
    ratio_routed_to_baseline: Number((baseMs / routeMs).toFixed(3)),
    rss_mib: Math.round(process.memoryUsage().rss / 1048576),
    _: sinkhole > 0 ? "ok" : "?",
  };
}
