// Child of bench/drbd.bench.ts and test/drbd/leak.test.ts (and a profiling target: bun --cpu-prof
// test/drbd/live-child.ts ...): the daemon's own pipeline in daemon mode, the [drbd] sender reading
// a fake drbdsetup, [[umh]] whose rule never matches (+ [[prometheus]] with "prom"). The fake prints DIR/stream (dump and changes),
// then DIR/stats (statistics rounds) again and again until LINES lines, then waits for stdin to close.
// Prints {lines, secs, start_rss_kib, hwm_kib, rss_kib, rss_kib_at_N...} once the pipeline counted every line.
// bun test/drbd/live-child.ts DIR LINES [umh|prom]
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import plugins from "../../plugins/all.ts";
import { Registry } from "../../src/registry.ts";
import { loadConfig } from "../../src/config/load.ts";
import { Pipeline } from "../../src/pipeline.ts";
import { createDeviceDirectory } from "../../src/devices/index.ts";
import { ServiceMap } from "../../src/util/services.ts";
import { rootLog } from "../../src/util/log.ts";
import { nativeAddon } from "../../src/native.ts";

const dir = process.argv[2]!;
const lines = Number(process.argv[3] ?? 200_000);
const prom = process.argv[4] === "prom";
const count = (f: string) => Number(Bun.spawnSync(["wc", "-l", f]).stdout.toString().trim().split(" ")[0]);
const streamLines = count(join(dir, "stream"));
const statsLines = count(join(dir, "stats"));
const rounds = Math.max(0, Math.ceil((lines - streamLines) / statsLines));
const fake = join(dir, "drbdsetup");
writeFileSync(fake, `#!/bin/sh\ncat "${dir}/stream"\ni=0\nwhile [ $i -lt ${rounds} ]; do cat "${dir}/stats"; i=$((i + 1)); done\nexec cat >/dev/null\n`);
chmodSync(fake, 0o755);
const cfgPath = join(dir, `live-${prom ? "prom" : "umh"}.toml`);
writeFileSync(cfgPath, `[main]\nhostname = "bench"\n[drbd]\ntype = "sender"\npath = "${fake}"\n` +
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
const cpu0 = process.cpuUsage();
const startKib = kib(status(), "VmRSS");
const marksAt = [200_000, 2_000_000, 20_000_000].filter((m) => m <= lines);
const total = streamLines + rounds * statsLines;
for (;;) {
  const n = pipeline.counters.get("records") ?? 0;
  while (marksAt.length && n >= marksAt[0]!) marks[`rss_kib_at_${marksAt.shift()}`] = kib(status(), "VmRSS");
  if (n >= total) break;
  await Bun.sleep(2);
}
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const s = status();
// cpu_s: this process's CPU (JS thread, reader thread, GC) from the start of the pipeline on.
console.log(JSON.stringify({ lines: total, secs, cpu_s: (cpu.user + cpu.system) / 1e6, start_rss_kib: startKib, hwm_kib: kib(s, "VmHWM"), rss_kib: kib(s, "VmRSS"), ...marks }));
await pipeline.stop(1000);
process.exit(0);
