// libata messages -> ATA_* events. Link up/down are single lines; an exception is a report of
// several records (exception line, description, SError, failed command, cmd/res taskfiles,
// status/error bits) held per port and emitted as one ATA_EXCEPTION.
import type { EventDraft, KmsgRecord } from "../../../src/plugin-api.ts";
import { HeldReports, PatternTable, bitNames, decNum, fromRecord, hexNum, type KPattern } from "../../../src/util/kpattern.ts";

// ata_link_printk/ata_dev_printk prefix: "ata%u: " (host link), "ata%u.%02u: " (device or PMP link).
const PFX = String.raw`^(?<link>ata(?<port>\d{1,4})(?:\.(?<sub>\d{2}))?): `;
const re = (body: string) => new RegExp(PFX + body);
const TF = String.raw`[0-9a-f]{2}/[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}/[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}/[0-9a-f]{2}`;

export type AtaPatternId = "link_down" | "link_up" | "disabled" | "exception" | "serror" | "failed_cmd" | "cmd_res" | "status" | "error";

export const ATA_PATTERNS: readonly KPattern<AtaPatternId>[] = [
  {
    id: "link_down", needle: "SATA link down (SStatus ",
    re: re(String.raw`SATA link down \(SStatus (?<ss>[0-9A-Fa-f]{1,8}) SControl (?<sc>[0-9A-Fa-f]{1,8})\)$`),
    source: "drivers/ata/libata-core.c (sata_print_link_status; libata-sata.c in 6.x)",
    format: `"SATA link down (SStatus %X SControl %X)\\n"`,
  },
  {
    id: "link_up", needle: "SATA link up ",
    re: re(String.raw`SATA link up (?<spd>\d{1,2}\.\d Gbps|<unknown>) \(SStatus (?<ss>[0-9A-Fa-f]{1,8}) SControl (?<sc>[0-9A-Fa-f]{1,8})\)$`),
    source: "drivers/ata/libata-core.c (sata_print_link_status), speed from sata_spd_string",
    format: `"SATA link up %s (SStatus %X SControl %X)\\n"`,
  },
  {
    id: "disabled", needle: "disable",
    re: re(String.raw`(?:disable device|disabled)$`),
    source: "drivers/ata/libata-eh.c (ata_dev_disable)",
    format: `"disable device\\n" (5.19+), "disabled\\n" (4.18/5.14)`,
  },
  {
    id: "exception", needle: "exception Emask 0x",
    re: re(String.raw`exception Emask 0x(?<emask>[0-9a-f]{1,8}) SAct 0x(?<sact>[0-9a-f]{1,8}) SErr 0x(?<serr>[0-9a-f]{1,8}) action 0x(?<action>[0-9a-f]{1,8})(?<frozen> frozen)?(?: t(?<tries>\d{1,3}))?$`),
    source: "drivers/ata/libata-eh.c (ata_eh_link_report)",
    format: `"exception Emask 0x%x SAct 0x%x SErr 0x%x action 0x%x%s%s\\n" (" frozen", " t%d")`,
  },
  {
    id: "serror", needle: "SError: { ",
    re: re(String.raw`SError: \{ (?<names>[A-Za-z0-9 ]{0,200})\}$`),
    source: "drivers/ata/libata-eh.c (ata_eh_link_report)",
    format: `"SError: { %s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s}\\n" ("RecovData ", "PHYRdyChg ", ...)`,
  },
  {
    id: "failed_cmd", needle: "failed command: ",
    re: re(String.raw`failed command: (?<cmd>[\w ()/.,-]{1,60})$`),
    source: "drivers/ata/libata-eh.c (ata_eh_link_report), names from ata_get_cmd_name/ata_get_cmd_descript",
    format: `"failed command: %s\\n"`,
  },
  {
    id: "cmd_res", needle: " Emask 0x",
    re: re(String.raw`cmd (?<cmd>${TF}) tag (?<tag>\d{1,3})(?<data>[\w ]{0,40}?)(?:\\x0a|\n) {0,12}(?<cdb>[^\\\n]{0,160}?)res (?<res>${TF}) Emask 0x(?<qemask>[0-9a-f]{1,8}) \((?<qerr>[^()]{1,40})\)(?<ncq> <F>)?$`),
    source: "drivers/ata/libata-eh.c (ata_eh_link_report)",
    format: `"cmd %02x/%02x:%02x:%02x:%02x:%02x/%02x:%02x:%02x:%02x:%02x/%02x tag %d%s\\n         %sres %02x/...%02x Emask 0x%x (%s)%s\\n" (/dev/kmsg escapes the newline as \\x0a)`,
  },
  {
    id: "status", needle: "status: { ",
    re: re(String.raw`status: \{ (?<bits>[A-Za-z ]{1,60})\}$`),
    source: "drivers/ata/libata-eh.c (ata_eh_link_report, CONFIG_ATA_VERBOSE_ERROR)",
    format: `"status: { %s%s%s%s%s}\\n" / "status: { Busy }\\n"`,
  },
  {
    id: "error", needle: "error: { ",
    re: re(String.raw`error: \{ (?<bits>[A-Za-z ]{1,60})\}$`),
    source: "drivers/ata/libata-eh.c (ata_eh_link_report, CONFIG_ATA_VERBOSE_ERROR)",
    format: `"error: { %s%s%s%s%s}\\n"`,
  },
];

