// A regression guard, not a benchmark (that is bench/latency.bench.ts): one kernel-log record
// reaches a file receiver and a `monitor --json` follower within 1 s (it took 5 to 11 s when the
// fold held the first event for its whole window).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LatencyRig } from "./helpers/latency-rig.ts";

const dir = mkdtempSync(join(tmpdir(), "core-fold-latency-"));
const rig = new LatencyRig(dir);
afterAll(async () => {
  await rig.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a single kernel event reaches the file receiver and a monitor follower within 1 s", async () => {
  await rig.start();
  for (let i = 0; i < 3; i++) {
    const a = await rig.send(3000);
    expect(a.file).toBeLessThan(1000);
    expect(a.monitor).toBeLessThan(1000);
    await Bun.sleep(200); // each one alone, not a burst
  }
}, 60_000);
