import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nativeAddon } from "../native.ts";

const dir = mkdtempSync(join(tmpdir(), "lat13b-stage-trace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The module reads STOREVENTD_STAGE_TRACE once at import: each case runs in its own process.
const script = (withClock: boolean) => `
import { mark, traceClock, tracing } from ${JSON.stringify(join(import.meta.dir, "stage-trace.ts"))};
import { nativeAddon } from ${JSON.stringify(join(import.meta.dir, "../native.ts"))};
if (${withClock}) traceClock(() => nativeAddon().kmsgClock().monotonic_us);
mark("record", "sd 2:0:0:1: tab\\there");
await Bun.sleep(5);
mark("deliver", "second");
console.log(tracing);
`;

function run(withClock: boolean, env: Record<string, string>) {
  const p = Bun.spawnSync([process.execPath, "-e", script(withClock)], { env: { ...process.env, ...env }, stderr: "pipe" });
  expect(p.stderr.toString()).toBe("");
  return p.stdout.toString().trim();
}

test("mark() writes CLOCK_MONOTONIC µs, stage and key (tabs escaped) at exit, in order", () => {
  const file = join(dir, "on.tsv");
  const before = nativeAddon()!.kmsgClock().monotonic_us;
  expect(run(true, { STOREVENTD_STAGE_TRACE: file })).toBe("true");
  const after = nativeAddon()!.kmsgClock().monotonic_us;
  const rows = readFileSync(file, "utf8").trim().split("\n").map((l) => l.split("\t"));
  expect(rows.map((r) => r.slice(1))).toEqual([["record", "sd 2:0:0:1: tab here"], ["deliver", "second"]]);
  const [t1, t2] = rows.map((r) => Number(r[0]));
  expect(t1).toBeGreaterThan(before);
  expect(t2! - t1!).toBeGreaterThanOrEqual(4000); // the 5 ms sleep, in µs
  expect(t2).toBeLessThan(after);
});

test("without STOREVENTD_STAGE_TRACE, or without a clock, nothing is recorded", () => {
  expect(run(true, { STOREVENTD_STAGE_TRACE: "" })).toBe("false");
  const file = join(dir, "noclock.tsv");
  expect(run(false, { STOREVENTD_STAGE_TRACE: file })).toBe("true");
  expect(() => readFileSync(file)).toThrow();
});
