// TypeScript tokenizer of `drbdsetup events2` lines: fallback and differential reference for
// native/src/events2_tokenizer.cc. Both follow the same rules, line by line:
//
//   [TIMESTAMP ' '] VERB ' ' OBJECT (' ' KEY ':' VALUE)*
//
// - Tokens are separated by runs of ' ' or '\t'; a trailing '\r' is dropped; an empty line is nothing.
// - TIMESTAMP is what `--timestamps` prints: 2026-11-26T00:30:36.123456+01:00 (drbdsetup_events2.c
//   format_timestamp); it becomes time_us.
// - VERB is one of exists|create|change|destroy|call|response|rename (drbdsetup_events2.c
//   action_*), else the line is garbage. OBJECT is any token (resource|connection|device|
//   peer-device|path|helper|- today; unknown objects are kept for the model to skip).
// - A field splits at its first ':' (values such as `local:ipv4:10.0.0.1:7789` keep theirs). Unknown
//   keys are kept. A token without ':' or with an empty key is skipped. A later key wins.
// - A line holding a NUL byte, or longer than the reader's limit, is garbage.
import { edenGC } from "bun:jsc";
import type { Events2Record } from "../records.ts";
import { own } from "./intern.ts";

export const EVENTS2_VERBS = new Set(["exists", "create", "change", "destroy", "call", "response", "rename"]);

/** The synthetic record the drbd sender emits before the first line of a restarted drbdsetup. */
export const RESTART_VERB = "restart";

export type Tokenized = { ok: true; rec: Events2Record } | { ok: false; reason: string; raw: string } | null;

