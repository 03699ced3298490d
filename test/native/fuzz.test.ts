// The native parsers' libFuzzer targets (ASan + UBSan, seeded from the fixtures, with a
// dictionary each) run a short pass of 100k executions each: no finding, and each target really ran
// that many inputs. `npm run fuzz -- SECONDS` runs them longer; native/fuzz/README.md has the figures.
import { expect, test } from "bun:test";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
const RUNS = 100_000;

test(`fuzz targets: ${RUNS} executions each under ASan and UBSan, no finding`, () => {
  const r = Bun.spawnSync(["sh", "native/fuzz/run.sh", "0"], { cwd: root, env: { ...process.env, FUZZ_RUNS: String(RUNS), BUN: process.execPath }, stdout: "pipe", stderr: "pipe" });
  const out = r.stdout.toString();
  console.log(out.trim());
  expect(r.stderr.toString() + out).not.toContain("FINDING");
  expect(r.exitCode).toBe(0);
  for (const t of ["events2", "kmsg_record", "uevent_parse", "uevent_layout", "journal_entry"]) {
    const line = out.split("\n").find((l) => l.startsWith(`${t}: `));
    expect(line, `no summary for ${t}`).toBeDefined();
    expect(Number(/: (\d+) runs/.exec(line!)?.[1])).toBeGreaterThanOrEqual(RUNS);
    expect(Number(/cov (\d+) edges/.exec(line!)?.[1])).toBeGreaterThan(50);
  }
}, 600_000);
