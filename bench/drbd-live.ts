// Child of bench/drbd.bench.ts (and a profiling target: bun --cpu-prof bench/drbd-live.ts ...): the
// daemon's own pipeline in daemon mode, with the [drbd] sender reading a fake drbdsetup that prints
// LINES generated lines, and [[umh]] without matching rules (+ [[prometheus]] with "prom").
// Prints {lines, secs, hwm_kib, rss_kib} once the pipeline counted every line.
// bun bench/drbd-live.ts LINES [prom] (FAKE_DRBDSETUP_DIR must hold `stream`)
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import plugins from "../plugins/all.ts";
import { Registry } from "../src/registry.ts";
import { loadConfig } from "../src/config/load.ts";
import { Pipeline } from "../src/pipeline.ts";
import { createDeviceDirectory } from "../src/devices/index.ts";
import { ServiceMap } from "../src/util/services.ts";
import { rootLog } from "../src/util/log.ts";
import { nativeAddon } from "../src/native.ts";

const lines = Number(process.argv[2] ?? 200_000);
const prom = process.argv[3] === "prom";
const dir = process.env.FAKE_DRBDSETUP_DIR!;
const cfgPath = join(dir, `live-${prom ? "prom" : "umh"}.toml`);
writeFileSync(cfgPath, `[main]\nhostname = "bench"\n[drbd]\ntype = "sender"\npath = "${join(import.meta.dir, "../test/drbd/bin/drbdsetup")}"\n` +
  `[[umh]]\n[[umh.resource]]\ncommand = "/bin/true"\nresource-name = "no-such-resource"\n` +
  (prom ? `[[prometheus]]\naddress = "127.0.0.1:0"\n` : ""));
const registry = new Registry(plugins);
const cfg = loadConfig({ path: cfgPath, registry });
rootLog.level = "warn";
const pipeline = new Pipeline({
  registry, log: rootLog, devices: createDeviceDirectory(), services: new ServiceMap(), native: nativeAddon(), mode: "daemon",
});
const status = () => readFileSync("/proc/self/status", "utf8");
const kib = (s: string, k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(s)![1]);
const marks: Record<string, number> = {};
const t0 = performance.now();
await pipeline.apply(cfg);
const startKib = kib(status(), "VmRSS");
let tFirst = 0;
const marksAt = [200_000, 2_000_000, 20_000_000].filter((m) => m < lines);
while ((pipeline.counters.get("records") ?? 0) < lines) {
  await Bun.sleep(2);
  const n = pipeline.counters.get("records") ?? 0;
  if (!tFirst && n) tFirst = performance.now();
  while (marksAt.length && n >= marksAt[0]!) marks[`rss_kib_at_${marksAt.shift()}`] = kib(status(), "VmRSS");
}
const tEnd = performance.now();
const s = status();
console.log(JSON.stringify({ lines, secs: (tEnd - t0) / 1000, secs_from_first: (tEnd - tFirst) / 1000, start_rss_kib: startKib, hwm_kib: kib(s, "VmHWM"), rss_kib: kib(s, "VmRSS"), ...marks }));
if (process.env.DRBD_LIVE_HEAP) {
  const { heapStats } = await import("bun:jsc");
  const h = heapStats();
  const maps = readFileSync("/proc/self/smaps", "utf8").split(/\n(?=[0-9a-f]+-)/).map((m) => [m.split("\n")[0], Number(/^Rss:\s+(\d+)/m.exec(m)?.[1] ?? 0)] as const);
  console.log(maps.sort((a, b) => b[1] - a[1]).slice(0, 10));
  Bun.gc(true);
  console.log(JSON.stringify({ heap: h.heapSize, cap: h.heapCapacity, extra: h.extraMemorySize, after_gc_rss_kib: kib(status(), "VmRSS"), heap_after: heapStats().heapSize,
    top: Object.entries(heapStats().objectTypeCounts).sort((a, b) => b[1] - a[1]).slice(0, 12) }));
}
await pipeline.stop(1000);
process.exit(0);
