// SCSI midlayer and sd messages -> SCSI_* events. A failed command is reported by the kernel as
// several records (Result, Sense Key, Add. Sense, CDB); they are held per device+tag and become one
// SCSI_SENSE (or SCSI_TIMEOUT / SCSI_CMD_FAILED when there is no sense data) event.
import type { EventDraft, KmsgRecord } from "../../../src/plugin-api.ts";
import { HeldReports, decNum, hexNum, kmsgSeq, type KMatch } from "../../../src/plugin-kit/kernel.ts";
import { ASC_RANGES, ascCode, ascText, senseKeyNumber, senseKeyText, senseSeverity } from "./sense.ts";
import { SCSI_TABLE, scsiGate, type ScsiPatternId } from "./patterns.ts";

export { SCSI_PATTERNS, SCSI_TABLE, type ScsiPatternId } from "./patterns.ts";


interface Report {
  records: string[];
  key: string;
  addr: string;
  disk?: string;
  tag?: number;
  time_us?: number;
  source: string;
  /** The block layer failed the request (its line followed the report): the I/O is lost. */
  ioFailed?: boolean;
  /** 3.10's description line ("Unhandled sense code", ...) that opens the report. */
  desc?: string;
  /** The 3.x CDB printed as "CDB:" and its bytes as a record of their own. */
  cdbSplit?: boolean;
  result?: { host: string; driver: string; disposition?: string; what?: string; age?: number };
  senseKey?: number;
  senseKeyText?: string;
  deferred?: boolean;
  descriptor?: boolean;
  asc?: number;
  ascq?: number;
  ascText?: string;
  cdbName?: string;
  cdb?: string;
}

type Emit = (d: EventDraft) => void;
/** Bound on the records one report keeps in raw (hostile streams of CDB[xx] lines). */
const MAX_RECORDS = 64;
type Groups = Record<string, string | undefined>;

/** The SCSI parser's state: held multi-record reports. */
export class ScsiParser {
  private held: HeldReports<Report>;
  /** A report whose CDB line completed it: the next record may be the block layer's line for it. */
  private done: { r: Report; atMs: number } | undefined;
  /** The report the previous record went into (3.x prints parts of a report without a prefix). */
  private last: Report | undefined;
  private readonly now: () => number;

  constructor(holdMs: number, now: () => number = () => performance.now()) {
    this.held = new HeldReports<Report>(holdMs, 256, now);
    this.now = now;
  }

  parse(rec: KmsgRecord, msg: string, emit: Emit): void {
    if (this.done) {
      const { r } = this.done;
      this.done = undefined;
      if (claimsBlockLine(r, msg)) {
        if (r.records.length < MAX_RECORDS) r.records.push(rec.raw);
        r.ioFailed = true;
        emit(toDraft(r));
        return;
      }
      emit(toDraft(r));
    }
    const last = this.last;
    this.last = undefined;
    if (last && this.continuation(last, rec, msg, emit)) return;
    const m = SCSI_TABLE.match(msg);
    if (!m) {
      if (this.held.size > 0) this.flushMentioned(msg, emit);
      return;
    }
    this.matched(m, rec, msg, emit);
  }

