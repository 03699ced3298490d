// TypeScript uevent parser: fallback and differential reference for native/src/uevent_parse.cc.
//
// One netlink message becomes one packed record "ACTION\0DEVPATH\0KEY=VALUE\0...KEY=VALUE" (no
// trailing NUL; segments without '=' or with an empty key are skipped). Wire formats:
//  - kernel (lib/kobject_uevent.c): "ACTION@DEVPATH\0KEY=VALUE\0...\0";
//  - udevd (systemd src/libsystemd/sd-device/device-monitor.c): 40-byte header "libudev\0",
//    magic 0xfeedcafe (big endian), header_size, properties_off, properties_len (host order,
//    little endian on the machines we build for), 4 filter hashes; then NUL-separated properties.
import type { UeventLayoutArrays } from "../native.ts";
import type { UeventRecord } from "../records.ts";
import { isLaid, laidSubsystem, unpackLaid, type Layouter } from "./layout.ts";

export const UDEV_HEADER_SIZE = 40;
export const UDEV_MAGIC = 0xfeedcafe;

export const enum UeventFormat {
  Kernel = 1,
  Udev = 2,
  Bad = 3,
}

export type ParsedMessage =
  | { format: UeventFormat.Kernel | UeventFormat.Udev; packed: Uint8Array }
  | { format: UeventFormat.Bad; reason: string };

const LIBUDEV = [0x6c, 0x69, 0x62, 0x75, 0x64, 0x65, 0x76, 0x00]; // "libudev\0"
const EQ = 0x3d;
const AT = 0x40;
const SLASH = 0x2f;
const ACTION_KEY = [0x41, 0x43, 0x54, 0x49, 0x4f, 0x4e]; // ACTION
const DEVPATH_KEY = [0x44, 0x45, 0x56, 0x50, 0x41, 0x54, 0x48]; // DEVPATH

