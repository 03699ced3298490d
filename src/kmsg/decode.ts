// Decodes a recorded kernel log for `storeventd replay --kmsg`: raw /dev/kmsg records and the
// text forms people save (dmesg, dmesg -r/-x/-T, journalctl -k / syslog lines).
import type { KmsgRecord } from "../records.ts";
import { decodeKmsgRecord, kmsgUnescape, KmsgStatus, NO_PROPS } from "./record.ts";
import { cutKmsg, slices } from "../util/cut.ts";

export { cutKmsg } from "../util/cut.ts";

export { decodeKmsgRecord, kmsgUnescape, splitKmsgRecords, unpackKmsgBatch, KmsgStatus } from "./record.ts";
export type { KmsgDecoded } from "./record.ts";

/** What decodeKmsgText skipped. */
export interface KmsgTextStats {
  records: number;
  bad: number;
}

const RAW_RE = /^\d+,\d+,\d+,[^;]*;/;
// dmesg -r "<6>" and dmesg -x "kern  :info  : " prefixes
const PRIO_RE = /^<(\d{1,4})>/;
const FACLEV_RE = /^([a-z0-9]+) *:([a-z]+) *: /;
// "[   12.345678] " (dmesg, journal lines of kernels with printk.time) or dmesg -T "[Thu Nov 26 00:30:36 2026] "
const TS_RE = /^\[ *(?:(\d+)\.(\d{1,9})|([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}))\] ?/;
// journalctl -k / syslog: "Nov 26 00:30:36 host kernel: ...", short-precise and short-iso forms too.
const JOURNAL_RE = /^(?:([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d{1,6})?)|(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:?\d\d)?)) (\S+) ([^:\[\s]+)(?:\[\d+\])?: ?/;

const FACILITIES = [
  "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
  "res0", "res1", "res2", "res3", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];
const LEVELS = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];
const DEFAULT_PRIORITY = 6; // dmesg and journal short output do not show the level

function tsUs(sec: string, frac: string): number {
  return Number(sec) * 1_000_000 + Number(frac.slice(0, 6).padEnd(6, "0"));
}

// "Nov 26 00:30:36.123456" (local time, this year) or an ISO stamp -> µs since the epoch.
function wallUs(syslog: string | undefined, iso: string | undefined): number | undefined {
  const text = iso ?? `${syslog!.slice(0, 15).replace(/ +/g, " ")} ${new Date().getFullYear()}`;
  const frac = /\.(\d{1,6})/.exec(iso ?? syslog!)?.[1] ?? "";
  const ms = Date.parse(iso ? text.replace(/\.\d+/, "").replace(/([+-]\d\d)(\d\d)$/, "$1:$2") : text);
  return Number.isNaN(ms) ? undefined : ms * 1000 + Number(frac.padEnd(6, "0") || "0");
}

function textRecord(line: string, source: string, seq: number): KmsgRecord {
  const rec: KmsgRecord = {
    kind: "kmsg", source, priority: DEFAULT_PRIORITY, facility: 0, seq, ts_us: 0, flags: "-", msg: "",
    props: NO_PROPS, raw: line,
  };
  let rest = line;
  const p = PRIO_RE.exec(rest);
  const f = p ? null : FACLEV_RE.exec(rest);
  if (p) {
    rec.priority = Number(p[1]) % 8;
    rec.facility = Math.floor(Number(p[1]) / 8);
    rest = rest.slice(p[0].length);
  } else if (f && FACILITIES.includes(f[1]!) && LEVELS.includes(f[2]!)) {
    rec.facility = FACILITIES.indexOf(f[1]!);
    rec.priority = LEVELS.indexOf(f[2]!);
    rest = rest.slice(f[0].length);
  } else {
    const j = JOURNAL_RE.exec(rest);
    if (j) {
      rec.time_us = wallUs(j[1], j[2]);
      if (j[4] !== "kernel") rec.facility = 1;
      rest = rest.slice(j[0].length);
    }
  }
  const t = TS_RE.exec(rest);
  if (t) {
    if (t[1] !== undefined) rec.ts_us = tsUs(t[1], t[2]!);
    else rec.time_us = Date.parse(t[3]!) * 1000; // the regex admits only parseable stamps
    rest = rest.slice(t[0].length);
  }
  rec.msg = kmsgUnescape(rest);
  return rec;
}