  // Apart from parse(), which every record runs: the JIT compiles this only for SCSI's messages.
  private matched(m: KMatch<ScsiPatternId>, rec: KmsgRecord, msg: string, emit: Emit): void {
    const g = m.groups;
    const addr = g.addr!;
    const tag = decNum(g.tag);
    const key = `${addr}|${tag ?? -1}`;
    switch (m.id) {
      case "unhandled":
      case "fail_desc": {
        const r = this.start(rec, msg, g, key, emit);
        r.desc = g.desc;
        this.last = r;
        return;
      }
      case "result": {
        let r = this.held.get(key);
        if (!r || r.result || r.senseKey !== undefined || r.cdbName !== undefined) r = this.start(rec, msg, g, key, emit);
        else this.add(r, key, rec.raw);
        r.result = { host: g.host!, driver: g.drvbyte!, disposition: g.disp, what: g.what, age: decNum(g.age) };
        this.last = r;
        return;
      }
      case "sense_key": {
        let r = this.held.get(key);
        if (!r || r.senseKey !== undefined) r = this.start(rec, msg, g, key, emit);
        else this.add(r, key, rec.raw);
        r.senseKeyText = g.key!;
        r.senseKey = senseKeyNumber(g.key!);
        r.deferred = g.when === "deferred";
        r.descriptor = g.desc !== undefined;
        this.last = r;
        return;
      }
      case "add_sense":
      case "asc_raw": {
        let r = this.held.get(key);
        if (!r || r.asc !== undefined || r.ascText !== undefined) r = this.start(rec, msg, g, key, emit);
        else this.add(r, key, rec.raw);
        if (m.id === "asc_raw") {
          r.asc = hexNum(g.asc);
          r.ascq = hexNum(g.ascq);
          r.ascText = ascText(r.asc!, r.ascq!);
        } else {
          const text = g.text!.trimEnd();
          const code = ascCode(text);
          r.ascText = g.fq === undefined ? text : `${text} (${g.fmt ?? ""}${g.fq})`;
          if (code) ({ asc: r.asc, ascq: r.ascq } = code);
          else if (g.fq !== undefined && ASC_RANGES[text] !== undefined) {
            r.asc = ASC_RANGES[text];
            r.ascq = hexNum(g.fq);
          }
        }
        this.last = r;
        return;
      }
      case "cdb": {
        const r = this.held.get(key);
        if (!r) return; // a CDB printed outside a failure report (e.g. libata's ATAPI report)
        this.add(r, key, rec.raw);
        r.cdbName = g.name!.trimEnd().replace(/:$/, "");
        if (g.bytes) {
          r.cdb = g.bytes.trim();
          this.complete(key, r);
        }
        this.last = r;
        return;
      }
      case "cdb_cont": {
        const r = this.held.get(key);
        if (!r || r.records.length >= MAX_RECORDS) return;
        this.add(r, key, rec.raw);
        r.cdb = r.cdb ? `${r.cdb} ${g.bytes}` : g.bytes;
        return;
      }
      default:
        if (this.held.size > 0) this.flushMentioned(msg, emit);
        emit(single(m.id, rec, msg, g));
    }
  }

  flush(emit: Emit, final: boolean): void {
    // A completed report waits at most one flush tick for its block-layer line.
    if (this.done && (final || this.now() - this.done.atMs >= 100)) {
      emit(toDraft(this.done.r));
      this.done = undefined;
      this.last = undefined;
    }
    for (const r of this.held.expire(final)) emit(toDraft(r));
  }

  nextFlushIn(): number | undefined {
    const held = this.held.nextFlushIn();
    const done = this.done ? this.done.atMs + 100 - this.now() : undefined;
    return done === undefined ? held : held === undefined ? done : Math.min(held, done);
  }

  oldestHeld(source: string): number | undefined {
    const held = this.held.oldestSeq(source);
    const done = this.done ? kmsgSeq(this.done.r.records[0]) : undefined;
    return done === undefined ? held : held === undefined ? done : Math.min(held, done);
  }

  private complete(key: string, r: Report): void {
    this.held.take(key);
    this.done = { r, atMs: this.now() };
  }

  /** 3.x parts printed as records of their own: "sd H:C:T:L: [sdb]", "Result: ...", "...: CDB:", "Read(10): 28 00 ...". */
  private continuation(r: Report, rec: KmsgRecord, msg: string, _emit: Emit): boolean {
    const key = `${r.addr}|${r.tag ?? -1}`;
    if (this.held.get(key) !== r) return false;
    const bare = BARE_PFX.exec(msg);
    if (bare && bare.groups!.addr === r.addr) {
      this.add(r, key, rec.raw);
      if (bare.groups!.cdb) r.cdbSplit = true;
      this.last = r;
      return true;
    }
    const res = /^Result: hostbyte=(\w{1,32}) driverbyte=(\w{1,32})\s*$/.exec(msg);
    if (res && !r.result) {
      this.add(r, key, rec.raw);
      r.result = { host: res[1]!, driver: res[2]! };
      this.last = r;
      return true;
    }
    const cdb = r.cdbSplit ? /^(?<name>[A-Za-z][\w ()/-]{0,40}?):? (?<bytes>[0-9a-f]{2}(?: [0-9a-f]{2}){0,15})\s*$/.exec(msg) : null;
    if (cdb) {
      this.add(r, key, rec.raw);
      r.cdbName = cdb.groups!.name;
      r.cdb = cdb.groups!.bytes;
      this.complete(key, r);
      return true;
    }
    return false;
  }

