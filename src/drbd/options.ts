// Option helpers shared by the DRBD plugins: drbd-reactor spells durations as integer seconds,
// storeventd as "5s"/"250ms"/"1m" strings; both are accepted (src/util/duration.ts).
import * as v from "valibot";
import { Duration } from "../config/schema.ts";

/** The shared Duration (string or seconds, outputs milliseconds) with a default and its doc. */
export function durationSchema(description: string, fallback: string | number) {
  return v.pipe(v.optional(Duration, fallback), v.description(description));
}