export const ATA_TABLE = new PatternTable<AtaPatternId>(ATA_PATTERNS, (msg) => msg.startsWith("ata"));

/** AC_ERR_* of include/linux/libata.h, by bit. */
const AC_ERR: Readonly<Record<number, string>> = {
  0: "device error", 1: "HSM violation", 2: "timeout", 3: "media error", 4: "ATA bus error",
  5: "host bus error", 6: "system error", 7: "invalid argument", 8: "unknown error", 9: "nodev hint", 10: "NCQ",
};
/** SERR_* of include/linux/ata.h, by bit, named as ata_eh_link_report prints them. */
const SERR: Readonly<Record<number, string>> = {
  0: "RecovData", 1: "RecovComm", 8: "UnrecovData", 9: "Persist", 10: "Proto", 11: "HostInt",
  16: "PHYRdyChg", 17: "PHYInt", 18: "CommWake", 19: "10B8B", 20: "Dispar", 21: "BadCRC",
  22: "Handshk", 23: "LinkSeq", 24: "TrStaTrns", 25: "UnrecFIS", 26: "DevExch",
};
/** ATA_EH_* actions of include/linux/libata.h, by bit. */
const EH_ACTION: Readonly<Record<number, string>> = {
  0: "revalidate", 1: "softreset", 2: "hardreset", 3: "enable_link", 5: "park",
};
/** Emask bits that mean the device or host failed (not only the link flapped). */
const SEVERE_EMASK = 0x1 | 0x2 | 0x4 | 0x8 | 0x20 | 0x40;

/** SStatus DET/SPD/IPM fields (SATA spec), decoded for the extension. */
function sstatus(ss: number): Record<string, number> {
  return { det: ss & 0xf, spd: (ss >> 4) & 0xf, ipm: (ss >> 8) & 0xf };
}

interface Report {
  records: string[];
  port: string;
  link: string;
  time_us?: number;
  source: string;
  emask: number;
  sact: string;
  serr: number;
  action: number;
  frozen: boolean;
  tries?: number;
  desc?: string;
  serrorNames?: string[];
  commands: Array<Record<string, unknown>>;
}

type Emit = (d: EventDraft) => void;
/** Bound on the records (and commands) one exception report keeps. */
const MAX_RECORDS = 256;

export class AtaParser {
  private held: HeldReports<Report>;

  constructor(holdMs: number, now?: () => number) {
    this.held = new HeldReports<Report>(holdMs, 64, now);
  }

