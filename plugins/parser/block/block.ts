// Block layer messages -> BLK_* events: failed requests (blk_print_req_error and its 4.18/5.14
// forms), buffer-head I/O errors, and the disk write cache mode sd reports when it first sees or
// changes it.
import type { EventDraft, KmsgRecord } from "../../../src/plugin-api.ts";
import { PatternTable, decNum, fromRecord, hexNum, lineParser, type KPattern, type KmsgParserState } from "../../../src/plugin-kit/kernel.ts";

/** blk_errors[] names of block/blk-core.c (4.18 .. 6.x), as printed before " error, dev". */
const STATUS = [
  "I/O", "critical medium", "timeout", "critical target", "critical nexus", "reservation conflict",
  "critical space allocation", "recoverable transport", "protection", "kernel resource", "device resource",
  "nonblocking retry", "device offline", "dm internal retry", "open zones exceeded", "active zones exceeded",
  "duration limit exceeded", "invalid", "operation not supported",
].map((s) => s.replace("/", "\\/")).join("|");

const SD_PFX = String.raw`^(?<drv>[a-z]{1,8}) (?<addr>\d{1,6}:\d{1,6}:\d{1,6}:\d{1,20}): \[(?<disk>[^\]\s]{1,32})\] `;

export type BlockPatternId = "req_error" | "buffer_io" | "write_cache" | "assume_cache";

export const BLOCK_PATTERNS: readonly KPattern<BlockPatternId>[] = [
  {
    id: "req_error", needle: " error, dev ",
    // An optional caller ("print_req_error: ", "blk_update_request: ") and, on RHEL 8.4+, a
    // durable-name dev_printk prefix ("block sdb: ") come before the status.
    re: new RegExp(String.raw`^(?:[a-z]{1,16} [^\s:]{1,32}: )?(?:(?<caller>[a-z_]{1,32}): )?(?<status>${STATUS}) error, dev (?<dev>[^\s,]{1,32}), sector (?<sector>\d{1,20})(?: op 0x(?<op>[0-9a-f]{1,8})(?::\((?<opname>[A-Z_]{1,24})\))? flags 0x(?<flags>[0-9a-f]{1,8})(?: phys_seg (?<seg>\d{1,10}) prio class (?<prio>\d{1,3}))?| flags (?<flags5>[0-9a-f]{1,8}))?$`),
    source: "block/blk-core.c (blk_print_req_error 5.16+, print_req_error 4.18..5.14, blk_update_request 3.10), block/blk-mq.c in 6.x",
    format: `"%s error, dev %s, sector %llu op 0x%x:(%s) flags 0x%x phys_seg %u prio class %u" (6.x); "%s: %s error, dev %s, sector %llu op 0x%x:(%s) flags 0x%x phys_seg %u prio class %u" (5.14); "%s: %s error, dev %s, sector %llu flags %x" (5.0-5.2); "%s: %s error, dev %s, sector %llu" (4.18); "end_request: %s error, dev %s, sector %llu" (3.10)`,
  },
  {
    id: "buffer_io", needle: "Buffer I/O error",
    re: /^(?:[a-z]{1,16} (?<pdev>[^\s:]{1,32}): )?Buffer I\/O error(?: on dev(?:ice)? (?<dev>[^\s,]{1,32}))?, logical block (?<block>\d{1,20})(?:, (?<what>[a-z ]{1,40}))?$/,
    source: "fs/buffer.c (buffer_io_error)",
    format: `"Buffer I/O error on dev %pg, logical block %llu%s" with ", async page read" / ", lost async page write" / ", lost sync page write"`,
  },
  {
    id: "write_cache", needle: "Write cache: ",
    re: new RegExp(SD_PFX + String.raw`Write cache: (?<wce>enabled|disabled), read cache: (?<rc>enabled|disabled), (?<fua>supports DPO and FUA|doesn't support DPO or FUA)$`),
    source: "drivers/scsi/sd.c (sd_read_cache_type)",
    format: `"Write cache: %s, read cache: %s, %s\\n" printed on first scan or when WCE/RCD/DPOFUA change`,
  },
  {
    id: "assume_cache", needle: "Assuming drive cache: write ",
    re: new RegExp(SD_PFX + String.raw`Assuming drive cache: write (?<mode>through|back)$`),
    source: "drivers/scsi/sd.c (sd_read_cache_type)",
    format: `"Assuming drive cache: write through\\n"`,
  },
];

/** Every pattern's message has " error" (request and buffer errors) or is sd's ("sd 2:0:0:1: [sdb] ..."). */
export const BLOCK_TABLE = new PatternTable<BlockPatternId>(BLOCK_PATTERNS, (msg) => msg.includes(" error") || msg.startsWith("sd "));

const PRIO_CLASS = ["none", "realtime", "best-effort", "idle"];
// Retried by the caller (recoverable transport: multipath tries another path), or not a failure of the data.
const MILD = new Set(["operation not supported", "nonblocking retry", "dm internal retry", "recoverable transport"]);

