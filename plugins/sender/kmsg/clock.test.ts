// The kmsg fallback's printk clock: CLOCK_MONOTONIC (as printk's local_clock()), not CLOCK_BOOTTIME
// from /proc/uptime, which is late by every suspend since boot. Checked against the addon's
// clock_gettime(CLOCK_MONOTONIC) read alongside.
import { expect, test } from "bun:test";
import { nativeAddon } from "../../../src/plugin-kit/readers.ts";
import { printkClockOffsetUs, printkClockSource, timerListMonotonicUs } from "./index.ts";

const addon = nativeAddon();

test("without the addon the offset is CLOCK_REALTIME - CLOCK_MONOTONIC, from /proc/timer_list", () => {
  expect(addon?.kmsgClock).toBeDefined();
  const c = addon!.kmsgClock!();
  const mono = timerListMonotonicUs();
  expect(mono).toBeDefined();
  expect(Math.abs(mono! - c.monotonic_us)).toBeLessThan(5_000);
  expect(Math.abs(printkClockOffsetUs(null) - (c.realtime_us - c.monotonic_us))).toBeLessThan(5_000);
  expect(printkClockSource(null)).toBe("CLOCK_MONOTONIC (/proc/timer_list)");
  expect(printkClockSource(addon)).toBe("CLOCK_MONOTONIC (addon)");
});
