// TypeScript twin of native/src/kmsg_record.cc: decodes one /dev/kmsg record
// ("PREFIX,SEQ,TS_US,FLAGS[,...];MESSAGE" + " KEY=value" continuation lines). The rules, including
// how \xNN escapes are undone, are documented in native/src/kmsg_record.h; both decoders must give
// identical records (test/kmsg-differential.test.ts).
import type { KmsgRecord } from "../records.ts";

export const KmsgStatus = {
  ok: 0,
  empty: 1,
  no_semicolon: 2,
  bad_header: 3,
  bad_number: 4,
  bad_flags: 5,
} as const;
export type KmsgStatusCode = (typeof KmsgStatus)[keyof typeof KmsgStatus];
export const KMSG_STATUS_NAMES = ["ok", "empty", "no_semicolon", "bad_header", "bad_number", "bad_flags"] as const;

export interface KmsgDecoded {
  status: number;
  /** Continuation lines that are not " KEY=value" (skipped). */
  badProps: number;
  /** Seqs lost (ring overrun) right before this record; set by readers, 0 from text. */
  lostBefore: number;
  /** For a bad record: raw only, numbers 0, msg and flags "". */
  record: KmsgRecord;
}

const FLAGS = ["-", "c", "+"] as const;

/** The props of a record without KEY=value lines: one shared frozen object, not one per record. */
export const NO_PROPS: Record<string, string> = Object.freeze(Object.create(null));

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function isEscape(s: string, i: number): boolean {
  return i + 3 < s.length && s.charCodeAt(i) === 92 && s.charCodeAt(i + 1) === 120 &&
    hexVal(s.charCodeAt(i + 2)) >= 0 && hexVal(s.charCodeAt(i + 3)) >= 0;
}

function parseNumber(s: string, from: number, to: number): number {
  if (to <= from) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
    if (v > Number.MAX_SAFE_INTEGER) return -1;
  }
  return v;
}

// Length of the well-formed UTF-8 sequence at b[k] (Unicode Table 3-7), 0 if none.
function utf8Len(b: number[], k: number): number {
  const n = b.length;
  const inr = (i: number, lo: number, hi: number) => k + i < n && b[k + i]! >= lo && b[k + i]! <= hi;
  const c = b[k]!;
  if (c >= 0xc2 && c <= 0xdf) return inr(1, 0x80, 0xbf) ? 2 : 0;
  if (c === 0xe0) return inr(1, 0xa0, 0xbf) && inr(2, 0x80, 0xbf) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return inr(1, 0x80, 0xbf) && inr(2, 0x80, 0xbf) ? 3 : 0;
  if (c === 0xed) return inr(1, 0x80, 0x9f) && inr(2, 0x80, 0xbf) ? 3 : 0;
  if (c === 0xf0) return inr(1, 0x90, 0xbf) && inr(2, 0x80, 0xbf) && inr(3, 0x80, 0xbf) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return inr(1, 0x80, 0xbf) && inr(2, 0x80, 0xbf) && inr(3, 0x80, 0xbf) ? 4 : 0;
  if (c === 0xf4) return inr(1, 0x80, 0x8f) && inr(2, 0x80, 0xbf) && inr(3, 0x80, 0xbf) ? 4 : 0;
  return 0;
}

function decodeRun(s: string, start: number, b: number[]): string {
  let out = "";
  let k = 0;
  while (k < b.length) {
    const c = b[k]!;
    if (c >= 0x20 && c < 0x7f) {
      out += String.fromCharCode(c);
      k++;
      continue;
    }
    const len = c >= 0x80 ? utf8Len(b, k) : 0;
    if (len > 0 && !(c === 0xc2 && b[k + 1]! < 0xa0)) {
      let cp = len === 2 ? c & 0x1f : len === 3 ? c & 0x0f : c & 0x07;
      for (let i = 1; i < len; i++) cp = (cp << 6) | (b[k + i]! & 0x3f);
      out += String.fromCodePoint(cp);
      k += len;
      continue;
    }
    out += s.slice(start + k * 4, start + k * 4 + 4);
    k++;
  }
  return out;
}

/** Undoes the kernel's \xNN escapes (rules in native/src/kmsg_record.h). */
export function kmsgUnescape(s: string): string {
  let i = s.indexOf("\\");
  if (i < 0) return s;
  let out = "";
  let last = 0;
  while (i >= 0) {
    if (!isEscape(s, i)) {
      i = s.indexOf("\\", i + 1);
      continue;
    }
    out += s.slice(last, i);
    const bytes: number[] = [];
    let j = i;
    while (isEscape(s, j)) {
      bytes.push(hexVal(s.charCodeAt(j + 2)) * 16 + hexVal(s.charCodeAt(j + 3)));
      j += 4;
    }
    out += decodeRun(s, i, bytes);
    last = j;
    i = s.indexOf("\\", j);
  }
  return out + s.slice(last);
}

function bad(status: number, raw: string, source: string): KmsgDecoded {
  return {
    status, badProps: 0, lostBefore: 0,
    record: { kind: "kmsg", source, priority: 0, facility: 0, seq: 0, ts_us: 0, flags: "", msg: "", props: {}, raw },
  };
}