const TS_RE = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})([+-])(\d\d):(\d\d)$/;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), month 1..12.
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.trunc((y >= 0 ? y : y - 399) / 400);
  const yoe = y - era * 400;
  const doy = Math.trunc((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.trunc(yoe / 4) - Math.trunc(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** µs since the epoch of a `--timestamps` prefix, or undefined when `tok` is not one. */
export function parseEvents2Timestamp(tok: string): number | undefined {
  if (tok.length !== 32) return undefined;
  const m = TS_RE.exec(tok);
  if (!m) return undefined;
  const n = (i: number) => Number(m[i]);
  const mo = n(2);
  // Out-of-range months and days roll over (as Date.UTC would), identically in the C++ twin.
  const y = n(1) + (mo - 1 >= 0 ? Math.trunc((mo - 1) / 12) : -Math.trunc((12 - mo) / 12));
  const mm = (((mo - 1) % 12) + 12) % 12 + 1;
  const days = daysFromCivil(y, mm, 1) + n(3) - 1;
  const offMin = (m[8] === "-" ? -1 : 1) * (n(9) * 60 + n(10));
  const secs = days * 86400 + n(4) * 3600 + n(5) * 60 + n(6) - offMin * 60;
  return Number(BigInt(secs) * 1_000_000n + BigInt(n(7)));
}

/** Tokenizes one line; null for an empty line, `{ok:false}` for garbage. */
export function tokenizeEvents2(line: string, source = "drbd"): Tokenized {
  const raw = line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
  if (raw.includes("\0")) return { ok: false, reason: "NUL byte", raw };
  // drbdsetup separates by single spaces: split(" ") and skip the empty tokens of longer runs.
  const toks = raw.includes("\t") ? raw.split(/[ \t]/) : raw.split(" ");
  const n = toks.length;
  let t = 0;
  const next = (): string | undefined => {
    while (t < n && toks[t] === "") t++;
    return t < n ? toks[t++] : undefined;
  };
  let verb = next();
  if (verb === undefined) return null;
  const time_us = parseEvents2Timestamp(verb);
  if (time_us !== undefined) verb = next();
  if (verb === undefined || !EVENTS2_VERBS.has(verb)) return { ok: false, reason: "unknown verb", raw };
  const object = next();
  if (object === undefined) return { ok: false, reason: "missing object", raw };
  const fields: Record<string, string> = {};
  for (; t < n; t++) {
    const tok = toks[t]!;
    const c = tok.indexOf(":");
    if (c <= 0) continue;
    fields[tok.slice(0, c)] = tok.slice(c + 1);
  }
  const rec: Events2Record = { kind: "events2", source, verb, object, fields, raw };
  if (time_us !== undefined) rec.time_us = time_us;
  return { ok: true, rec };
}

export function tokenizeEvents2Line(line: string, source = "drbd"): Events2Record | null {
  const t = tokenizeEvents2(line, source);
  return t && t.ok ? t.rec : null;
}

export function* decodeEvents2Text(text: string, source = "drbd"): Iterable<Events2Record> {
  for (const line of text.split("\n")) {
    const rec = tokenizeEvents2Line(line, source);
    if (rec) yield rec;
  }
}

/** The marker that tells the model a new drbdsetup starts: its `exists` dump is a resync. */
export function restartMarker(source = "drbd"): Events2Record {
  return { kind: "events2", source, verb: RESTART_VERB, object: "-", fields: {}, raw: "" };
}

// Native batches (native/src/events2_reader.cc): per record, bytes hold
//   ok:      raw \0 verb \0 object (\0 key \0 value)*
//   lean:    raw                     (a fast-lane line announcing no name: tokenized here if needed)
//   garbage: reason \0 raw          (raw may itself hold NUL bytes)
// and nums hold [status, time_us, fast lane...]: status 0 ok, 1 garbage, 2 lean; time_us NaN when the line
// had none; then FAST_STRIDE slots of the fast lane (native/src/events2_fast.h, src/drbd/fast.ts):
// statistics lines as numbers and interned string ids, kind 0 for every other line.
export const FAST_STRIDE = 19;
export const EVENTS2_STRIDE = 2 + FAST_STRIDE;
/** Fast-lane kinds (slot 0); FAST_ANNOUNCE is added when the line brings a new interned string. */
export const FAST_DEVICE = 1;
export const FAST_PEER_DEVICE = 2;
export const FAST_ANNOUNCE = 16;
/** Slot of each string-valued key (slot 1 is the resource name), per kind. */
const FAST_STRINGS: Record<number, [number, string][]> = {
  [FAST_DEVICE]: [[6, "backing_dev"], [18, "blocked"]],
  [FAST_PEER_DEVICE]: [[4, "conn-name"], [8, "resync-suspended"]],
};

/** Applies one fast-lane line (slots from `base`) to the model; false: it needs the generic way. */
export type Events2FastApply = (nums: Float64Array, base: number, strs: readonly string[]) => boolean;

/** The interned strings of one native tokenizer (one reader, or one run of events2Tokenize calls). */
export class Events2Lane {
  readonly strs: string[] = [];
  learn(rec: Events2Record, nums: Float64Array, base: number): void {
    // Copies, not slices: a slice would keep its whole line alive.
    this.strs[nums[base + 1]!] = own(rec.fields.name!);
    for (const [slot, key] of FAST_STRINGS[nums[base]! & 15] ?? []) {
      const id = nums[base + slot]!;
      if (id === id) this.strs[id] = own(rec.fields[key]!);
    }
  }
}

export interface Events2Garbage {
  reason: string;
  raw: string;
}

/** Decodes a native batch; with a lane, lines the fast lane takes are not decoded at all. Returns
 * how many lines `fast` took. */
export function decodeEvents2Batch(
  bytes: Uint8Array, ends: Uint32Array, nums: Float64Array, source: string,
  onRecord: (rec: Events2Record) => void, onGarbage: (g: Events2Garbage) => void,
  lane?: Events2Lane, fast?: Events2FastApply | null,
): number {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let taken = 0;
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    const base = i * EVENTS2_STRIDE;
    const kind = nums[base + 2]!;
    if (kind !== 0 && lane) {
      if (kind < FAST_ANNOUNCE && fast && fast(nums, base + 2, lane.strs)) {
        taken++;
        start = end;
        continue;
      }
      if (kind >= FAST_ANNOUNCE) {
        const rec = decodeOk(buf, start, end, source, nums[base + 1]!);
        start = end;
        lane.learn(rec, nums, base + 2);
        if (fast && fast(nums, base + 2, lane.strs)) taken++;
        else onRecord(rec);
        continue;
      }
    }
    const status = nums[base]!;
    if (status === 2) {
      // Lean: the fast lane refused it (or there is none); its tokens were not packed.
      const rec = tokenizeEvents2Line(buf.toString("utf8", start, end), source)!;
      const t = nums[base + 1]!;
      if (!Number.isNaN(t)) rec.time_us = t;
      onRecord(rec);
    } else if (status !== 0) {
      // One string per record: values the model keeps must not pin a whole batch.
      const text = buf.toString("utf8", start, end);
      const nul = text.indexOf("\0");
      onGarbage({ reason: text.slice(0, nul), raw: text.slice(nul + 1) });
    } else {
      onRecord(decodeOk(buf, start, end, source, nums[base + 1]!));
    }
    start = end;
  }
  return taken;
}

// A record decoded the full way leaves ~3 KB of short-lived strings and objects. In a burst (a
// dump of 10 000 resources is 90 000 such records; the first statistics round announces every
// name) JSC grew its heap by tens of MB before collecting; a young-generation collection every
// EDEN_EVERY of them keeps peak RSS down (10 000 resources: 151 -> 116 MiB) for little CPU.
const EDEN_EVERY = 1024;
let decoded = 0;

function decodeOk(buf: Buffer, start: number, end: number, source: string, t: number): Events2Record {
  if (++decoded === EDEN_EVERY) {
    decoded = 0;
    edenGC();
  }
  // One string per record: field values the model keeps are slices of it, and must not pin a
  // whole batch (slicing one decoded batch string did: peak RSS grew with the stream).
  const parts = buf.toString("utf8", start, end).split("\0");
  const fields: Record<string, string> = {};
  for (let k = 3; k + 1 < parts.length; k += 2) fields[parts[k]!] = parts[k + 1]!;
  const rec: Events2Record = { kind: "events2", source, verb: parts[1]!, object: parts[2]!, fields, raw: parts[0]! };
  if (!Number.isNaN(t)) rec.time_us = t;
  return rec;
}

/** The TypeScript twin of native/src/line_split.h for the fallback reader: splits bytes into lines
 * and counts the limit in bytes, as the native reader does. A line longer than `max` bytes goes to
 * onTooLong (its first `max` bytes) and the rest of it is skipped. */
export class Events2LineSplitter {
  private partial: Uint8Array[] = [];
  private size = 0;
  private skipping = false;
  private dec = new TextDecoder();

  constructor(private max: number, private onLine: (line: string) => void, private onTooLong: (head: string) => void) {}

  feed(chunk: Uint8Array): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      if (!this.skipping) {
        const part = chunk.subarray(start, end);
        if (this.size + part.length > this.max) {
          this.onTooLong(this.dec.decode(this.take(part).subarray(0, this.max)));
          this.skipping = true;
        } else if (nl >= 0) {
          this.onLine(this.dec.decode(this.take(part)));
        } else {
          this.partial.push(part.slice());
          this.size += part.length;
        }
      }
      if (nl < 0) return;
      this.skipping = false;
      start = nl + 1;
    }
  }

  /** End of input: a last line without '\n' still counts. */
  finish(): void {
    if (this.size && !this.skipping) this.onLine(this.dec.decode(this.take(new Uint8Array(0))));
    this.partial = [];
    this.size = 0;
    this.skipping = false;
  }

  // The held partial line plus `part`, and nothing held any more.
  private take(part: Uint8Array): Uint8Array {
    if (!this.partial.length) return part;
    const all = new Uint8Array(this.size + part.length);
    let at = 0;
    for (const p of this.partial) {
      all.set(p, at);
      at += p.length;
    }
    all.set(part, at);
    this.partial = [];
    this.size = 0;
    return all;
  }
}
