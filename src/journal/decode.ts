// Journal entries as `journalctl -o export` and `-o json` print them (systemd's JOURNAL_EXPORT_FORMATS
// and JSON output): used by the journal sender's journalctl fallback and by `replay --journal`.
import type { JournalRecord } from "../records.ts";

/** Field name -> value; binary values that are not UTF-8 are decoded with U+FFFD. */
export type JournalFields = Record<string, string>;

/** The daemons whose entries are storage events by default (SYSLOG_IDENTIFIER or _COMM). */
export const DEFAULT_DAEMONS = [
  "multipathd", "dmeventd", "lvm", "mdadm", "smartd", "iscsid", "nvme", "nvmf-autoconnect",
] as const;

const dec = new TextDecoder("utf-8");

/**
 * Incremental decoder of the export format: entries are blocks of `NAME=value\n` lines, a binary
 * field is `NAME\n` + 64-bit little-endian length + bytes + `\n`, and an empty line ends an entry.
 */
export class ExportDecoder {
  private buf: Uint8Array = new Uint8Array(0);
  private fields: JournalFields = {};
  private any = false;

  /** wanted: decode only these fields (journalctl prints ~25 per entry; a record needs 9). */
  constructor(private wanted?: ReadonlySet<string>) {}

  /** Feeds bytes; returns the entries completed by them. */
  push(chunk: Uint8Array): JournalFields[] {
    const out: JournalFields[] = [];
    const u = this.buf.length ? concat(this.buf, chunk) : chunk;
    const b = Buffer.from(u.buffer, u.byteOffset, u.byteLength); // its latin1/utf8 slices beat TextDecoder
    const wanted = this.wanted;
    let pos = 0;
    for (;;) {
      const nl = b.indexOf(10, pos);
      if (nl < 0) break;
      if (nl === pos) { // empty line: entry done
        if (this.any) out.push(this.fields);
        this.fields = {};
        this.any = false;
        pos = nl + 1;
        continue;
      }
      const eq = b.indexOf(61, pos);
      if (eq >= 0 && eq < nl) {
        const name = b.toString("latin1", pos, eq);
        if (!wanted || wanted.has(name)) this.fields[name] = b.toString("utf8", eq + 1, nl);
        this.any = true;
        pos = nl + 1;
        continue;
      }
      // Binary field: NAME\n, le64 size, data, \n.
      if (b.length < nl + 1 + 8) break;
      const size = Number(new DataView(b.buffer, b.byteOffset + nl + 1, 8).getBigUint64(0, true));
      const end = nl + 1 + 8 + size;
      if (b.length < end + 1) break;
      const name = b.toString("latin1", pos, nl);
      if (!wanted || wanted.has(name)) this.fields[name] = b.toString("utf8", nl + 9, end);
      this.any = true;
      pos = end + 1;
    }
    this.buf = b.slice(pos);
    return out;
  }

  /** End of input: an entry without its closing empty line still counts. */
  end(): JournalFields[] {
    const out = this.any ? [this.fields] : [];
    this.fields = {};
    this.any = false;
    this.buf = new Uint8Array(0);
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const c = new Uint8Array(a.length + b.length);
  c.set(a, 0);
  c.set(b, a.length);
  return c;
}

/** One `-o json` line: values are strings, byte arrays (binary), arrays of either (repeated fields) or null (too large). */
export function decodeJsonEntry(line: string): JournalFields | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!o || typeof o !== "object" || Array.isArray(o)) return undefined;
  const out: JournalFields = {};
  for (const [k, val] of Object.entries(o as Record<string, unknown>)) {
    const s = jsonValue(val);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

function jsonValue(val: unknown): string | undefined {
  if (typeof val === "string") return val;
  if (Array.isArray(val)) {
    if (val.length && val.every((x) => typeof x === "number")) return dec.decode(Uint8Array.from(val as number[]));
    return val.length ? jsonValue(val[0]) : undefined; // a repeated field: its first value
  }
  return undefined;
}

/** Every entry of a capture, export or JSON format (told apart by the first byte: `{` is JSON). */
export function* decodeJournalCapture(data: Uint8Array): Generator<JournalFields> {
  let i = 0;
  while (i < data.length && (data[i] === 10 || data[i] === 32)) i++;
  if (data[i] === 123) {
    let start = i;
    while (start < data.length) {
      let nl = data.indexOf(10, start);
      if (nl < 0) nl = data.length;
      const line = dec.decode(data.subarray(start, nl)).trim();
      if (line) {
        const e = decodeJsonEntry(line);
        if (e) yield e;
      }
      start = nl + 1;
    }
    return;
  }
  const d = new ExportDecoder();
  yield* d.push(data);
  yield* d.end();
}

/** The fields journalRecord() and entryDaemon() read. */
export const RECORD_FIELDS: ReadonlySet<string> = new Set([
  "__CURSOR", "__REALTIME_TIMESTAMP", "PRIORITY", "_TRANSPORT", "SYSLOG_IDENTIFIER", "_COMM", "_PID", "SYSLOG_PID", "MESSAGE",
]);

/** Which of `daemons` wrote the entry (SYSLOG_IDENTIFIER, else _COMM); kernel entries never match. */
export function entryDaemon(f: JournalFields, daemons: ReadonlySet<string>): string | undefined {
  if (f._TRANSPORT === "kernel") return undefined;
  const id = f.SYSLOG_IDENTIFIER;
  if (id !== undefined && daemons.has(id)) return id;
  const comm = f._COMM;
  if (comm !== undefined && daemons.has(comm)) return comm;
  return undefined;
}

export function journalRecord(f: JournalFields, daemon: string, source: string): JournalRecord {
  const prio = Number(f.PRIORITY);
  const pid = Number(f._PID ?? f.SYSLOG_PID ?? 0);
  const rt = Number(f.__REALTIME_TIMESTAMP);
  const msg = (f.MESSAGE ?? "").replace(/\n+$/, "");
  return {
    kind: "journal", source, daemon,
    priority: Number.isInteger(prio) && prio >= 0 && prio <= 7 ? prio : 6,
    pid: Number.isSafeInteger(pid) && pid > 0 ? pid : 0,
    transport: f._TRANSPORT ?? "",
    cursor: f.__CURSOR ?? "",
    msg,
    time_us: Number.isFinite(rt) && rt > 0 ? rt : undefined,
    raw: `${daemon}${pid > 0 ? `[${pid}]` : ""}: ${msg}`,
  };
}
