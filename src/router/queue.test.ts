import { expect, test } from "bun:test";
import { BoundedQueue } from "./queue.ts";

test("BoundedQueue.push() drops oldest when full and counts it", () => {
  const q = new BoundedQueue<number>(3, "drop_oldest");
  for (let i = 1; i <= 5; i++) q.push(i);
  expect(q.dropped).toBe(2);
  expect(q.tryTake(10)).toEqual({ state: "ok", values: [3, 4, 5] });
});

test("BoundedQueue.push() drop_newest refuses the new value", () => {
  const q = new BoundedQueue<number>(2, "drop_newest");
  expect(q.push(1)).toBeUndefined();
  q.push(2);
  expect(q.push(3)).toBe(3);
  expect(q.tryTake(10)).toEqual({ state: "ok", values: [1, 2] });
});

test("BoundedQueue.wait() wakes on push and on close; closed+empty reports closed", async () => {
  const q = new BoundedQueue<string>(4);
  const w = q.wait();
  q.push("a");
  await w;
  expect(q.tryTake(1)).toEqual({ state: "ok", values: ["a"] });
  expect(q.tryTake(1)).toEqual({ state: "empty" });
  const w2 = q.wait();
  q.close();
  await w2;
  expect(q.tryTake(1)).toEqual({ state: "closed" });
});

test("BoundedQueue keeps FIFO order across compaction", () => {
  const q = new BoundedQueue<number>(10000);
  const got: number[] = [];
  for (let i = 0; i < 20000; i++) {
    q.push(i);
    if (i % 3 === 0) {
      const r = q.tryTake(2);
      if (r.state === "ok") got.push(...r.values);
    }
  }
  for (let r = q.tryTake(100); r.state === "ok"; r = q.tryTake(100)) got.push(...r.values);
  expect(got).toEqual(Array.from({ length: 20000 }, (_, i) => i));
});
