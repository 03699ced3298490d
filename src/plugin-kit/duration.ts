// Durations: parseDuration ("250ms", "1h30m", bare seconds) and the config schemas built on it.
export { parseDuration } from "../util/duration.ts";
export { Duration } from "../config/schema.ts";
export { durationSchema } from "../drbd/options.ts";
