// SCSI midlayer and sd messages -> SCSI_* events. A failed command is reported by the kernel as
// several records (Result, Sense Key, Add. Sense, CDB); they are held per device+tag and become one
// SCSI_SENSE (or SCSI_TIMEOUT / SCSI_CMD_FAILED when there is no sense data) event.
import type { EventDraft, KmsgRecord } from "../../../src/plugin-api.ts";
import { HeldReports, PatternTable, decNum, hexNum, type KPattern } from "../../../src/util/kpattern.ts";
import { ASC_RANGES, SENSE_KEYS, ascCode, ascText, senseKeyNumber, senseKeyText, senseSeverity } from "./sense.ts";

// dev_printk prefix of a scsi_device ("sd 2:0:0:1: ", "scsi 3:0:0:0: " before a driver binds), then
// what scmd_printk/sdev_prefix_printk add: "[sdb] " (disk name) and "tag#%d " (drivers/scsi/scsi_logging.c).
const PFX = String.raw`^(?<drv>[a-z]{1,8}) (?<addr>\d{1,6}:\d{1,6}:\d{1,6}:\d{1,20}): (?:\[(?<disk>[^\]\s]{1,32})\] )?(?:tag#(?<tag>\d{1,7}) )?`;
const re = (body: string) => new RegExp(PFX + body);
/** snstext[] names, or "0x%x" when the kernel has no name. */
const SENSE_KEY_RE = [...SENSE_KEYS.map((k) => k.replace(/[()]/g, "\\$&")), "0x[0-9a-f]{1,2}"].join("|");

export type ScsiPatternId =
  | "result" | "sense_key" | "add_sense" | "asc_raw" | "cdb" | "cdb_cont"
  | "timing_out" | "offlined" | "medium_timeout" | "rejecting_offline" | "rejecting_dead" | "attached" | "attached_sr";

export const SCSI_PATTERNS: readonly KPattern<ScsiPatternId>[] = [
  {
    id: "result", needle: "Result: hostbyte=",
    re: re(String.raw`(?:(?<what>[^:\[\]]{1,80}): )?(?:(?<disp>[A-Z][A-Z_]{1,23}|UNKNOWN\(0x[0-9a-f]{2,8}\)) )?Result: hostbyte=(?<host>\w{1,32}) driverbyte=(?<drvbyte>\w{1,32})(?: cmd_age=(?<age>\d{1,10})s)? ?$`),
    source: "drivers/scsi/scsi_logging.c (scsi_print_result), drivers/scsi/sd.c (sd_print_result)",
    format: `"%s Result: hostbyte=%s driverbyte=DRIVER_OK cmd_age=%lus" (6.x); "%s Result: hostbyte=%s driverbyte=%s" (4.18); sd: "%s: Result: hostbyte=%s driverbyte=%s"`,
  },
  {
    id: "sense_key", needle: "Sense Key : ",
    re: re(String.raw`Sense Key : (?<key>${SENSE_KEY_RE}) \[(?<when>current|deferred)\](?<desc> \[descriptor\])? ?$`),
    source: "drivers/scsi/scsi_logging.c (scsi_format_sense_hdr), drivers/scsi/constants.c (snstext)",
    format: `"Sense Key : " "%s " "[current] "|"[deferred] " ["[descriptor] "]`,
  },
  {
    id: "add_sense", needle: "Add. Sense: ",
    re: re(String.raw`Add\. Sense: (?<text>[^()]{1,100}?)(?:\((?<fmt>[a-z ]{0,40}?)(?<fq>[0-9a-f]{1,2})\))? ?$`),
    source: "drivers/scsi/scsi_logging.c (scsi_format_extd_sense), drivers/scsi/sense_codes.h",
    format: `"Add. Sense: %s" ["(%s%x)"]`,
  },
  {
    id: "asc_raw", needle: "ASCQ=0x",
    re: re(String.raw`(?:<<vendor>>)?ASC=0x(?<asc>[0-9a-f]{1,2}) (?:<<vendor>>)?ASCQ=0x(?<ascq>[0-9a-f]{1,2}) ?$`),
    source: "drivers/scsi/scsi_logging.c (scsi_format_extd_sense)",
    format: `["<<vendor>>"] "ASC=0x%x " ["<<vendor>>"] "ASCQ=0x%x "`,
  },
  {
    id: "cdb", needle: "CDB: ",
    re: re(String.raw`CDB: (?<name>[^\[\]]{1,64}?)(?<bytes>(?: [0-9a-f]{2}){1,16})? ?$`),
    source: "drivers/scsi/scsi_logging.c (scsi_print_command)",
    format: `"CDB: %s %*ph" (6.x); "CDB: " opcode name " " hex_dump_to_buffer (4.18/5.14); "CDB: %s" when cmd_len > 16`,
  },
  {
    id: "cdb_cont", needle: "CDB[",
    re: re(String.raw`CDB\[(?<off>[0-9a-f]{2})\]: (?<bytes>[0-9a-f]{2}(?: [0-9a-f]{2}){0,15})$`),
    source: "drivers/scsi/scsi_logging.c (scsi_print_command)",
    format: `"CDB[%02x]: %*ph"`,
  },
  {
    id: "timing_out", needle: "timing out command, waited ",
    re: re(String.raw`timing out command, waited (?<secs>\d{1,10})s$`),
    source: "drivers/scsi/scsi_lib.c (scsi_cmd_runtime_exceeced; scsi_softirq_done in 4.18)",
    format: `"timing out command, waited %lus\\n"`,
  },
  {
    id: "offlined", needle: "Device offlined - not ready after error recovery",
    re: re(String.raw`Device offlined - not ready after error recovery$`),
    source: "drivers/scsi/scsi_error.c (scsi_eh_offline_sdevs)",
    format: `"Device offlined - not ready after error recovery\\n"`,
  },
  {
    id: "medium_timeout", needle: "Medium access timeout failure. Offlining disk!",
    re: re(String.raw`Medium access timeout failure\. Offlining disk!$`),
    source: "drivers/scsi/sd.c (sd_eh_action)",
    format: `"Medium access timeout failure. Offlining disk!\\n"`,
  },
  {
    id: "rejecting_offline", needle: "rejecting I/O to offline device",
    re: re(String.raw`rejecting I/O to offline device$`),
    source: "drivers/scsi/scsi_lib.c (scsi_device_state_check / scsi_prep_state_check)",
    format: `"rejecting I/O to offline device\\n"`,
  },
  {
    id: "rejecting_dead", needle: "rejecting I/O to dead device",
    re: re(String.raw`rejecting I/O to dead device$`),
    source: "drivers/scsi/scsi_lib.c (scsi_device_state_check / scsi_prep_state_check)",
    format: `"rejecting I/O to dead device\\n"`,
  },
  {
    id: "attached", needle: "Attached SCSI ",
    re: re(String.raw`Attached SCSI (?<removable>removable )?disk$`),
    source: "drivers/scsi/sd.c (sd_probe)",
    format: `"Attached SCSI %sdisk\\n"`,
  },
  {
    id: "attached_sr", needle: "Attached scsi CD-ROM ",
    re: re(String.raw`Attached scsi CD-ROM (?<cd>sr\d{1,6})$`),
    source: "drivers/scsi/sr.c (sr_probe)",
    format: `"Attached scsi CD-ROM %s\\n"`,
  },
];

