// The reader-thread pattern on a real pipe: batches arrive in order, long lines are cut and
// flagged, EOF ends the reader, and close() stops a reader blocked on an idle fd (eventfd wake).
import { expect, test } from "bun:test";
import { closeSync, writeSync } from "node:fs";
import { nativeAddon, type NativeReader } from "../../src/native.ts";

const addon = nativeAddon();

function collect(reader: NativeReader) {
  const lines: string[] = [];
  const flags: number[] = [];
  let error: string | null = null;
  const done = new Promise<void>((resolve) => {
    reader.start((bytes, ends, nums, _lost, err) => {
      let s = 0;
      for (let i = 0; i < ends.length; i++) {
        lines.push(bytes.toString("utf8", s, ends[i]));
        flags.push(nums[i]!);
        s = ends[i]!;
      }
      if (err) {
        error = err;
        resolve();
      }
    });
  });
  return { lines, flags, done, error: () => error };
}

test("addon loads and reports its features", () => {
  expect(addon).not.toBeNull();
  expect(addon!.capabilities().features).toEqual(expect.arrayContaining(["line-reader", "pipe", "unix-dgram"]));
});

test("LineReader delivers 100k lines in order, cuts long lines, keeps a last partial line", async () => {
  const [r, w] = addon!.pipe();
  const reader = new addon!.LineReader(r, 64);
  const got = collect(reader);
  const want: string[] = [];
  let chunk = "";
  for (let i = 0; i < 100_000; i++) {
    const line = i % 10_000 === 0 ? "x".repeat(200) : `line ${i} ${"é".repeat(i % 7)}`;
    want.push(line.length > 64 ? "x".repeat(64) : line);
    chunk += line + "\n";
    if (chunk.length > 50_000) {
      writeSync(w, chunk);
      chunk = "";
    }
  }
  writeSync(w, chunk + "tail-without-newline");
  closeSync(w);
  await got.done;
  reader.close();
  expect(got.lines).toEqual([...want, "tail-without-newline"]);
  expect(got.flags.filter((f) => f === 1)).toHaveLength(10);
  expect(got.error()).toBe("eof");
});

test("LineReader.close() wakes a reader blocked on an idle pipe and is idempotent", async () => {
  const [r, w] = addon!.pipe();
  const reader = new addon!.LineReader(r);
  const got = collect(reader);
  writeSync(w, "one\n");
  while (got.lines.length < 1) await Bun.sleep(5);
  const t0 = performance.now();
  reader.close();
  reader.close();
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(got.lines).toEqual(["one"]);
  closeSync(w);
});