function keyIs(msg: Uint8Array, start: number, eq: number, key: number[]): boolean {
  if (eq - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (msg[start + i] !== key[i]) return false;
  return true;
}

/** Valid KEY=VALUE segments of msg[from, to) as [start, end) pairs; last ACTION/DEVPATH values. */
function scanProps(msg: Uint8Array, from: number, to: number) {
  const segs: number[] = [];
  let action: [number, number] | undefined;
  let devpath: [number, number] | undefined;
  let pos = from;
  while (pos < to) {
    let nul = msg.indexOf(0, pos);
    if (nul < 0 || nul > to) nul = to;
    const eq = msg.indexOf(EQ, pos);
    if (eq > pos && eq < nul) {
      segs.push(pos, nul);
      if (keyIs(msg, pos, eq, ACTION_KEY)) action = [eq + 1, nul];
      else if (keyIs(msg, pos, eq, DEVPATH_KEY)) devpath = [eq + 1, nul];
    }
    pos = nul + 1;
  }
  return { segs, action, devpath };
}

function pack(msg: Uint8Array, head: [number, number][], segs: number[]): Uint8Array {
  let size = 0;
  for (const [s, e] of head) size += e - s + 1;
  for (let i = 0; i < segs.length; i += 2) size += segs[i + 1]! - segs[i]! + 1;
  const out = new Uint8Array(size - 1);
  let o = 0;
  const put = (s: number, e: number) => {
    if (o > 0) out[o++] = 0;
    out.set(msg.subarray(s, e), o);
    o += e - s;
  };
  for (const [s, e] of head) put(s, e);
  for (let i = 0; i < segs.length; i += 2) put(segs[i]!, segs[i + 1]!);
  return out;
}

function parseUdev(msg: Uint8Array): ParsedMessage {
  if (msg.length < UDEV_HEADER_SIZE) return { format: UeventFormat.Bad, reason: "udev header truncated" };
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  if (dv.getUint32(8, false) !== UDEV_MAGIC) return { format: UeventFormat.Bad, reason: "udev magic mismatch" };
  const off = dv.getUint32(16, true);
  const len = dv.getUint32(20, true);
  if (off < UDEV_HEADER_SIZE || off > msg.length) {
    return { format: UeventFormat.Bad, reason: "udev properties offset out of range" };
  }
  const end = len > msg.length - off ? msg.length : off + len;
  const { segs, action, devpath } = scanProps(msg, off, end);
  if (!action || !devpath || action[0] === action[1] || devpath[0] === devpath[1]) {
    return { format: UeventFormat.Bad, reason: "udev message without ACTION or DEVPATH" };
  }
  return { format: UeventFormat.Udev, packed: pack(msg, [action, devpath], segs) };
}

/** Parses one netlink message (kernel or libudev format) into a packed record, like the addon. */
export function parseUeventMessage(msg: Uint8Array): ParsedMessage {
  if (msg.length === 0) return { format: UeventFormat.Bad, reason: "empty message" };
  if (msg.length >= 8 && LIBUDEV.every((b, i) => msg[i] === b)) return parseUdev(msg);
  const nul = msg.indexOf(0);
  if (nul < 0) return { format: UeventFormat.Bad, reason: "kernel header without properties" };
  const at = msg.indexOf(AT);
  let ok = at > 0 && at < nul && at <= 32 && at + 1 < nul && msg[at + 1] === SLASH;
  for (let i = 0; ok && i < at; i++) ok = msg[i]! >= 0x61 && msg[i]! <= 0x7a;
  if (!ok) return { format: UeventFormat.Bad, reason: "bad kernel header (want ACTION@/devpath)" };
  const { segs } = scanProps(msg, nul + 1, msg.length);
  return { format: UeventFormat.Kernel, packed: pack(msg, [[0, at], [at + 1, nul]], segs) };
}

/** Property names storage uevents carry (kernel and udevd): a key found here is used as this one
 * string, which made unpacking about 30% cheaper than a fresh slice per key. Looked up by length,
 * 4th and last character (one startsWith check per key instead of one per name of that length). */
const KNOWN_KEYS = new Map<number, string[]>();
const keyHash = (len: number, c3: number, last: number) => len * 0x1000000 + c3 * 0x10000 + last;
for (const k of (
  "ACTION DEVPATH SUBSYSTEM SEQNUM MAJOR MINOR DEVNAME DEVTYPE DISKSEQ DEVLINKS DEVPATH_OLD DISK_MEDIA_CHANGE " +
  "RESIZE DRIVER MODALIAS PARTN PARTNAME SDEV_UA SDEV_MEDIA_CHANGE NVME_AEN DM_ACTION DM_NAME DM_UUID DM_SEQNUM " +
  "DM_PATH DM_NR_VALID_PATHS DM_TARGET DM_COOKIE MD_UUID ID_SERIAL ID_SERIAL_SHORT ID_WWN ID_WWN_WITH_EXTENSION " +
  "ID_MODEL ID_PATH TAGS CURRENT_TAGS USEC_INITIALIZED"
).split(" ")) {
  const h = keyHash(k.length, k.charCodeAt(3), k.charCodeAt(k.length - 1));
  const list = KNOWN_KEYS.get(h);
  if (list) list.push(k);
  else KNOWN_KEYS.set(h, [k]);
}

/** packed[from, eq) as a string: a KNOWN_KEYS entry when it is one. */
function keyAt(packed: string, from: number, eq: number): string {
  if (eq - from >= 4) {
    const known = KNOWN_KEYS.get(keyHash(eq - from, packed.charCodeAt(from + 3), packed.charCodeAt(eq - 1)));
    if (known) for (const k of known) if (packed.startsWith(k, from)) return k;
  }
  return packed.slice(from, eq);
}

/** Turns a packed record (from the addon or parseUeventMessage) into a UeventRecord. `rawText`:
 * its raw form already made from the bytes (rawOfPacked), else built here from packed. */
export function unpackUevent(packed: string, origin: "kernel" | "udev", source: string, rawText?: string): UeventRecord {
  const a = packed.indexOf("\0");
  const b = a < 0 ? -1 : packed.indexOf("\0", a + 1);
  const action = a < 0 ? packed : packed.slice(0, a);
  const devpath = a < 0 ? "" : packed.slice(a + 1, b < 0 ? undefined : b);
  const props: Record<string, string> = {};
  // Key and value are cut from packed directly (no per-segment string in between); known keys interned.
  let pos = b;
  while (pos >= 0) {
    const next = packed.indexOf("\0", pos + 1);
    const end = next < 0 ? packed.length : next;
    const eq = packed.indexOf("=", pos + 1);
    // A segment without "=" (never from either parser): key = all but its last character, as before.
    if (eq < 0 || eq >= end) props[packed.slice(pos + 1, end - 1)] = packed.slice(pos + 1, end);
    else props[keyAt(packed, pos + 1, eq)] = packed.slice(eq + 1, end);
    pos = next;
  }
  // raw: the uevent as udevadm shows it, "ACTION@DEVPATH" then one KEY=VALUE per line.
  const raw = rawText ?? (a < 0 ? packed : action + "@" + packed.slice(a + 1).replaceAll("\0", "\n"));
  return { kind: "uevent", source, action, devpath, props, origin, raw };
}

let scratch = Buffer.alloc(4096);

/**
 * The raw text unpackUevent() makes of the packed record bytes[from, to) (first NUL -> "@", the
 * others -> "\n"), from the bytes: a pass over a reused scratch copy cost ~300 ns/uevent less than
 * replaceAll() on the decoded string. ASCII NUL/"@"/"\n" swap 1:1, so UTF-8 decoding is unchanged.
 */
export function rawOfPacked(bytes: Buffer, from: number, to: number): string {
  const n = to - from;
  if (scratch.length <= n) scratch = Buffer.alloc(Math.max(n + 1, scratch.length * 2));
  bytes.copy(scratch, 0, from, to);
  scratch[n] = 0; // sentinel: no search runs past this record
  let nul = scratch.indexOf(0);
  if (nul < n) {
    scratch[nul] = 0x40;
    for (nul = scratch.indexOf(0, nul + 1); nul < n; nul = scratch.indexOf(0, nul + 1)) scratch[nul] = 0x0a;
  }
  return scratch.toString("utf8", 0, n);
}

/**
 * The SUBSYSTEM of a packed record as unpackUevent() would read it (the last SUBSYSTEM= segment
 * after ACTION and DEVPATH), or undefined: lets a consumer drop the uevents it ignores before any
 * property object is built.
 */
export function packedSubsystem(packed: string): string | undefined {
  const a = packed.indexOf("\0");
  const b = a < 0 ? -1 : packed.indexOf("\0", a + 1);
  if (b < 0) return undefined;
  // A NUL never occurs inside a segment, so "\0SUBSYSTEM=" always starts a segment of that key.
  const k = packed.lastIndexOf("\0SUBSYSTEM=");
  if (k < b) return undefined;
  const end = packed.indexOf("\0", k + 1);
  return packed.slice(k + 11, end < 0 ? undefined : end);
}

// ---- recorded input (replay --uevent) ----

const HEADER_RE = /^(KERNEL|UDEV)\s*\[(\d+(?:\.\d+)?)\]\s+(\S+)\s+(\/\S*)\s+\(([^)]*)\)\s*$/;