const ADDR_PFX = /^[a-z]{1,8} \d{1,6}:\d{1,6}:\d{1,6}:\d{1,20}: /;

/** PFX first: a lowercase driver name, one space, a digit (cheap), then the whole SCSI address. */
function scsiGate(msg: string): boolean {
  const sp = msg.indexOf(" ");
  if (sp < 1 || sp > 8) return false;
  const c = msg.charCodeAt(sp + 1);
  return c >= 48 && c <= 57 && ADDR_PFX.test(msg);
}

export const SCSI_TABLE = new PatternTable<ScsiPatternId>(SCSI_PATTERNS, scsiGate);

interface Report {
  records: string[];
  key: string;
  addr: string;
  disk?: string;
  tag?: number;
  time_us?: number;
  source: string;
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

  constructor(holdMs: number, now?: () => number) {
    this.held = new HeldReports<Report>(holdMs, 256, now);
  }

  parse(rec: KmsgRecord, msg: string, emit: Emit): void {
    const m = SCSI_TABLE.match(msg);
    if (!m) {
      if (this.held.size > 0) this.flushMentioned(msg, emit);
      return;
    }
    const g = m.groups;
    const addr = g.addr!;
    const tag = decNum(g.tag);
    const key = `${addr}|${tag ?? -1}`;
    switch (m.id) {
      case "result": {
        const r = this.start(rec, msg, g, key, emit);
        r.result = { host: g.host!, driver: g.drvbyte!, disposition: g.disp, what: g.what, age: decNum(g.age) };
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
        return;
      }
      case "cdb": {
        const r = this.held.get(key);
        if (!r) return; // a CDB printed outside a failure report (e.g. libata's ATAPI report)
        this.add(r, key, rec.raw);
        r.cdbName = g.name!.trimEnd();
        if (g.bytes) {
          r.cdb = g.bytes.trim();
          this.held.take(key);
          emit(toDraft(r));
        }
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
    for (const r of this.held.expire(final)) emit(toDraft(r));
  }

  nextFlushIn(): number | undefined {
    return this.held.nextFlushIn();
  }

  oldestHeld(source: string): number | undefined {
    return this.held.oldestSeq(source);
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
      ...draft, severity: senseSeverity(r.senseKey), system: "scsi", event_type: "SCSI_SENSE",
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