function build(id: BlockPatternId, g: Record<string, string | undefined>, rec: KmsgRecord, msg: string): EventDraft | undefined {
  const base = { ...fromRecord(rec, msg), system: "block" as const };
  switch (id) {
    case "req_error": {
      const status = g.status!;
      const ext: Record<string, unknown> = { status, sector: decNum(g.sector) ?? g.sector };
      if (g.op !== undefined) ext.op = hexNum(g.op);
      if (g.opname !== undefined) ext.op_name = g.opname;
      if (g.flags !== undefined) ext.flags = `0x${g.flags}`;
      if (g.flags5 !== undefined) ext.flags = `0x${g.flags5}`;
      if (g.seg !== undefined) ext.phys_seg = decNum(g.seg);
      if (g.prio !== undefined) {
        ext.prio_class = decNum(g.prio);
        ext.prio_class_name = PRIO_CLASS[Number(g.prio)] ?? "unknown";
      }
      if (g.caller !== undefined) ext.caller = g.caller;
      const medium = status === "critical medium";
      const op = g.opname ? ` on ${g.opname}` : "";
      return {
        ...base, dev_name: g.dev, extension: ext,
        severity: MILD.has(status) ? "warn" : "error",
        event_type: medium ? "BLK_CRITICAL_MEDIUM_ERROR" : "BLK_IO_ERROR",
        msg: `${status} error${op} at sector ${g.sector}`,
      };
    }
    case "buffer_io": {
      const dev = g.dev ?? g.pdev;
      if (dev === undefined) return undefined;
      const ext: Record<string, unknown> = { status: "buffer I/O", logical_block: decNum(g.block) ?? g.block };
      if (g.what) ext.detail = g.what;
      return {
        ...base, dev_name: dev, extension: ext, severity: "error", event_type: "BLK_IO_ERROR",
        msg: `buffer I/O error at logical block ${g.block}${g.what ? ` (${g.what})` : ""}`,
      };
    }
    case "write_cache": {
      const fua = g.fua === "supports DPO and FUA";
      return {
        ...base, dev_name: g.disk, severity: "info", event_type: "BLK_WRITE_CACHE_CHANGED",
        extension: { scsi_addr: g.addr, write_cache: g.wce === "enabled", read_cache: g.rc === "enabled", dpo_fua: fua },
        msg: `write cache ${g.wce}, read cache ${g.rc}, ${fua ? "DPO/FUA supported" : "no DPO/FUA"}`,
      };
    }
    case "assume_cache":
      return {
        ...base, dev_name: g.disk, severity: "warn", event_type: "BLK_WRITE_CACHE_CHANGED",
        extension: { scsi_addr: g.addr, write_cache: g.mode === "back", assumed: true },
        msg: `cache mode unknown, assuming write ${g.mode}`,
      };
  }
}

/** The last line of a SCSI failure report about a disk: its CDB, or 3.x's CDB bytes on a record of their own. */
const SD_REPORT_END = /^(?:[a-z]{1,8} \d{1,6}:\d{1,6}:\d{1,6}:\d{1,20}: \[(?<disk>[^\]\s]{1,32})\] (?:tag#\d{1,7} )?CDB:(?: .|\s*$)|[A-Z][\w ()/-]{0,40}?\(\d{1,2}\):? [0-9a-f]{2} )/;

/** A "(" followed by a digit at index 1..41, as SD_REPORT_END's second form needs ("Sense Key (5): 20 ..."
 * has one; "EXT4-fs (sda1): ..." and "IPv6: ADDRCONF(NETDEV_UP)" do not). */
function digitParen(msg: string): boolean {
  for (let i = msg.indexOf("("); i > 0 && i <= 41; i = msg.indexOf("(", i + 1)) {
    const d = msg.charCodeAt(i + 1);
    if (d >= 48 && d <= 57) return true;
  }
  return false;
}

/** The message starts as SD_REPORT_END's first form must: /^[a-z]{1,8} \d/. */
function driverStart(msg: string): boolean {
  let i = 0;
  for (let c = msg.charCodeAt(0); i < 9 && c >= 97 && c <= 122; c = msg.charCodeAt(++i));
  const d = msg.charCodeAt(i + 1);
  return i >= 1 && i <= 8 && msg.charCodeAt(i) === 32 && d >= 48 && d <= 57;
}

/**
 * Lines are single events, except the block layer's line right after a SCSI failure report on the
 * same disk: the scsi parser keeps that line inside its SCSI_SENSE / SCSI_CMD_FAILED report (one
 * failure, one event), so it is not a BLK_* event of its own.
 */
export function blockParser(): KmsgParserState {
  const lines = lineParser(BLOCK_TABLE, build);
  let afterReport: string | undefined; // the disk of a SCSI report whose last line was the previous record
  return {
    parse(rec, msg, emit) {
      const prev = afterReport;
      // The regex's two forms: "driver H:C:T:L: ... CDB:", or an upper-case start and a "(" with a
      // digit after it within the first 42 characters. Most lines skip it.
      const c = msg.charCodeAt(0);
      const end = (c >= 65 && c <= 90 && digitParen(msg)) || (driverStart(msg) && msg.includes("CDB:")) ? SD_REPORT_END.exec(msg) : null;
      afterReport = end ? (end.groups?.disk ?? prev) : undefined;
      if (prev !== undefined && msg.includes(` error, dev ${prev}, sector `) && BLOCK_TABLE.match(msg)?.id === "req_error") return;
      lines.parse(rec, msg, emit);
    },
  };
}
