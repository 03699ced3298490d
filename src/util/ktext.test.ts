import { expect, test } from "bun:test";
import { BAD_TEXT, invalidText, recordLines } from "./ktext.ts";

test("recordLines() splits at escaped and real newlines and drops empty lines", () => {
  expect(recordLines("a.\\x0ab.")).toEqual(["a.", "b."]);
  expect(recordLines("a.\nb.\n")).toEqual(["a.", "b."]);
  expect(recordLines("plain")).toEqual(["plain"]);
});

test("BAD_TEXT flags raw NUL and replacement characters only", () => {
  expect([BAD_TEXT.test("a\0b"), BAD_TEXT.test("a\ufffdb"), BAD_TEXT.test("caf\u00e9 \\x00")]).toEqual([true, true, false]);
});

test("invalidText() counts every invalid line and logs its kind once", () => {
  const counts: string[] = [];
  const logs: string[] = [];
  const seen = new Set<string>();
  const guard = { count: (n: string) => void counts.push(n), log: { once: (k: string, m: string) => void (seen.has(k) || (seen.add(k), logs.push(m))) } };
  expect([invalidText("ok line", guard), invalidText("x\ufffd", guard), invalidText("y\0", guard)]).toEqual([false, true, true]);
  expect(counts).toEqual(["records_invalid_text", "records_invalid_text"]);
  expect(logs.length).toBe(1);
});
