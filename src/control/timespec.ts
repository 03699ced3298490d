// Time arguments of the control API and the CLI: RFC 3339 ("2026-11-26T01:00:00Z", µs allowed),
// a date ("2026-11-26", UTC midnight), "now", or a duration ago ("90s", "1h", "2d", "1h30m").
import { parseDuration } from "../util/duration.ts";
import { parseTime } from "../event.ts";

const RFC3339 = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)?$/i;

/** µs since the epoch, or undefined when `s` is none of the accepted forms. */
export function parseTimeSpec(s: string, nowUs: number): number | undefined {
  const text = s.trim();
  if (text === "now") return nowUs;
  const ago = parseDuration(text.replace(/^-/, "").replace(/\s*ago$/, ""));
  if (ago !== undefined) return nowUs - ago * 1000;
  if (/^\d{4}-\d\d-\d\d$/.test(text)) return Date.parse(text + "T00:00:00Z") * 1000;
  if (RFC3339.test(text)) {
    const norm = text.replace(" ", "T").replace(/\.(\d{6})\d+/, ".$1");
    const us = parseTime(/(Z|[+-]\d\d:?\d\d)$/i.test(norm) ? norm : norm + "Z");
    return Number.isFinite(us) ? us : undefined;
  }
  return undefined;
}

export const TIMESPEC_HELP = 'RFC 3339 time (2026-11-26T01:00:00Z), a date (2026-11-26), "now", or an age like 90s, 15m, 1h, 2d';
