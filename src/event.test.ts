import { expect, test } from "bun:test";
import { formatTime } from "./event.ts";

test("formatTime: RFC 3339 UTC with µs, right across second and day boundaries in any order", () => {
  // The second's text is reused within a second: going back and forth must never reuse a stale one.
  const cases: [number, string][] = [
    [0, "1970-01-01T00:00:00.000000Z"],
    [999_999, "1970-01-01T00:00:00.999999Z"],
    [1_000_001, "1970-01-01T00:00:01.000001Z"],
    [86_400_000_005, "1970-01-02T00:00:00.000005Z"],
    [500, "1970-01-01T00:00:00.000500Z"],
    [1_764_117_036_123_456, "2025-11-26T00:30:36.123456Z"],
    [1_764_117_036_999_999, "2025-11-26T00:30:36.999999Z"],
    [1_764_117_037_000_000, "2025-11-26T00:30:37.000000Z"],
  ];
  for (const [us, want] of cases) expect(formatTime(us)).toBe(want);
});
