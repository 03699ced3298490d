// Option helpers shared by the DRBD plugins (drbd-reactor spells durations as integer seconds,
// storeventd as "5s"/"250ms"/"1m" strings: both are accepted).
import * as v from "valibot";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of "250ms" | "5s" | "1m" | "1h" | "1.5s" | a number of seconds; NaN if invalid. */
export function durationMs(x: string | number): number {
  if (typeof x === "number") return x >= 0 ? x * 1000 : NaN;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(x);
  if (!m) return NaN;
  return Number(m[1]) * UNIT_MS[m[2] ?? "s"]!;
}

/** A valibot schema for a duration (string or seconds) that outputs milliseconds. */
export function durationSchema(description: string, fallback: string | number) {
  return v.pipe(
    v.optional(v.union([v.string(), v.number()]), fallback),
    v.check((x) => Number.isFinite(durationMs(x)), "expected a duration like \"5s\", \"250ms\", \"1m\" or a number of seconds"),
    v.transform((x) => durationMs(x)),
    v.description(description),
  );
}
