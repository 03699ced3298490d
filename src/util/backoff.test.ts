import { describe, expect, test } from "bun:test";
import { Backoff, retry, sleep } from "../../src/util/backoff.ts";

describe("Backoff", () => {
  test("Backoff.next() grows by multiplier up to maxTimeout without jitter", () => {
    const b = new Backoff({ minTimeout: 100, multiplier: 3, maxTimeout: 2000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 300, 900, 2000, 2000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  test("Backoff.next() takes up to `jitter` of each delay off", () => {
    const rnd = [0, 0.5, 0.99];
    const b = new Backoff({ minTimeout: 1000, multiplier: 1, maxTimeout: 1000, jitter: 0.5, random: () => rnd.shift()! });
    expect([b.next(), b.next(), b.next()]).toEqual([1000, 750, 505]);
  });

  test("Backoff rejects nonsense options", () => {
    expect(() => new Backoff({ minTimeout: 10, maxTimeout: 5 })).toThrow(RangeError);
    expect(() => new Backoff({ jitter: 2 })).toThrow(RangeError);
    expect(() => new Backoff({ multiplier: 0.5 })).toThrow(RangeError);
  });
});

describe("sleep() and retry()", () => {
  test("sleep() resolves false as soon as the signal aborts", async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    const p = sleep(10_000, ac.signal);
    setTimeout(() => ac.abort(), 20);
    expect(await p).toBe(false);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  test("retry() retries until success and gives up after maxAttempts", async () => {
    let calls = 0;
    const v = await retry(async () => {
      if (++calls < 3) throw new Error("again");
      return 42;
    }, { minTimeout: 1, maxTimeout: 2 });
    expect([v, calls]).toEqual([42, 3]);
    let n = 0;
    await expect(retry(async () => { n++; throw new Error("never"); }, { minTimeout: 1, maxTimeout: 1, maxAttempts: 4 }))
      .rejects.toThrow("never");
    expect(n).toBe(4);
  });
});
