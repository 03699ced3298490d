// `npm run bench`: runs every bench/*.bench.ts (default export: async () => Record<string, number|string>)
// and prints one table. Goals are ratios against a baseline measured in the same run, never
// absolute times in unit tests.
import { readdirSync } from "node:fs";
import { join } from "node:path";

const only = process.argv.slice(2);
const files = readdirSync(import.meta.dir).filter((f) => f.endsWith(".bench.ts") && (!only.length || only.some((o) => f.includes(o)))).sort();
const results: Record<string, Record<string, number | string>> = {};
for (const f of files) {
  const mod = await import(join(import.meta.dir, f));
  const t0 = performance.now();
  results[f] = await mod.default();
  results[f]!["bench_seconds"] = Number(((performance.now() - t0) / 1000).toFixed(1));
  console.log(`${f}:`);
  for (const [k, v] of Object.entries(results[f]!)) console.log(`  ${k.padEnd(40)} ${typeof v === "number" ? v.toLocaleString("en-US", { maximumFractionDigits: 3 }) : v}`);
}
if (process.env.BENCH_JSON) await Bun.write(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