function* decodeMonitorText(text: string, source: string, onBad: (reason: string) => void): Iterable<UeventRecord> {
  let cur: { origin: "kernel" | "udev"; action: string; devpath: string; subsystem: string; lines: string[] } | undefined;
  const finish = (): UeventRecord | undefined => {
    if (!cur) return undefined;
    const props: Record<string, string> = {};
    for (const l of cur.lines.slice(1)) {
      const eq = l.indexOf("=");
      if (eq > 0) props[l.slice(0, eq)] = l.slice(eq + 1);
      else onBad("udevadm property line without KEY=");
    }
    if (cur.subsystem && props.SUBSYSTEM === undefined) props.SUBSYSTEM = cur.subsystem;
    const rec: UeventRecord = {
      kind: "uevent", source, origin: cur.origin, action: props.ACTION ?? cur.action, devpath: props.DEVPATH ?? cur.devpath,
      props, raw: cur.lines.join("\n"),
    };
    cur = undefined;
    return rec;
  };
  for (const line of text.split(/\r?\n/)) {
    const m = HEADER_RE.exec(line);
    if (m) {
      const r = finish();
      if (r) yield r;
      cur = { origin: m[1] === "UDEV" ? "udev" : "kernel", action: m[3]!, devpath: m[4]!, subsystem: m[5]!, lines: [line] };
    } else if (line.trim() === "") {
      const r = finish();
      if (r) yield r;
    } else if (cur) {
      cur.lines.push(line);
    }
    // Anything before the first header ("monitor will print the received events for:") is chatter.
  }
  const r = finish();
  if (r) yield r;
}

