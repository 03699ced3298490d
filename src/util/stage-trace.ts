// Per-stage timestamps of the event path, for profiling its latency (bench/latency.bench.ts).
// Off unless STOREVENTD_STAGE_TRACE names a file: then mark(stage, key) keeps
// "<CLOCK_MONOTONIC µs>\t<stage>\t<key>" lines in memory and appends them asynchronously every
// second and once at exit. Bun's own clocks count from process start, so the first mark reads the
// addon's CLOCK_MONOTONIC once and later marks add performance.now() to it: comparable across
// processes (the bench, a plain C reader) to about a microsecond.
import { appendFileSync } from "node:fs";
import { fsPromisesLib } from "./lazy-builtins.ts";

const path = process.env.STOREVENTD_STAGE_TRACE ?? "";
let lines: string[] = [];
let inflight = "";
let base = NaN;
let clock: (() => number) | undefined;
let flushing: ReturnType<typeof setInterval> | undefined;

/** True when tracing is on: callers skip building keys otherwise. */
export const tracing = path !== "";

/** Gives the trace its CLOCK_MONOTONIC source (µs); without one, marks are not recorded. */
export function traceClock(monotonicUs: () => number): void {
  if (!tracing || clock) return;
  clock = monotonicUs;
  base = monotonicUs() - performance.now() * 1000;
  flushing = setInterval(() => void flush(), 1000);
  flushing.unref();
  // At exit a write still in flight may not have landed: written again (readers take the first
  // mark of a stage, so a repeat is harmless and a loss is not).
  process.on("exit", () => {
    const rest = inflight + lines.join("");
    if (rest) appendFileSync(path, rest);
    lines = [];
  });
}

/** Records that `key` (a record's raw text) passed `stage` now. */
export function mark(stage: string, key: string): void {
  if (!clock) return;
  lines.push(`${(base + performance.now() * 1000).toFixed(1)}\t${stage}\t${key.replace(/[\t\n]/g, " ")}\n`);
}

async function flush(): Promise<void> {
  if (!lines.length || inflight) return;
  inflight = lines.join("");
  lines = [];
  await fsPromisesLib().appendFile(path, inflight).catch(() => {});
  inflight = "";
}
