// cutUevents() may only cut where a recorded uevent ends: at every length of every fixture, the cut
// is a record boundary as splitRawCapture() finds them (raw captures) or right after a blank line
// (udevadm monitor text), and decoding the capture piece by piece gives the records decoding it
// whole gives.
import { describe, expect, test } from "bun:test";
import { cutUevents, decodeUeventFile, splitRawCapture } from "./parse.ts";
import { ueventCaptures } from "../../test/helpers/uevent-fixtures.ts";

const fixtures = ueventCaptures();

function boundaries(data: Uint8Array): Set<number> {
  if (data.indexOf(0) >= 0) return new Set([0, ...splitRawCapture(data)]);
  const out = new Set([0]);
  for (let i = 1; i < data.length; i++) if (data[i] === 0x0a && data[i - 1] === 0x0a) out.add(i + 1);
  return out;
}

/** The pieces replay hands over: read `step` bytes at a time, cut, keep the rest (as replay-io.ts). */
function pieces(data: Uint8Array, step: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  let len = 0;
  while (start < data.length) {
    len = Math.min(data.length - start, len + step);
    const eof = start + len === data.length;
    const end = eof ? len : cutUevents(data.subarray(start), len);
    if (end > 0) {
      out.push(data.subarray(start, start + end));
      start += end;
      len -= end;
    }
  }
  return out;
}

const key = (r: { action: string; devpath: string; props: Record<string, string> }) => `${r.action} ${r.devpath} ${JSON.stringify(r.props)}`;

describe("cutUevents", () => {
  test("the fixtures cover both formats", () => {
    expect(fixtures.some((f) => f.data.indexOf(0) < 0)).toBe(true);
    expect(fixtures.some((f) => f.data.indexOf(0) >= 0)).toBe(true);
  });

  for (const f of fixtures) {
    test(`${f.name}: every cut is a record boundary; pieces decode as the whole`, () => {
      const ok = boundaries(f.data);
      for (let len = 1; len <= f.data.length; len++) {
        const end = cutUevents(f.data, len);
        expect({ len, end, boundary: ok.has(end) && end <= len }).toEqual({ len, end, boundary: true });
      }
      const whole = [...decodeUeventFile(f.data)].map(key);
      expect(whole.length).toBeGreaterThan(0);
      for (const step of [64, 301, 4096]) {
        const parts = pieces(f.data, step);
        expect(parts.flatMap((p) => [...decodeUeventFile(p)].map(key))).toEqual(whole);
      }
    });
  }
});
