// Option helpers shared by the DRBD plugins: drbd-reactor spells durations as integer seconds,
// storeventd as "5s"/"250ms"/"1m" strings; both are accepted (src/util/duration.ts).
import * as v from "valibot";
import { parseDuration } from "../util/duration.ts";

/** A valibot schema for a duration (string or seconds) that outputs milliseconds. */
export function durationSchema(description: string, fallback: string | number) {
  return v.pipe(
    v.optional(v.union([v.string(), v.number()]), fallback),
    v.check((x) => parseDuration(x) !== undefined, "expected a duration like \"5s\", \"250ms\", \"1m\" or a number of seconds"),
    v.transform((x) => parseDuration(x)!),
    v.description(description),
  );
}
