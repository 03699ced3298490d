import { describe, expect, test } from "bun:test";
import { literalPrefix } from "./regex-prefix.ts";

describe("literalPrefix()", () => {
  test("takes the literal text after ^, through escapes and plain leading groups", () => {
    expect(literalPrefix(/^XFS \((?<dev>[^)]+)\): x/)).toBe("XFS (");
    expect(literalPrefix(/^nvme (?<ctrl>nvme\d{1,5}): x/)).toBe("nvme nvme");
    expect(literalPrefix(/^(?:md\/raid)(\d)/)).toBe("md/raid");
    expect(literalPrefix(/^Critical Warning \(0x/)).toBe("Critical Warning (0x");
  });

  test("stops where the next character is optional, counted or repeated", () => {
    expect(literalPrefix(/^abc?d/)).toBe("ab");
    expect(literalPrefix(/^ab*c/)).toBe("a");
    expect(literalPrefix(/^ab{2}c/)).toBe("a");
    expect(literalPrefix(/^ab+c/)).toBe("ab");
    expect(literalPrefix(/^ ?x/)).toBe("");
  });

  test("gives nothing certain for alternatives, optional groups, lookarounds, classes and flags", () => {
    expect(literalPrefix(/^abc|^def/)).toBe("");
    expect(literalPrefix(/^abc|x/)).toBe("");
    expect(literalPrefix(/^(?:ab|cd)e/)).toBe("");
    expect(literalPrefix(/^(?:ab)?c/)).toBe("");
    expect(literalPrefix(/^(?:ab)+c/)).toBe("");
    expect(literalPrefix(/^(ab)c/)).toBe(""); // a capturing group: not entered
    expect(literalPrefix(/^(?!md)md/)).toBe("");
    expect(literalPrefix(/^(?<=x)a/)).toBe("");
    expect(literalPrefix(/^[a-z]b/)).toBe("");
    expect(literalPrefix(/^\dab/)).toBe("");
    expect(literalPrefix(/^abc/i)).toBe("");
    expect(literalPrefix(/^abc/m)).toBe("");
    expect(literalPrefix(/abc/)).toBe("");
    // A "|" inside a class or escaped is no alternative.
    expect(literalPrefix(/^ab[|]c/)).toBe("ab");
    expect(literalPrefix(/^ab\|c/)).toBe("ab|c");
  });

  test("every match starts with the prefix (random strings against generated patterns)", () => {
    const parts = ["a", "b", "\\(", "(?:a)", "(?<n>b)", "c?", "d*", "e+", "[ab]", "(?:a|b)", "f{1,2}", "\\d", " "];
    let seed = 7;
    let matched = 0;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (let k = 0; k < 3000; k++) {
      let src = "^";
      for (let j = 1 + rnd(5); j > 0; j--) src += parts[rnd(parts.length)]!.replace("<n>", `<n${j}>`);
      const re = new RegExp(src);
      const prefix = literalPrefix(re);
      for (let t = 0; t < 20; t++) {
        let s = "";
        for (let j = rnd(8); j > 0; j--) s += "ab(cdef1 "[rnd(9)];
        if (re.test(s)) (matched++, expect(s.startsWith(prefix)).toBe(true));
      }
    }
    expect(matched).toBeGreaterThan(1000);
  });
});
