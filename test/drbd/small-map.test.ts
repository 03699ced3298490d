// SmallMap (the model's compact per-object collections) against a real Map: the same answers and
// the same iteration order after every step of a seeded random mix of set/delete/get/has/clear.
import { describe, expect, test } from "bun:test";
import { SmallMap } from "../../src/drbd/small-map.ts";

describe("SmallMap", () => {
  test("behaves as Map over 5000 random operations", () => {
    let seed = 15;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const keys = [0, 1, 2, 3, 7, NaN, -0];
    const m = new Map<number, string>();
    const s = new SmallMap<number, string>();
    for (let i = 0; i < 5000; i++) {
      const k = keys[rnd(keys.length)]!;
      const op = rnd(10);
      if (op < 5) expect(s.set(k, `v${i}`)).toBe(s), m.set(k, `v${i}`);
      else if (op < 8) expect(s.delete(k)).toBe(m.delete(k));
      else if (op < 9) expect([s.get(k), s.has(k)]).toEqual([m.get(k), m.has(k)]);
      else if (rnd(20) === 0) s.clear(), m.clear();
      expect(s.size).toBe(m.size);
      expect([...s]).toEqual([...m]);
    }
    expect([...s.keys()]).toEqual([...m.keys()]);
    expect([...s.values()]).toEqual([...m.values()]);
    const seen: [string, number][] = [];
    s.forEach((v, k, self) => {
      expect(self).toBe(s);
      seen.push([v, k]);
    });
    expect(seen).toEqual([...m].map(([k, v]) => [v, k]));
  });

  test("an empty one iterates nothing and finds nothing", () => {
    const s = new SmallMap<string, number>();
    expect([s.size, s.get("a"), s.has("a"), s.delete("a"), [...s]]).toEqual([0, undefined, false, false, []]);
  });
});