  private start(rec: KmsgRecord, msg: string, g: Groups, key: string, emit: Emit): Report {
    const r: Report = {
      records: [rec.raw], key, addr: g.addr!, disk: g.disk, tag: decNum(g.tag), time_us: rec.time_us, source: rec.source,
    };
    for (const old of this.held.open(key, r)) emit(toDraft(old));
    return r;
  }

  private add(r: Report, key: string, raw: string): void {
    if (r.records.length < MAX_RECORDS) r.records.push(raw); // a 32-byte CDB report has 6 records
    this.held.touch(key);
  }

  /** Another message about a device with a held report ends that report (the kernel moved on). */
  private flushMentioned(msg: string, emit: Emit): void {
    // Only a SCSI device line or the block layer's "..., dev sdb, ..." can name a held report's device.
    if (!msg.includes(", dev ") && !scsiGate(msg)) return;
    const done = this.held.takeWhere((r) =>
      msg.includes(` ${r.addr}:`) || (r.disk !== undefined && msg.includes(`dev ${r.disk},`)));
    for (const r of done) emit(toDraft(r));
  }
}

/** A device prefix with nothing after it, or only "CDB:" (3.x, KERN_CONT parts as records of their own). */
const BARE_PFX = /^[a-z]{1,8} (?<addr>\d{1,6}:\d{1,6}:\d{1,6}:\d{1,20}): \[[^\]\s]{1,32}\](?<cdb> CDB:)?\s*$/;

/** The block layer's failed-request line for the report's disk (blk_print_req_error, end_request, ...). */
function claimsBlockLine(r: Report, msg: string): boolean {
  if (r.disk === undefined || !msg.includes(" error, dev ")) return false;
  return new RegExp(String.raw`(?:^|: )[A-Za-z/ ]{1,40} error, dev ${r.disk.replace(/[^\w-]/g, "")}, sector \d`).test(msg);
}

function devName(addr: string, disk: string | undefined): string {
  return disk ?? addr;
}

function base(addr: string, tag: number | undefined): Record<string, unknown> {
  const ext: Record<string, unknown> = { scsi_addr: addr };
  if (tag !== undefined) ext.tag = tag;
  return ext;
}

/** LBA and length of READ/WRITE(10|16) CDBs, the commands whose failures name a disk location. */
function cdbLocation(cdb: string | undefined): { lba: number; blocks: number } | undefined {
  if (!cdb) return undefined;
  const b = cdb.split(" ").map((x) => Number.parseInt(x, 16));
  const be = (from: number, n: number) => b.slice(from, from + n).reduce((acc, x) => acc * 256 + x, 0);
  switch (b[0]) {
    case 0x28: case 0x2a: case 0x2e: case 0x2f: // READ(10), WRITE(10), WRITE AND VERIFY(10), VERIFY(10)
      return b.length >= 10 ? { lba: be(2, 4), blocks: be(7, 2) } : undefined;
    case 0x88: case 0x8a: case 0x8e: case 0x8f: // READ(16), WRITE(16), WRITE AND VERIFY(16), VERIFY(16)
      return b.length >= 16 ? { lba: be(2, 8), blocks: be(10, 4) } : undefined;
    default:
      return undefined;
  }
}

