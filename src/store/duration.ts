// Durations as config and the CLI write them: "250ms", "1s", "5m", "1h", "30d", "2w" (or a sum,
// "1h30m"). Sizes: "256MB", "1GiB", "4096".
const UNIT_US: Record<string, number> = {
  us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6, w: 7 * 86400e6,
};
const SIZE: Record<string, number> = {
  "": 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1 << 20, g: 1e9, gb: 1e9, gib: 1 << 30,
};

/** µs, or undefined when `s` is not a duration. */
export function parseDurationUs(s: string): number | undefined {
  const text = s.trim();
  if (!/^(\d+(\.\d+)?(us|ms|s|m|h|d|w))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h|d|w)/g)) total += Number(m[1]) * UNIT_US[m[2]!]!;
  return Math.round(total);
}

/** Bytes, or undefined when `s` is not a size. */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(s.trim());
  const mult = m ? SIZE[m[2]!.toLowerCase()] : undefined;
  return m && mult !== undefined ? Math.round(Number(m[1]) * mult) : undefined;
}
