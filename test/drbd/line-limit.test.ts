// The fallback reader's line limit counts bytes, as the native reader's does: a line of multi-byte
// characters whose UTF-16 length fits but whose UTF-8 length does not is "line too long" in both.
// Differential against native events2Tokenize, with the input fed in uneven chunks.
import { need } from "../helpers/need.ts";
import { beforeAll, describe, expect, test } from "bun:test";
import { decodeEvents2Batch, Events2LineSplitter, tokenizeEvents2 } from "../../src/drbd/events2.ts";
import { nativeAddon } from "../../src/native.ts";

const MAX = 256;
const base = "change resource name:r0 role:Primary";
const pad = (ch: string, bytes: number) => ch.repeat(Math.ceil((bytes - base.length - 7) / Buffer.byteLength(ch)));
const LINES = [
  `${base} note:${"x".repeat(MAX - base.length - 6)}`, // exactly MAX bytes: fine
  `${base} note:${"x".repeat(MAX - base.length - 5)}`, // MAX + 1: too long
  `${base} note:${pad("é", 300)}`, // ~300 bytes, ~170 UTF-16 units
  `${base} note:${pad("€", 300)}`, // 3-byte characters
  `${base} note:${pad("🙂", 300)}`, // 4 bytes, 2 UTF-16 units each
  `${base} note:${"é".repeat(Math.floor((MAX - base.length - 6) / 2))}`, // fits in bytes
  "exists -",
  "",
  `${base} ${"y".repeat(5000)}`,
  "change device name:r0 volume:0 disk:UpToDate",
];

type Out = ({ rec: unknown } | { garbage: string; raw: string })[];

function viaTs(input: Buffer, chunks: number[]): Out {
  const out: Out = [];
  const split = new Events2LineSplitter(MAX, (l) => {
    const t = tokenizeEvents2(l);
    if (!t) return;
    if (t.ok) out.push({ rec: t.rec });
    else out.push({ garbage: t.reason, raw: t.raw });
  }, (head) => out.push({ garbage: "line too long", raw: head }));
  let at = 0;
  for (let i = 0; at < input.length; i++) {
    const n = chunks[i % chunks.length]!;
    split.feed(input.subarray(at, at + n));
    at += n;
  }
  split.finish();
  return out;
}

describe("events2 line limit in bytes (TS fallback = native)", () => {
  beforeAll(() => need({ "the native addon (npm install builds it)": Boolean(nativeAddon()?.events2Tokenize) }));
  const input = Buffer.from(LINES.join("\n"));

  test("UTF-16 length fits, UTF-8 length does not: too long in both", () => {
    const [b, e, n] = nativeAddon()!.events2Tokenize!(input, MAX);
    const native: Out = [];
    decodeEvents2Batch(b, e, n, "drbd", (rec) => native.push({ rec }), (g) => native.push({ garbage: g.reason, raw: g.raw }));
    expect(native.filter((o) => "garbage" in o)).toHaveLength(5);
    for (const chunks of [[1 << 20], [1], [7, 64, 3], [255, 256, 257]]) expect(viaTs(input, chunks)).toEqual(native);
    // The line of exactly MAX bytes and the 2-byte one that fits are records.
    expect(native.filter((o) => "rec" in o)).toHaveLength(4);
  });
});
