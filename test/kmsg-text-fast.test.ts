// decodeKmsgText() decodes a one-line raw record with its header read once (rawLine in
// src/kmsg/decode.ts); decodeKmsgRecord() is the general decoder (and the native one's twin). On
// generated lines, valid and broken, both must agree: the same record, the same refusal, and the
// same lines left to the text forms (those RAW_RE does not take).
import { describe, expect, test } from "bun:test";
import { decodeKmsgRecord, decodeKmsgText, KmsgStatus, type KmsgTextStats } from "../src/kmsg/decode.ts";

const RAW_RE = /^\d+,\d+,\d+,[^;]*;/;

function lines(): string[] {
  const pick = <T>(xs: readonly T[], i: number) => xs[i % xs.length]!;
  const nums = ["0", "6", "3", "14", "191", "12345678901", "9007199254740991", "9007199254740992", "99999999999999999999", "", "x", "-1", "0x1f"];
  const flags = ["-", "c", "+", "", "--", "zz", "-,caller=T1", "c,x", "+;", ",", "-,", "\u00e9"];
  const msgs = ["sd 2:0:0:0: [sda] tag#1 Sense Key : Medium Error [current]", "", "a;b", "caf\\xc3\\xa9 \\x0a", "x\\x00y", "\\x", "tail\r", " lead", "\u00e9\u4e2d"];
  const out: string[] = [];
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed >>> 8); // the low bits cycle
  for (let i = 0; i < 4000; i++) {
    const parts = [pick(nums, rnd()), pick(nums, rnd()), pick(nums, rnd())];
    let l = `${parts.join(",")},${pick(flags, rnd())};${pick(msgs, rnd())}`;
    if (rnd() % 7 === 0) l = l.replace(";", ""); // no semicolon
    if (rnd() % 11 === 0) l = l.replace(",", ""); // a missing comma
    out.push(l);
  }
  return out;
}

describe("decodeKmsgText() one-line raw records", () => {
  test("decode as decodeKmsgRecord() does, refuse what it refuses, and leave non-raw lines to the text forms", () => {
    let ok = 0;
    let bad = 0;
    let text = 0;
    for (const line of lines()) {
      const stats: KmsgTextStats = { records: 0, bad: 0 };
      const got = [...decodeKmsgText(line, "replay", stats)];
      const bare = line.endsWith("\r") ? line.slice(0, -1) : line;
      if (!RAW_RE.test(bare)) {
        text++;
        // A text form: never a raw record's fields (seq is the position, 0).
        expect(stats.bad).toBe(0);
        if (got.length) expect(got[0]!.seq).toBe(0);
        continue;
      }
      const want = decodeKmsgRecord(bare, "replay");
      if (want.status !== KmsgStatus.ok) {
        bad++;
        expect({ line, got: got.length, stats }).toEqual({ line, got: 0, stats: { records: 0, bad: 1 } });
        continue;
      }
      ok++;
      expect(got.length).toBe(1);
      expect({ ...got[0]!, props: { ...got[0]!.props } }).toEqual({ ...want.record, props: {} });
      expect(Object.keys(got[0]!)).toEqual(Object.keys(want.record));
    }
    // The generator reaches every branch.
    expect(ok).toBeGreaterThan(200);
    expect(bad).toBeGreaterThan(200);
    expect(text).toBeGreaterThan(200);
  });
});