function toDraft(r: Report): EventDraft {
  const dev = devName(r.addr, r.disk);
  const ext = base(r.addr, r.tag);
  if (r.result) {
    ext.hostbyte = r.result.host;
    ext.driverbyte = r.result.driver;
    if (r.result.disposition) ext.disposition = r.result.disposition;
    if (r.result.what) ext.failed = r.result.what;
    if (r.result.age !== undefined) ext.cmd_age_s = r.result.age;
  }
  if (r.desc) ext.description = r.desc;
  if (r.cdbName) ext.command = r.cdbName;
  if (r.cdb) ext.cdb = r.cdb;
  const loc = cdbLocation(r.cdb);
  if (loc) Object.assign(ext, loc);
  const on = r.cdbName ? ` on ${r.cdbName}` : r.result?.what ? ` (${r.result.what})` : "";
  const draft = { time_us: r.time_us, source: r.source, raw: r.records.join("\n"), dev_name: dev, extension: ext };
  if (r.senseKeyText !== undefined || r.ascText !== undefined || r.asc !== undefined) {
    const keyText = r.senseKey !== undefined ? senseKeyText(r.senseKey) : (r.senseKeyText ?? "Unknown sense key");
    if (r.senseKey !== undefined) ext.sense_key = r.senseKey;
    ext.sense_key_text = keyText;
    if (r.asc !== undefined) ext.asc = r.asc;
    if (r.ascq !== undefined) ext.ascq = r.ascq;
    if (r.ascText !== undefined) ext.asc_text = r.ascText;
    if (r.deferred) ext.deferred = true;
    if (r.descriptor) ext.descriptor = true;
    const detail = r.ascText ?? (r.asc !== undefined ? `ASC 0x${r.asc.toString(16)} ASCQ 0x${(r.ascq ?? 0).toString(16)}` : "");
    return {
      // A sense key that alone means "retry or check" is an error once the block layer failed the request.
      ...draft, severity: r.ioFailed && senseSeverity(r.senseKey) === "warn" ? "error" : senseSeverity(r.senseKey),
      system: "scsi", event_type: "SCSI_SENSE",
      msg: `${keyText}${detail ? ` / ${detail}` : ""}${on}`,
    };
  }
  if (r.result?.host === "DID_TIME_OUT") {
    return { ...draft, severity: "error", system: "scsi", event_type: "SCSI_TIMEOUT", msg: `command timed out${on}` };
  }
  return {
    ...draft, severity: "error", system: "scsi", event_type: "SCSI_CMD_FAILED",
    msg: `command failed${on}${r.result ? ` (hostbyte ${r.result.host})` : ""}`,
  };
}

function single(id: ScsiPatternId, rec: KmsgRecord, msg: string, g: Groups): EventDraft {
  const addr = g.addr!;
  const dev = devName(addr, id === "attached_sr" ? g.cd : g.disk);
  const ext = base(addr, decNum(g.tag));
  const d = { time_us: rec.time_us, source: rec.source, raw: msg, dev_name: dev, extension: ext, system: "scsi" as const };
  switch (id) {
    case "timing_out":
      ext.waited_s = decNum(g.secs);
      return { ...d, severity: "error", event_type: "SCSI_TIMEOUT", msg: `command timed out after ${g.secs}s of retries` };
    case "task_abort":
      // The error handler aborts a command that timed out; the midlayer retries it.
      if (g.ms !== undefined) ext.outstanding_ms = decNum(g.ms);
      if (g.tmo !== undefined) ext.timeout_ms = decNum(g.tmo);
      return { ...d, severity: "warn", event_type: "SCSI_TIMEOUT", msg: "command timed out, the HBA driver is aborting it" };
    case "offlined":
      return { ...d, severity: "error", event_type: "SCSI_DEVICE_OFFLINE", msg: `device offlined, not ready after error recovery` };
    case "medium_timeout":
      return { ...d, severity: "error", event_type: "SCSI_DEVICE_OFFLINE", msg: `device offlined after repeated medium access timeouts` };
    case "rejecting_offline":
      return { ...d, severity: "error", event_type: "SCSI_DEVICE_OFFLINE", msg: "I/O rejected, device is offline" };
    case "rejecting_dead":
      return { ...d, severity: "warn", event_type: "SCSI_DEVICE_REMOVED", msg: "I/O rejected, device has been removed" };
    case "attached":
      if (g.removable) ext.removable = true;
      return { ...d, severity: "info", event_type: "SCSI_DEVICE_ADDED", msg: `SCSI ${g.removable ? "removable " : ""}disk attached at ${addr}` };
    case "attached_sr":
      ext.type = "cdrom";
      return { ...d, severity: "info", event_type: "SCSI_DEVICE_ADDED", msg: `SCSI CD-ROM attached at ${addr}` };
    default:
      throw new Error(`unhandled scsi pattern ${id}`);
  }
}
