import { expect, test } from "bun:test";
import { Backoff, backoffDelay, retry, sleep } from "./backoff.ts";

test("backoffDelay() grows by the multiplier up to maxTimeout; jitter takes off at most its fraction", () => {
  const none = { minTimeout: 100, multiplier: 2, maxTimeout: 1000, jitter: 0 };
  expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, none))).toEqual([100, 200, 400, 800, 1000, 1000]);
  const half = { ...none, jitter: 0.5 };
  expect(backoffDelay(2, half, () => 0)).toBe(400);
  expect(backoffDelay(2, half, () => 1)).toBe(200);
  expect(backoffDelay(2, half, () => 0.5)).toBe(300);
  expect(backoffDelay(3, { ...none, jitter: 1 }, () => 0.999)).toBe(1);
  expect(backoffDelay(-3, none)).toBe(100);
});

test("sleep() resolves true after the time, false at once when the signal aborts", async () => {
  expect(await sleep(5)).toBe(true);
  const ac = new AbortController();
  const t0 = performance.now();
  const p = sleep(10_000, ac.signal);
  ac.abort();
  expect(await p).toBe(false);
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(await sleep(10_000, ac.signal)).toBe(false);
});

test("retry() retries until success, reports each retry, and stops at attempts or a non-retriable error", async () => {
  const seen: number[] = [];
  let calls = 0;
  const v = await retry(async (i) => {
    calls++;
    if (i < 2) throw new Error(`fail ${i}`);
    return "ok";
  }, { attempts: 5, minTimeout: 1, jitter: 0, onRetry: (_e, a) => void seen.push(a) });
  expect([v, calls, seen]).toEqual(["ok", 3, [0, 1]]);

  calls = 0;
  await expect(retry(async () => { calls++; throw new Error("always"); }, { attempts: 3, minTimeout: 1 })).rejects.toThrow("always");
  expect(calls).toBe(3);

  calls = 0;
  await expect(retry(async () => { calls++; throw new Error("fatal"); }, { attempts: 9, minTimeout: 1, isRetriable: () => false })).rejects.toThrow("fatal");
  expect(calls).toBe(1);
});

test("Backoff.next() waits longer each time and reset() starts over", async () => {
  const b = new Backoff({ minTimeout: 10, multiplier: 3, jitter: 0 });
  const t = async () => {
    const t0 = performance.now();
    await b.next();
    return performance.now() - t0;
  };
  const a = await t();
  const c = await t();
  expect(a).toBeGreaterThanOrEqual(9);
  expect(c).toBeGreaterThanOrEqual(29);
  expect(b.attempt).toBe(2);
  b.reset();
  expect(b.attempt).toBe(0);
});
