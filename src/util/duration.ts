// Durations in config are strings like "250ms", "5s", "1m", "2h" (or a bare number of ms).
import * as v from "valibot";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) && text >= 0 ? text : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/** A valibot schema: "5s" -> 5000 (ms); rejects anything else with a readable message. */
export function duration(description: string, dflt: string) {
  return v.optional(
    v.pipe(
      v.union([v.string(), v.number()]),
      v.check((x) => parseDuration(x) !== undefined, 'expected a duration like "250ms", "5s", "1m"'),
      v.transform((x) => parseDuration(x)!),
      v.description(description),
    ),
    dflt,
  );
}
