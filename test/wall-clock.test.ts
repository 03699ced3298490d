// Event times (nowUs) follow the machine's wall clock when it steps (chrony's makestep at boot, an
// admin's `date -s`), in microseconds. performance.timeOrigin + performance.now() alone would stay
// on the step-less clock of the process start for good. Steps the real CLOCK_REALTIME, briefly, and
// restores it from the monotonic clock.
import { expect, setSystemTime, test } from "bun:test";
import { nowUs } from "../src/event.ts";
import { setRealtimeMs } from "./helpers/realtime.ts";

/** nowUs() lies within Date.now()'s millisecond, read around it. */
function expectOnWallClock(): void {
  for (let i = 0; i < 1000; i++) {
    const before = Date.now();
    const us = nowUs();
    const after = Date.now();
    expect(us).toBeGreaterThanOrEqual(before * 1000);
    expect(us).toBeLessThan((after + 1) * 1000);
  }
}

test("nowUs() is the wall clock in microseconds, not milliseconds", () => {
  expectOnWallClock();
  const subMs = new Set<number>();
  for (let i = 0; i < 200; i++) subMs.add(nowUs() % 1000);
  expect(subMs.size).toBeGreaterThan(20);
});

test("nowUs() follows a real step of the wall clock, both ways", () => {
  const wall0 = Date.now(), mono0 = performance.now();
  const fromStart = () => performance.timeOrigin + performance.now();
  try {
    for (const stepMs of [3_600_000, -86_400_000]) {
      setRealtimeMs(Date.now() + stepMs);
      // The step-less reading is now off by the step: a nowUs() built on it fails below.
      expect(Math.abs(fromStart() - Date.now())).toBeGreaterThan(Math.abs(stepMs) / 2);
      expectOnWallClock();
      setRealtimeMs(wall0 + (performance.now() - mono0));
      expectOnWallClock();
    }
  } finally {
    setRealtimeMs(wall0 + (performance.now() - mono0));
  }
});

test("a frozen clock (bun:test's setSystemTime) gives its time at once, call after call", () => {
  const at = Date.parse("2030-01-01T00:00:00Z");
  setSystemTime(new Date(at));
  try {
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) expect(Math.floor(nowUs() / 1000)).toBe(at);
    expect(performance.now() - t0).toBeLessThan(1000); // no waiting for a tick that never comes
  } finally {
    setSystemTime();
  }
  expectOnWallClock();
});