function isHeaderAt(data: Uint8Array, pos: number): boolean {
  const c = data[pos]!;
  if (c < 0x61 || c > 0x7a) return false; // KEY=VALUE segments start upper-case
  if (c === 0x6c && pos + 8 <= data.length && LIBUDEV.every((b, i) => data[pos + i] === b)) return true;
  let i = pos;
  while (i < data.length && i - pos <= 32 && data[i]! >= 0x61 && data[i]! <= 0x7a) i++;
  return i > pos && data[i] === AT && data[i + 1] === SLASH;
}

/**
 * Splits a raw capture of back-to-back netlink messages at each header ("x@/..." after a NUL, or a
 * "libudev\0" header bounded by its properties_off + properties_len). Newlines and NULs between
 * messages stay with the message before (they parse as skipped segments). Returns end offsets.
 */
export function splitRawCapture(data: Uint8Array): number[] {
  const ends: number[] = [];
  let start = 0;
  while (start < data.length) {
    let end = data.length;
    if (data.length - start >= UDEV_HEADER_SIZE && LIBUDEV.every((b, i) => data[start + i] === b)) {
      const dv = new DataView(data.buffer, data.byteOffset + start, UDEV_HEADER_SIZE);
      const total = dv.getUint32(16, true) + dv.getUint32(20, true);
      if (total >= UDEV_HEADER_SIZE && start + total <= data.length) end = start + total;
      while (end < data.length && (data[end] === 0x0a || data[end] === 0)) end++;
    } else {
      let pos = data.indexOf(0, start);
      while (pos >= 0) {
        let next = pos + 1;
        while (next < data.length && (data[next] === 0x0a || data[next] === 0)) next++;
        if (next >= data.length) break;
        if (isHeaderAt(data, next)) { end = next; break; }
        pos = data.indexOf(0, next);
      }
    }
    ends.push(end);
    start = end;
  }
  return ends;
}

/** Where a piece of a capture may end (a Cut for replay, src/util/cut.ts): `udevadm monitor` text
 * after a blank line; a raw capture where a record starts after a NUL (and any newlines), as
 * splitRawCapture() finds them. */
export function cutUevents(buf: Uint8Array, len: number): number {
  const data = buf.subarray(0, len);
  if (data.indexOf(0) < 0) {
    for (let i = data.lastIndexOf(0x0a, len - 1); i > 0; i = data.lastIndexOf(0x0a, i - 1)) if (data[i - 1] === 0x0a) return i + 1;
    return 0;
  }
  for (let nul = data.lastIndexOf(0, len - 1); nul >= 0; nul = nul > 0 ? data.lastIndexOf(0, nul - 1) : -1) {
    let next = nul + 1;
    while (next < len && (data[next] === 0x0a || data[next] === 0)) next++;
    // isHeaderAt() looks up to 34 bytes past `next`: a cut needs them read.
    if (next + 34 <= len && isHeaderAt(data, next)) return next;
  }
  return 0;
}

