// The SEQNUM window (numeric ring + open-addressing table) against the plain definition: a
// SEQNUM is "seen" when it is among the last n distinct SEQNUMs recorded.
import { describe, expect, test } from "bun:test";
import { SeqWindow } from "./classify.ts";

/** The definition, written the slow way: a list of the last n recorded values. */
function reference(n: number) {
  const last: string[] = [];
  return (seq: string): boolean => {
    if (last.includes(seq)) return true;
    last.push(seq);
    if (last.length > n) last.shift();
    return false;
  };
}

/** Deterministic pseudo-random numbers (xorshift32), so a failure is reproducible. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

describe("SeqWindow", () => {
  test("kernel then udevd copy of each SEQNUM: the second is a duplicate", () => {
    const w = new SeqWindow(16);
    expect(w.seen("4711")).toBe(false);
    expect(w.seen("4711")).toBe(true);
    expect(w.seen("4712")).toBe(false);
    expect(w.seen("4712")).toBe(true);
  });

  test("a SEQNUM older than the window is new again", () => {
    const w = new SeqWindow(16);
    for (let i = 1; i <= 16; i++) expect(w.seen(String(i))).toBe(false);
    expect(w.seen("1")).toBe(true);
    expect(w.seen("17")).toBe(false); // evicts "1"
    expect(w.seen("1")).toBe(false);
    expect(w.seen("2")).toBe(false); // "1" took the slot of "2"
  });

  test("strings that are not canonical decimals stay distinct from the numbers", () => {
    const w = new SeqWindow(16);
    expect(w.seen("12")).toBe(false);
    expect(w.seen("012")).toBe(false);
    expect(w.seen("012")).toBe(true);
    expect(w.seen("1e1")).toBe(false);
    expect(w.seen("10")).toBe(false);
    expect(w.seen("")).toBe(false);
    expect(w.seen("")).toBe(true);
    expect(w.seen("18446744073709551615")).toBe(false); // u64 max: beyond 2^53, kept as a string
    expect(w.seen("18446744073709551615")).toBe(true);
    expect(w.seen("9007199254740991")).toBe(false); // 16 digits: a string too
    expect(w.seen("900719925474099")).toBe(false);
    expect(w.seen("900719925474099")).toBe(true);
  });

  for (const [n, range, seed] of [[16, 40, 1], [16, 1000, 2], [4096, 9000, 3], [100, 150, 4]] as const) {
    test(`same answers as the definition: window ${n}, SEQNUMs from a range of ${range}`, () => {
      const w = new SeqWindow(n);
      const ref = reference(n);
      const r = rng(seed);
      let dups = 0;
      for (let i = 0; i < 30000; i++) {
        // Mostly rising like the kernel's counter, with repeats (udevd's copies) and stragglers.
        const seq = String(1_000_000_000_000 + (r() % range) + (r() % 4 === 0 ? i : 0));
        const want = ref(seq);
        if (want) dups++;
        expect(w.seen(seq)).toBe(want);
      }
      expect(dups).toBeGreaterThan(100);
    });
  }
});