// A one-line raw record without continuation lines, decoded as decodeKmsgRecord() would, with the
// header read once (the same scan answers RAW_RE): the common case, once per replayed record.
// "text": not raw-shaped (RAW_RE fails); "bad": raw-shaped but decodeKmsgRecord() would refuse it.
function rawLine(line: string, source: string): KmsgRecord | "text" | "bad" {
  const n = line.length;
  let i = 0;
  let prefix = 0;
  let seq = 0;
  let ts = 0;
  for (let f = 0; f < 3; f++) {
    const from = i;
    let v = 0;
    let c = 0;
    while (i < n && (c = line.charCodeAt(i) - 48) >= 0 && c <= 9) (v = v * 10 + c), i++;
    if (i === from || i >= n || line.charCodeAt(i) !== 44) return "text";
    i++;
    if (f === 0) prefix = v;
    else if (f === 1) seq = v;
    else ts = v;
  }
  const semi = line.indexOf(";", i);
  if (semi < 0) return "text";
  // parseNumber()'s limit; v only grows, so the final value tells.
  if (prefix > Number.MAX_SAFE_INTEGER || seq > Number.MAX_SAFE_INTEGER || ts > Number.MAX_SAFE_INTEGER) return "bad";
  // FLAGS is one of "-", "c", "+" ending at ";" or at a "," of the header's extension.
  const f = line.charCodeAt(i);
  const end = line.charCodeAt(i + 1);
  if ((f !== 45 && f !== 99 && f !== 43) || (end !== 59 && end !== 44)) return "bad";
  return {
    kind: "kmsg", source, priority: prefix % 8, facility: Math.floor(prefix / 8), seq, ts_us: ts,
    flags: f === 45 ? "-" : f === 99 ? "c" : "+", msg: kmsgUnescape(line.slice(semi + 1)), props: NO_PROPS, raw: line,
  };
}

/**
 * Decodes one recorded text (decodeKmsgText) into `out`, without a generator per record: replay's
 * decode loop. Records without a seq are numbered by their position in this text.
 */
export function decodeKmsgTextInto(text: string, source: string, out: KmsgRecord[], stats?: KmsgTextStats): void {
  const lines = text.split("\n");
  let index = 0;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    // Before the blank test: a raw record is never blank, and most lines are raw. A record with
    // continuation lines goes through decodeKmsgRecord(), a one-line one through rawLine().
    let r: KmsgRecord | "text" | "bad";
    if (i + 1 < lines.length && lines[i + 1]!.charCodeAt(0) === 32) {
      if (RAW_RE.test(line)) {
        let rec = line;
        while (i + 1 < lines.length && lines[i + 1]!.charCodeAt(0) === 32) rec += "\n" + lines[++i]!.replace(/\r$/, "");
        const d = decodeKmsgRecord(rec, source);
        r = d.status === KmsgStatus.ok ? d.record : "bad";
      } else r = "text";
    } else r = rawLine(line, source);
    if (r === "bad") {
      if (stats) stats.bad++;
      continue;
    }
    if (r !== "text") {
      if (stats) stats.records++;
      index++;
      out.push(r);
      continue;
    }
    if (line.trim().length === 0) continue;
    if (stats) stats.records++;
    out.push(textRecord(line, source, index++));
  }
}

/**
 * Decodes a recorded kernel log: raw /dev/kmsg records (`6,1234,5678,-;msg` plus ` KEY=value`
 * continuation lines) and dmesg/journal-style text lines. Used by `storeventd replay --kmsg`.
 * Lines of other forms become kernel-facility messages; bad raw records are skipped and counted
 * in `stats`. Records without a seq (text forms) are numbered by their position in the input.
 */
export function* decodeKmsgText(text: string, source = "kmsg", stats?: KmsgTextStats): Iterable<KmsgRecord> {
  const out: KmsgRecord[] = [];
  decodeKmsgTextInto(text, source, out, stats);
  yield* out;
}

const utf8 = new TextDecoder("utf-8");

/** A piece of whole records (cut by cutKmsg) of a recorded kernel log, decoded in slices of about
 * 2 KiB: a parser that holds one record then pins 2 KiB of text, not the whole piece. Yields each
 * slice's records as one reused array (valid until the next step): one generator step per slice. */
export function* decodeKmsgSlices(piece: Uint8Array, source = "kmsg"): Iterable<readonly KmsgRecord[]> {
  const out: KmsgRecord[] = [];
  for (const s of slices(piece, 2048, cutKmsg)) {
    out.length = 0;
    decodeKmsgTextInto(utf8.decode(s), source, out);
    yield out;
  }
}
