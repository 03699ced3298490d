// Native (native/src/kmsg_record.cc via kmsgDecode) and TypeScript (src/kmsg/record.ts) decoders
// must produce identical records: every fixture case, hostile records and a 100k-record stream.
import { describe, expect, test } from "bun:test";
import { decodeKmsgRecord, splitKmsgRecords } from "../src/kmsg/record.ts";
import { decodeNative, fixtureCases, generateStream, view } from "./kmsg-fixtures.ts";

function decodeTs(input: Buffer): ReturnType<typeof view>[] {
  return [...splitKmsgRecords(input.toString("utf8"))].map((r) => view(decodeKmsgRecord(r)));
}

function expectSame(input: Buffer): number {
  const ts = decodeTs(input);
  const native = decodeNative(input).map(view);
  expect(native.length).toBe(ts.length);
  for (let i = 0; i < ts.length; i++) if (JSON.stringify(native[i]) !== JSON.stringify(ts[i])) expect(native[i]).toEqual(ts[i]!);
  return ts.length;
}

describe("kmsg decoders: native equals TypeScript", () => {
  for (const c of fixtureCases()) {
    test(`fixture ${c.name}`, () => {
      expect(expectSame(c.input)).toBeGreaterThan(5);
    });
  }

  test("a 100k-record generated stream", () => {
    const input = Buffer.from(generateStream(100_000, 7));
    expect(expectSame(input)).toBe(100_000);
  });

  test("hostile records: 10 MB message, 10 MB of escapes, NUL, invalid UTF-8, truncated", () => {
    const parts = [
      Buffer.from(`3,1,2,-;${"x".repeat(10 << 20)}\n SUBSYSTEM=block\n`),
      Buffer.from(`3,2,2,-;${"\\xe2\\x82\\xac".repeat(100_000)}\\xe2\\x82\n`),
      Buffer.from(`3,3,2,-;${"\\xc3".repeat(1000)}\\xa9${"\\x41".repeat(255)}\\xf0\\x9f\\x98\\x80\n`),
      Buffer.from([...Buffer.from("6,4,2,-;nul"), 0, 0xff, 0xed, 0xa0, 0x80, ...Buffer.from("\\xc3\\xa9"), 0xc3, 0x0a]),
      Buffer.from([0xe2, 0x82, ...Buffer.from("\\xac"), 0x80, ...Buffer.from(";6,5,2,-;\n")]),
      Buffer.from("6,6,2,-;cut\n SUBSYSTEM=sc\n DEV"),
    ];
    expect(expectSame(Buffer.concat(parts))).toBe(6);
  });

  test("random bytes around record syntax", () => {
    let x = 12345;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const alphabet = ["6", ",", ";", "-", "c", "\n", " ", "=", "\\", "x", "e", "2", "8", "a", "\\xc3\\xa9", "\u00e9", "\0", "9"];
    const chunks: Buffer[] = [];
    for (let i = 0; i < 200_000; i++) {
      chunks.push(rnd() < 0.02 ? Buffer.from([Math.floor(rnd() * 256)]) : Buffer.from(alphabet[Math.floor(rnd() * alphabet.length)]!));
    }
    expect(expectSame(Buffer.concat(chunks))).toBeGreaterThan(100);
  });
});
