import { expect, test } from "bun:test";
import { BAD_TEXT, recordLines } from "./ktext.ts";

test("recordLines() splits at escaped and real newlines and drops empty lines", () => {
  expect(recordLines("a.\\x0ab.")).toEqual(["a.", "b."]);
  expect(recordLines("a.\nb.\n")).toEqual(["a.", "b."]);
  expect(recordLines("plain")).toEqual(["plain"]);
});

test("BAD_TEXT flags raw NUL and replacement characters only", () => {
  expect([BAD_TEXT.test("a\0b"), BAD_TEXT.test("a\ufffdb"), BAD_TEXT.test("caf\u00e9 \\x00")]).toEqual([true, true, false]);
});
