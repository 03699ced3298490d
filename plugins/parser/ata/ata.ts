// libata messages -> ATA_* events. Link up/down are single lines; an exception is a report of
// several records (exception line, description, SError, failed command, cmd/res taskfiles,
// status/error bits) held per port and emitted as one ATA_EXCEPTION.
import type { EventDraft, KmsgRecord } from "../../../src/plugin-api.ts";
import { HeldReports, PatternTable, bitNames, decNum, fromRecord, hexNum, type KMatch, type KPattern } from "../../../src/plugin-kit/kernel.ts";

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
/** Emask bits that mean the command failed at the device (AC_ERR_DEV, AC_ERR_MEDIA): the I/O is lost.
 * Timeouts, HSM violations and bus errors are retried after a reset: warn (plugins/parser/README.md). */
const FAILED_EMASK = 0x1 | 0x8;

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
  /** What error handling left: link state after a reset, the mode configured, device disabled. */
  link_state?: string;
  configured?: string;
  disabled?: boolean;
}

type Emit = (d: EventDraft) => void;
/** Bound on the records (and commands) one exception report keeps. */
const MAX_RECORDS = 256;

/** The cmd half of a taskfile pair when dmesg text split it from its res line. */
const CMD_LINE = new RegExp(String.raw`^cmd (?<cmd>${TF}) tag (?<tag>\d{1,3})(?<data>[\w ]{0,40})$`);
// Any line of a port, e.g. what error handling did next ("ata1.00: configured for UDMA/133").
const ATA_LINE = /^(?<link>ata(?<port>\d{1,4})(?:\.\d{2})?): (?<text>.*)$/s;
const RES_LINE = new RegExp(String.raw`^\s{0,80}res (?<res>${TF}) Emask 0x(?<qemask>[0-9a-f]{1,8}) \((?<qerr>[^()]{1,40})\)(?<ncq> <F>)?\s*$`);

export class AtaParser {
  private held: HeldReports<Report>;
  /** The port whose report took the previous record (a split taskfile's res line follows it). */
  private lastPort: string | undefined;

  constructor(holdMs: number, now?: () => number) {
    this.held = new HeldReports<Report>(holdMs, 64, now);
  }

  parse(rec: KmsgRecord, msg: string, emit: Emit): void {
    const m = ATA_TABLE.match(msg);
    if (!m) {
      if (this.held.size > 0) this.other(msg, rec.raw, emit);
      return;
    }
    this.matched(m, rec, msg, emit);
  }

  // Apart from parse(), which every record runs: the JIT compiles this only for ata's messages.
  private matched(m: KMatch<AtaPatternId>, rec: KmsgRecord, msg: string, emit: Emit): void {
    const g = m.groups;
    const port = `ata${g.port}`;
    switch (m.id) {
      case "link_down":
      case "link_up": {
        const held = this.held.get(port);
        if (held && held.records.length < MAX_RECORDS) {
          // Error handling resets the link: its down/up lines belong to the report.
          held.records.push(rec.raw);
          held.link_state = m.id === "link_up" ? `up ${g.spd}` : "down";
          this.held.touch(port);
          this.lastPort = port;
          return;
        }
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
      case "disabled": {
        const held = this.held.get(port);
        if (held && held.records.length < MAX_RECORDS) {
          held.records.push(rec.raw);
          held.disabled = true;
          this.endPort(port, emit);
          return;
        }
        emit({
          ...fromRecord(rec, msg), system: "ata", dev_name: port, extension: { port, link: g.link },
          severity: "error", event_type: "ATA_DEVICE_DISABLED", msg: `ATA device ${g.link} disabled by the error handler`,
        });
        return;
      }
      case "exception": {
        const r: Report = {
          records: [rec.raw], port, link: g.link!, time_us: rec.time_us, source: rec.source,
          emask: hexNum(g.emask)!, sact: `0x${g.sact}`, serr: hexNum(g.serr)!, action: hexNum(g.action)!,
          frozen: g.frozen !== undefined, tries: decNum(g.tries), commands: [],
        };
        for (const old of this.held.open(port, r)) emit(toDraft(old));
        this.lastPort = port;
        return;
      }
      default: {
        const r = this.held.get(port);
        if (!r) return; // report parts without an exception line (e.g. after a dropped record)
        if (r.records.length >= MAX_RECORDS) return; // 32 failed NCQ commands take ~160 records
        r.records.push(rec.raw);
        this.held.touch(port);
        this.lastPort = port;
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

  /**
   * A line outside the table: the description right after an exception, a taskfile split over two
   * records (dmesg text), or what error handling did next ("hard resetting link", "configured for
   * UDMA/133", ...) up to "EH complete", which ends the report.
   */
  private other(msg: string, raw: string, emit: Emit): void {
    const lp = this.lastPort;
    this.lastPort = undefined;
    const res = lp !== undefined ? RES_LINE.exec(msg) : null;
    const lr = lp !== undefined ? this.held.get(lp) : undefined;
    if (res && lr && lr.records.length < MAX_RECORDS) {
      const cmd = lr.commands.at(-1);
      if (cmd && cmd.taskfile !== undefined && cmd.result === undefined) {
        Object.assign(cmd, { result: res.groups!.res, emask: hexNum(res.groups!.qemask), emask_text: res.groups!.qerr, ncq_failed: res.groups!.ncq !== undefined });
        lr.records.push(raw);
        this.held.touch(lp!);
        this.lastPort = lp;
        return;
      }
    }
    // Every record while a report is held comes here: most are not ata's (no regex, no RegExp object).
    const m = msg.startsWith("ata") ? ATA_LINE.exec(msg) : null;
    if (!m) return;
    const port = `ata${m.groups!.port}`;
    const r = this.held.get(port);
    if (!r || r.records.length >= MAX_RECORDS) return;
    const text = m.groups!.text!;
    r.records.push(raw);
    this.held.touch(port);
    this.lastPort = port;
    const cmdOnly = CMD_LINE.exec(text);
    if (cmdOnly) {
      const c: Record<string, unknown> = { device: m.groups!.link, taskfile: cmdOnly.groups!.cmd, tag: decNum(cmdOnly.groups!.tag) };
      const data = cmdOnly.groups!.data?.trim();
      if (data) c.data = data;
      const last = r.commands.at(-1);
      if (last && last.taskfile === undefined && last.device === c.device) Object.assign(last, c);
      else r.commands.push(c);
      return;
    }
    if (r.records.length === 2 && r.desc === undefined && text.length <= 200) {
      r.desc = text;
      return;
    }
    if (text.startsWith("configured for ")) r.configured = text.slice(15);
    if (text === "EH complete") this.endPort(port, emit);
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
  if (r.link_state !== undefined) ext.link_after_reset = r.link_state;
  if (r.configured !== undefined) ext.configured_for = r.configured;
  if (r.disabled) ext.device_disabled = true;
  const errs = bitNames(mask & ~0x600, AC_ERR); // without the nodev/NCQ markers
  const first = r.commands[0];
  const what = first?.command ? ` during ${first.command}` : "";
  return {
    time_us: r.time_us, source: r.source, raw: r.records.join("\n"), system: "ata", dev_name: r.port, extension: ext,
    severity: mask & FAILED_EMASK || r.disabled ? "error" : "warn", event_type: "ATA_EXCEPTION",
    msg: `exception on ${r.link}${errs.length ? ` (${errs.join(", ")})` : ""}${what}${r.frozen ? ", port frozen" : ""}`,
  };
}
