// Option helpers shared by the DRBD plugins: drbd-reactor spells durations as integer seconds,
// storeventd as "5s"/"250ms"/"1m" strings; the one Duration schema takes both.
import * as v from "valibot";
import { Duration } from "../config/schema.ts";

/** Duration (string or seconds, outputs milliseconds) with its default and its doc. */
export function durationSchema(description: string, fallback: string | number) {
  return v.pipe(v.optional(Duration, fallback), v.description(description));
}
