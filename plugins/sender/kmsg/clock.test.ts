// The kmsg fallback's printk clock: CLOCK_MONOTONIC (as printk's local_clock()), not CLOCK_BOOTTIME
// from /proc/uptime, which is late by every suspend since boot. Checked against the addon's
// clock_gettime(CLOCK_MONOTONIC) read alongside.
import { expect, test } from "bun:test";
import { nativeAddon } from "../../../src/plugin-kit/readers.ts";
import { printkClockOffsetUs, printkClockSource, timerListMonotonicUs } from "./index.ts";

const addon = nativeAddon();

test("without the addon the offset is CLOCK_REALTIME - CLOCK_MONOTONIC, from /proc/timer_list", () => {
  expect(addon?.kmsgClock).toBeDefined();
  // Bracketed by two addon readings: on a loaded machine reading /proc/timer_list can take longer
  // than any fixed bound, and a wall-clock step (clock-step-real.test.ts) may fall in between.
  const c0 = addon!.kmsgClock!();
  const mono = timerListMonotonicUs();
  const c1 = addon!.kmsgClock!();
  expect(mono).toBeDefined();
  expect(mono!).toBeGreaterThanOrEqual(c0.monotonic_us - 1);
  expect(mono!).toBeLessThanOrEqual(c1.monotonic_us + 1);
  const d0 = addon!.kmsgClock!();
  const offset = printkClockOffsetUs(null);
  const d1 = addon!.kmsgClock!();
  // Its wall and monotonic readings are at most the bracket apart; off by more only when the wall
  // clock stepped in between, and then it is one side's offset or the other's.
  const slack = d1.monotonic_us - d0.monotonic_us + 1_000;
  const near = (c: { realtime_us: number; monotonic_us: number }) => Math.abs(offset - (c.realtime_us - c.monotonic_us)) <= slack;
  expect(near(d0) || near(d1)).toBe(true);
  expect(slack).toBeLessThan(1_000_000); // a bracket this wide would prove nothing
  expect(printkClockSource(null)).toBe("CLOCK_MONOTONIC (/proc/timer_list)");
  expect(printkClockSource(addon)).toBe("CLOCK_MONOTONIC (addon)");
});
