// The test runner's own rules: the skip allow-list format, reading bun's output, the seeded shuffle.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ALLOW_FILE, OutputReader, readAllowList, shuffle, testFiles } from "./test-run.ts";

describe("readAllowList()", () => {
  test("reads FILE | NAME | REASON lines and rejects a line without a reason", () => {
    expect(readAllowList("# c\n\na.test.ts | D > t | no freezer\n")).toEqual([{ file: "a.test.ts", name: "D > t", reason: "no freezer" }]);
    expect(() => readAllowList("a.test.ts | D > t\n")).toThrow(`${ALLOW_FILE}:1:`);
  });
  test("the repository's allow-list parses", () => {
    expect(() => readAllowList(readFileSync(join(import.meta.dir, "../..", ALLOW_FILE), "utf8"))).not.toThrow();
  });
});

describe("OutputReader", () => {
  test("counts the summary and names each skipped or todo test with its file", () => {
    const r = new OutputReader();
    const out = [
      "test/a.test.ts:", "(pass) x [0.10ms]", "(skip) D1 > D2 > inner", "",
      "plugins/b/b.test.ts:", "\x1b[33m(todo)\x1b[0m later", "(fail) y [2.00ms]",
      " --seed=5", " 12 pass", " 1 skip", " 1 todo", " 3 fail", " 1 error", "Ran 18 tests across 2 files. [13.00ms]",
    ];
    for (const l of out) r.line(l);
    expect(r.tally).toEqual({ pass: 12, fail: 3, errors: 1, skips: ["test/a.test.ts | D1 > D2 > inner", "plugins/b/b.test.ts | later"] });
  });
});

describe("shuffle()", () => {
  test("the same seed gives the same order, another seed another one, and no file is lost", () => {
    const files = testFiles();
    expect(files.length).toBeGreaterThan(50);
    expect(files).toContain("src/tools/test-run.test.ts");
    expect(files.some((f) => f.startsWith("node_modules/"))).toBe(false);
    const a = shuffle(files, 42);
    expect(shuffle(files, 42)).toEqual(a);
    expect(shuffle(files, 43)).not.toEqual(a);
    expect([...a].sort()).toEqual(files);
  });
});
