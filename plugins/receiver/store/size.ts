// Sizes as config writes them: "256MB", "1GiB", "512k", "4096" (bytes).
const SIZE: Record<string, number> = {
  "": 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1 << 20, g: 1e9, gb: 1e9, gib: 1 << 30,
};

/** Bytes, or undefined when `s` is not a size. */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(s.trim());
  const mult = m ? SIZE[m[2]!.toLowerCase()] : undefined;
  return m && mult !== undefined ? Math.round(Number(m[1]) * mult) : undefined;
}