  parse(rec: KmsgRecord, msg: string, emit: Emit): void {
    const m = ATA_TABLE.match(msg);
    if (!m) {
      if (this.held.size > 0) this.other(msg, rec.raw, emit);
      return;
    }
    const g = m.groups;
    const port = `ata${g.port}`;
    switch (m.id) {
      case "link_down":
      case "link_up": {
        this.endPort(port, emit);
        const ss = hexNum(g.ss)!;
        const up = m.id === "link_up";
        const ext: Record<string, unknown> = { port, link: g.link, sstatus: `0x${g.ss!.toLowerCase()}`, scontrol: `0x${g.sc!.toLowerCase()}`, ...sstatus(ss) };
        if (up) ext.speed = g.spd;
        emit({
          ...fromRecord(rec, msg), system: "ata", dev_name: port, extension: ext,
          severity: up ? "info" : "warn", event_type: up ? "ATA_LINK_UP" : "ATA_LINK_DOWN",
          msg: `SATA link ${up ? `up at ${g.spd}` : "down"}${g.link !== port ? ` on ${g.link}` : ""}${!up && (ss & 0xf) === 0 ? " (no device detected)" : ""}`,
        });
        return;
      }
      case "disabled":
        this.endPort(port, emit);
        emit({
          ...fromRecord(rec, msg), system: "ata", dev_name: port, extension: { port, link: g.link },
          severity: "error", event_type: "ATA_DEVICE_DISABLED", msg: `ATA device ${g.link} disabled by the error handler`,
        });
        return;
      case "exception": {
        const r: Report = {
          records: [rec.raw], port, link: g.link!, time_us: rec.time_us, source: rec.source,
          emask: hexNum(g.emask)!, sact: `0x${g.sact}`, serr: hexNum(g.serr)!, action: hexNum(g.action)!,
          frozen: g.frozen !== undefined, tries: decNum(g.tries), commands: [],
        };
        for (const old of this.held.open(port, r)) emit(toDraft(old));
        return;
      }
      default: {
        const r = this.held.get(port);
        if (!r) return; // report parts without an exception line (e.g. after a dropped record)
        if (r.records.length >= MAX_RECORDS) return; // 32 failed NCQ commands take ~160 records
        r.records.push(rec.raw);
        this.held.touch(port);
        const cmd = r.commands.at(-1);
        switch (m.id) {
          case "serror":
            r.serrorNames = g.names!.trim().split(/\s+/).filter(Boolean);
            return;
          case "failed_cmd":
            r.commands.push({ device: g.link, command: g.cmd });
            return;
          case "cmd_res": {
            const c = cmd && cmd.taskfile === undefined && cmd.device === g.link ? cmd : { device: g.link };
            if (c !== cmd) r.commands.push(c);
            Object.assign(c, {
              taskfile: g.cmd, tag: decNum(g.tag), result: g.res, emask: hexNum(g.qemask), emask_text: g.qerr, ncq_failed: g.ncq !== undefined,
            });
            const data = g.data?.trim();
            if (data) c.data = data;
            return;
          }
          case "status":
          case "error":
            if (cmd) cmd[m.id] = g.bits!.trim().split(/\s+/);
            return;
        }
      }
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

  private endPort(port: string, emit: Emit): void {
    const r = this.held.take(port);
    if (r) emit(toDraft(r));
  }

  /** A line outside the table: the description right after an exception, or the end of a report. */
  private other(msg: string, raw: string, emit: Emit): void {
    const m = /^(?<link>ata(?<port>\d{1,4})(?:\.\d{2})?): (?<text>.*)$/s.exec(msg);
    if (!m) return;
    const port = `ata${m.groups!.port}`;
    const r = this.held.get(port);
    if (!r) return;
    if (r.records.length === 1 && r.desc === undefined && m.groups!.text!.length <= 200) {
      r.desc = m.groups!.text;
      r.records.push(raw);
      this.held.touch(port);
      return;
    }
    this.endPort(port, emit); // EH moved on: "hard resetting link", "configured for ...", "EH complete"
  }
}

function toDraft(r: Report): EventDraft {
  let mask = r.emask;
  for (const c of r.commands) mask |= (c.emask as number | undefined) ?? 0;
  const ext: Record<string, unknown> = {
    port: r.port, link: r.link,
    emask: r.emask, emask_names: bitNames(r.emask, AC_ERR),
    sact: r.sact, serr: r.serr, serr_names: r.serrorNames ?? bitNames(r.serr, SERR),
    action: r.action, action_names: bitNames(r.action, EH_ACTION), frozen: r.frozen,
  };
  if (r.tries !== undefined) ext.tries = r.tries;
  if (r.desc !== undefined) ext.desc = r.desc;
  if (r.commands.length) ext.commands = r.commands;
  const errs = bitNames(mask & ~0x600, AC_ERR); // without the nodev/NCQ markers
  const first = r.commands[0];
  const what = first?.command ? ` during ${first.command}` : "";
  return {
    time_us: r.time_us, source: r.source, raw: r.records.join("\n"), system: "ata", dev_name: r.port, extension: ext,
    severity: mask & SEVERE_EMASK ? "error" : "warn", event_type: "ATA_EXCEPTION",
    msg: `exception on ${r.link}${errs.length ? ` (${errs.join(", ")})` : ""}${what}${r.frozen ? ", port frozen" : ""}`,
  };
}