/** Decodes one record; a trailing "\n" is ignored. Never throws. */
export function decodeKmsgRecord(text: string, source = "kmsg", lostBefore = 0): KmsgDecoded {
  const raw = text.endsWith("\n") ? text.slice(0, -1) : text;
  if (raw.length === 0) return bad(KmsgStatus.empty, raw, source);
  let lineEnd = raw.indexOf("\n");
  if (lineEnd < 0) lineEnd = raw.length;
  const semi = raw.indexOf(";");
  if (semi < 0 || semi > lineEnd) return bad(KmsgStatus.no_semicolon, raw, source);
  // The header's fields are read in place (no split: this runs once per replayed record).
  const c1 = raw.indexOf(",");
  const c2 = c1 < 0 || c1 > semi ? -1 : raw.indexOf(",", c1 + 1);
  const c3 = c2 < 0 || c2 > semi ? -1 : raw.indexOf(",", c2 + 1);
  if (c3 < 0 || c3 > semi) return bad(KmsgStatus.bad_header, raw, source);
  const prefix = parseNumber(raw, 0, c1);
  const seq = parseNumber(raw, c1 + 1, c2);
  const ts = parseNumber(raw, c2 + 1, c3);
  if (prefix < 0 || seq < 0 || ts < 0) return bad(KmsgStatus.bad_number, raw, source);
  const c4 = raw.indexOf(",", c3 + 1);
  const flags = raw.slice(c3 + 1, c4 < 0 || c4 > semi ? semi : c4);
  if (flags !== "-" && flags !== "c" && flags !== "+") return bad(KmsgStatus.bad_flags, raw, source);
  const props: Record<string, string> = Object.create(null);
  let badProps = 0;
  let pos = lineEnd + 1;
  while (pos <= raw.length && lineEnd < raw.length) {
    let nl = raw.indexOf("\n", pos);
    if (nl < 0) nl = raw.length;
    const line = raw.slice(pos, nl);
    pos = nl + 1;
    if (line.length === 0) continue;
    const eq = line.indexOf("=");
    if (line.charCodeAt(0) !== 32 || eq < 0 || eq === 1) {
      badProps++;
      continue;
    }
    props[line.slice(1, eq)] = kmsgUnescape(line.slice(eq + 1));
  }
  return {
    status: KmsgStatus.ok, badProps, lostBefore,
    record: {
      kind: "kmsg", source, priority: prefix % 8, facility: Math.floor(prefix / 8), seq, ts_us: ts, flags,
      msg: kmsgUnescape(raw.slice(semi + 1, lineEnd)), props, raw,
    },
  };
}

/**
 * Splits a recorded text into records like native KmsgTextSplitter: a line not starting with " "
 * starts a record, following lines starting with " " continue it, empty lines end it.
 */
export class KmsgTextSplitter {
  private pending = "";
  private cur: string | null = null;

  *feed(chunk: string): Generator<string> {
    this.pending += chunk;
    let start = 0;
    for (;;) {
      const nl = this.pending.indexOf("\n", start);
      if (nl < 0) break;
      const rec = this.line(this.pending.slice(start, nl));
      if (rec !== null) yield rec;
      start = nl + 1;
    }
    this.pending = this.pending.slice(start);
  }

  *finish(): Generator<string> {
    if (this.pending.length > 0) {
      const rec = this.line(this.pending);
      if (rec !== null) yield rec;
    }
    this.pending = "";
    if (this.cur !== null) yield this.cur;
    this.cur = null;
  }

  private line(line: string): string | null {
    if (line.length === 0 || line.charCodeAt(0) !== 32 || this.cur === null) {
      const done = this.cur;
      this.cur = line.length === 0 ? null : line;
      return done;
    }
    this.cur += "\n" + line;
    return null;
  }
}

/** Every record of a recorded /dev/kmsg text (the TS twin of native kmsgDecode()). */
export function* splitKmsgRecords(text: string): Generator<string> {
  const split = new KmsgTextSplitter();
  yield* split.feed(text);
  yield* split.finish();
}

/** Numbers per record in a native kmsg batch (enum KmsgNum in native/src/kmsg_record.h). */
export const KMSG_STRIDE = 12;

/** Unpacks one native batch (native/src/kmsg_record.h, kKmsgStride numbers per record). */
export function unpackKmsgBatch(
  bytes: Buffer, ends: Uint32Array, nums: Float64Array, source: string, each: (d: KmsgDecoded) => void,
): void {
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    const o = i * KMSG_STRIDE;
    const status = nums[o + 5]!;
    const rawLen = nums[o + 6]!;
    const raw = bytes.toString("utf8", start, start + rawLen);
    if (status !== KmsgStatus.ok) {
      each({ ...bad(status, raw, source), lostBefore: nums[o + 11]! });
      start = end;
      continue;
    }
    const msgOff = nums[o + 7]!;
    const msgLen = nums[o + 8]!;
    const propsOff = start + nums[o + 9]!;
    let props = NO_PROPS;
    if (propsOff < end) {
      props = Object.create(null);
      for (const line of bytes.toString("utf8", propsOff, end - 1).split("\n")) {
        const eq = line.indexOf("=");
        props[line.slice(0, eq)] = line.slice(eq + 1);
      }
    }
    each({
      status, badProps: nums[o + 10]!, lostBefore: nums[o + 11]!,
      record: {
        kind: "kmsg", source, priority: nums[o]!, facility: nums[o + 1]!, seq: nums[o + 2]!, ts_us: nums[o + 3]!,
        flags: FLAGS[nums[o + 4]!]!,
        msg: msgOff + msgLen <= rawLen && raw.length === rawLen // byte and char offsets line up: slice
          ? raw.slice(msgOff, msgOff + msgLen)
          : bytes.toString("utf8", start + msgOff, start + msgOff + msgLen),
        props, raw,
      },
    });
    start = end;
  }
}