function looksLikeMonitorText(data: Uint8Array): boolean {
  const head = data.subarray(0, 65536);
  if (head.indexOf(0) >= 0) return false;
  return /^(KERNEL|UDEV)\s*\[\d/m.test(new TextDecoder().decode(head));
}

/**
 * Decodes recorded uevents, as `udevadm monitor --kernel --property` prints them or as raw
 * NUL-separated netlink captures. Used by `storeventd replay --uevent`. Bad records are reported to
 * onBad and skipped. `parseMany` is the addon's ueventParse when it is loaded (same output), and
 * `layouter` its layout (src/uevent/layout.ts). `keep`, when given, sees each raw record's SUBSYSTEM
 * first (packedSubsystem); false skips it unbuilt.
 */
export function* decodeUeventFile(
  data: Uint8Array,
  source = "udev",
  onBad: (reason: string) => void = () => {},
  parseMany?: (bytes: Uint8Array, ends: Uint32Array) => { bytes: Buffer; ends: Uint32Array; kinds: Uint8Array },
  keep?: (subsystem: string | undefined) => boolean,
  layouter?: Layouter,
): Iterable<UeventRecord> {
  if (looksLikeMonitorText(data)) {
    yield* decodeMonitorText(new TextDecoder().decode(data), source, onBad);
    return;
  }
  const ends = splitRawCapture(data);
  if (parseMany) {
    const CHUNK = 65536;
    for (let i = 0; i < ends.length; i += CHUNK) {
      const base = i === 0 ? 0 : ends[i - 1]!;
      const slice = ends.slice(i, i + CHUNK).map((e) => e - base);
      const last = ends[Math.min(i + CHUNK, ends.length) - 1]!;
      const piece = data.subarray(base, last);
      if (layouter?.parseLaid) {
        const res = layouter.parseLaid(piece, Uint32Array.from(slice));
        yield* unpackBatch(res.bytes, res.ends, res.kinds, source, onBad, keep, layouter, res.layout);
      } else {
        const res = parseMany(piece, Uint32Array.from(slice));
        yield* unpackBatch(res.bytes, res.ends, res.kinds, source, onBad, keep, layouter);
      }
    }
    return;
  }
  const dec = new TextDecoder();
  let prev = 0;
  for (const end of ends) {
    const p = parseUeventMessage(data.subarray(prev, end));
    prev = end;
    if (p.format === UeventFormat.Bad) {
      onBad(p.reason);
      continue;
    }
    const text = dec.decode(p.packed);
    if (!keep || keep(packedSubsystem(text))) yield unpackUevent(text, p.format === UeventFormat.Udev ? "udev" : "kernel", source);
  }
}

/** Records of one addon batch (ueventParse output): kinds 1 kernel, 2 udev, 3 bad. With a
 * layouter the batch bytes are laid out (and turned into raw text) first, unless `laid` is the
 * layout ueventParse already made. */
export function* unpackBatch(
  bytes: Buffer, ends: Uint32Array, kinds: Uint8Array, source: string, onBad: (reason: string) => void,
  keep?: (subsystem: string | undefined) => boolean, layouter?: Layouter, laid?: UeventLayoutArrays,
): Iterable<UeventRecord> {
  const l = layouter && (laid ?? layouter.layout(bytes, ends, kinds));
  let prev = 0;
  for (let i = 0; i < ends.length; i++) {
    const from = prev;
    prev = ends[i]!;
    if (l && isLaid(l, i)) {
      if (!keep || keep(laidSubsystem(bytes, from, prev, l, i, layouter!.names))) {
        // Laid-out records are ASCII: latin1 makes the same string without UTF-8 decoding.
        yield unpackLaid(bytes.toString("latin1", from, prev), l, i, layouter!.names, kinds[i] === UeventFormat.Udev ? "udev" : "kernel", source);
      }
      continue;
    }
    const text = bytes.toString("utf8", from, prev);
    if (kinds[i] === UeventFormat.Bad) onBad(text);
    else if (!keep || keep(packedSubsystem(text))) {
      yield unpackUevent(text, kinds[i] === UeventFormat.Udev ? "udev" : "kernel", source, rawOfPacked(bytes, from, prev));
    }
  }
}
