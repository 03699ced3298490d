// temporary experiment (not committed): idle series only, GC log count
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LatencyRig, percentiles } from "../test/helpers/latency-rig.ts";
import { joinedTable, parseStamps, stageReport } from "./latency-stages.ts";
const dir = mkdtempSync("/tmp/lat13b-exp/r-");
const trace = join(dir, "stages.tsv");
const env: Record<string, string> = { STOREVENTD_STAGE_TRACE: trace };
for (const [k, v] of Object.entries(process.env)) if (k.startsWith("BUN_JSC_") || k.startsWith("STOREVENTD_")) env[k] = v!;
const rig = new LatencyRig(dir, env);
const cc = Bun.spawn(["/tmp/lat13b-kw", rig.tag], { stdout: "pipe" });
const cText = new Response(cc.stdout).text();
await rig.start();
const ids: number[] = [], file: number[] = [], mon: number[] = [];
for (let i = 0; i < Number(process.env.N ?? 1000); i++) { ids.push(rig.stamps.length); const a = await rig.send(5000); file.push(a.file); mon.push(a.monitor); await Bun.sleep(2); }
writeFileSync(join(dir, "daemon.stderr"), rig.daemonStderr()); const gcs = (rig.daemonStderr().match(/START [A-Z] \d+kb => \w+/g) ?? []).length;
cc.kill(); const ct = await cText; await rig.stop();
const stages = new Map(); parseStamps(ct, rig.tag, stages, "c"); parseStamps(readFileSync(trace, "utf8"), rig.tag, stages);
writeFileSync(join(dir, "joined.tsv"), joinedTable(rig.stamps, stages));
const r = stageReport("idle", rig.stamps, ids, stages);
const diff = ids.map((id) => (rig.stamps[id]!.file - (stages.get(id)?.c ?? NaN)) / 1000).map((x) => Number.isNaN(x) ? Infinity : x);
console.log(JSON.stringify({ load: readFileSync("/proc/loadavg", "utf8").split(" ")[0], gcs, file: percentiles(file), monitor: percentiles(mon), c: { p50: r.idle_c_reader_p50_ms, p99: r.idle_c_reader_p99_ms }, file_minus_c: percentiles(diff), dir }));
