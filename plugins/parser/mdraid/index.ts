// md software RAID parser: member failures, degraded/started/stopped arrays, resync/recovery.
import * as v from "valibot";
import { definePlugin, type EventDraft, type KmsgRecord, type RawRecord } from "../../../src/plugin-api.ts";
import { decNum, kernelMsg, type GuardContext } from "../../../src/plugin-kit/kernel.ts";
import { invalidText, NO_GUARD, recordLines } from "../../../src/plugin-kit/kernel.ts";
import { mayBeMd, mdTable } from "./patterns.ts";
import { MdadmMonitor } from "./mdadm.ts";
import sample from "./sample.toml" with { type: "text" };
import { EVENTS } from "./events.ts";

export const schema = v.strictObject({
  mdadm_daemons: v.pipe(
    v.optional(v.array(v.string()), ["mdadm"]),
    v.description("Journal identifiers whose lines are read as `mdadm --monitor --syslog`'s (see mdadm.ts)."),
  ),
  report_checks: v.pipe(
    v.optional(v.boolean(), true),
    v.description(
      "Report scheduled consistency checks (\"check\"/\"data-check\" runs, usually from a monthly cron or " +
        "timer) as MD_RESYNC_STARTED/DONE too; false keeps only resync, recovery, repair and reshape.",
    ),
  ),
});

type Emit = (d: EventDraft) => void;

/** The kernel's sync action names across versions, as one vocabulary (6.11+ names). */
const ACTION: Record<string, string> = {
  resync: "resync", "requested-resync": "repair", repair: "repair", rectify: "rectify",
  recovery: "recover", recover: "recover", "data-check": "check", check: "check", reshape: "reshape",
};
const ACTION_TEXT: Record<string, string> = {
  resync: "resync", repair: "repair", rectify: "bad-block rectify", recover: "recovery (rebuild)",
  check: "consistency check", reshape: "reshape",
};

function levelName(level: string | undefined): string {
  return level ? `raid${level}` : "raid4/5/6";
}

export class MdParser {
  readonly accepts = ["kmsg", "journal"] as const;
  /** A member failure, held for the "Operation continuing on N devices." / "Cannot continue
   * operation" line that completes the report (same record on 4.18, the next one on 5.x/6.x). */
  private failure: { d: EventDraft; seq: number } | undefined;
  private mdadm: MdadmMonitor;
  private mdadmNames: Set<string>;
  constructor(private reportChecks: boolean, private guard: GuardContext = NO_GUARD, mdadmNames: readonly string[] = ["mdadm"],
    resolve: (path: string) => string = () => "") {
    this.mdadm = new MdadmMonitor(resolve, 120_000, (n) => guard.count(n));
    this.mdadmNames = new Set(mdadmNames);
  }

  /** Released by the 250 ms flush (no nextFlushIn); the kmsg cursor stays before it meanwhile. */
  oldestHeld(_source: string): number | undefined {
    return this.failure?.seq;
  }

  flush(out: Emit, _final: boolean): void {
    if (this.failure) this.kernelEmit(out)(this.failure.d);
    this.failure = undefined;
  }

  /** The kernel's events pass mdadm's join: one failure, one event (mdadm.ts). */
  private kernelEmit(out: Emit): Emit {
    return (d) => void (this.mdadm.kernel(d) && out(d));
  }

  /** Completes the held failure with the array's state; false when `line` is not its sequel. */
  private complete(id: string, g: Record<string, string | undefined>, rec: KmsgRecord, emit: Emit): boolean {
    const f = this.failure;
    if (!f || (id !== "continuing" && id !== "cannot_continue") || f.d.extension?.array !== g.md) return false;
    this.failure = undefined;
    const d = f.d;
    if (rec.seq !== f.seq) d.raw = `${d.raw}\n${rec.raw}`;
    const ext = d.extension!;
    if (id === "continuing") {
      ext.operation_continuing_on = decNum(g.n);
      d.msg = `${d.msg} The array continues on ${g.n} device${g.n === "1" ? "" : "s"}.`;
    } else {
      ext.array_failed = true;
      ext.failed_devices = decNum(g.failed);
      ext.raid_devices = decNum(g.total);
      d.msg = `${d.msg} The array cannot continue: ${g.failed} of ${g.total} devices failed.`;
    }
    emit(d);
    return true;
  }

  parse(rec: RawRecord, out: Emit): void {
    if (rec.kind === "journal") {
      if (this.mdadmNames.has(rec.daemon)) this.mdadm.parse(rec, out);
      return;
    }
    if (rec.kind !== "kmsg") return;
    const msg = kernelMsg(rec, this.guard);
    if (msg === undefined || !mayBeMd(msg)) return;
    this.parseMd(rec, msg, out);
  }

  /** A kmsg record whose message the pipeline already guarded (kernelMsg): as parse() without the second guard. */
  parseGuarded(rec: KmsgRecord, msg: string, out: Emit): void {
    if (mayBeMd(msg)) this.parseMd(rec, msg, out);
  }

  // Apart from the prefix test that every record runs: the JIT compiles this only for md's messages,
  // and the join's emit is made only for them.
  private parseMd(rec: KmsgRecord, msg: string, out: Emit): void {
    const emit = this.kernelEmit(out);
    for (const line of recordLines(msg)) {
      const m = mdTable.match(line);
      if (!m) continue;
      if (invalidText(line, this.guard)) continue;
      if (this.complete(m.id, m.groups, rec, emit)) continue;
      this.flush(out, false);
      const d = this.build(m.id, m.groups, rec);
      if (!d) continue;
      if (m.id === "disk_failure") {
        this.failure = { d, seq: rec.seq };
        continue;
      }
      emit(d);
      if (d.event_type === "MD_ARRAY_STARTED" && d.extension?.degraded === true) {
        const { active_devices, level } = d.extension;
        emit({
          ...d, severity: "warn", event_type: "MD_ARRAY_DEGRADED", msg: `md array ${d.dev_name} is degraded: running on ${active_devices} devices.`,
          extension: { array: d.dev_name, level, active_devices },
        });
      }
    }
  }

  private build(id: string, g: Record<string, string | undefined>, rec: KmsgRecord): EventDraft | undefined {
    const md = g.md!;
    if (id === "kicked") {
      return {
        severity: "warn", system: "mdraid", event_type: "MD_DISK_FAILED", dev_name: g.member!, time_us: rec.time_us, raw: rec.raw,
        msg: `md left member ${g.member} out of its array at assembly: its superblock is stale (non-fresh).`,
        extension: { member: g.member, reason: "non-fresh" },
      };
    }
    const at = { time_us: rec.time_us, raw: rec.raw, system: "mdraid" as const };
    switch (id) {
      case "disk_failure":
        return {
          ...at, severity: "error", event_type: "MD_DISK_FAILED", dev_name: g.member!, owners: [{ dev_name: md, dev_wwid: "" }],
          msg: `md ${levelName(g.level)} array ${md} marked member ${g.member} faulty and disabled it.`,
          extension: { array: md, level: levelName(g.level), member: g.member },
        };
      case "continuing": {
        const n = decNum(g.n)!;
        return {
          ...at, severity: n === 0 ? "error" : "warn", event_type: "MD_ARRAY_DEGRADED", dev_name: md,
          msg: `md array ${md} is degraded: operation continuing on ${n} device${n === 1 ? "" : "s"}.`,
          extension: { array: md, level: levelName(g.level), active_devices: n },
        };
      }
      case "cannot_continue":
        return {
          ...at, severity: "error", event_type: "MD_ARRAY_FAILED", dev_name: md,
          msg: `md array ${md} cannot continue: ${g.failed} of ${g.total} devices failed.`,
          extension: { array: md, level: levelName(g.level), failed_devices: decNum(g.failed), raid_devices: decNum(g.total) },
        };
      case "sync_start": {
        const action = ACTION[g.action!]!;
        if (action === "check" && !this.reportChecks) return undefined;
        return {
          ...at, severity: "info", event_type: "MD_RESYNC_STARTED", dev_name: md,
          msg: `md array ${md}: ${ACTION_TEXT[action]} started.`, extension: { array: md, action, kernel_action: g.action },
        };
      }
      case "sync_end": {
        const action = ACTION[g.action!]!;
        if (action === "check" && !this.reportChecks) return undefined;
        const done = g.result === "done";
        return {
          ...at, severity: done ? "info" : "warn", event_type: done ? "MD_RESYNC_DONE" : "MD_RESYNC_INTERRUPTED", dev_name: md,
          msg: `md array ${md}: ${ACTION_TEXT[action]} ${done ? "finished" : "interrupted"}.`,
          extension: { array: md, action, kernel_action: g.action, result: g.result },
        };
      }
      case "stopped":
        return { ...at, severity: "info", event_type: "MD_ARRAY_STOPPED", dev_name: md, msg: `md array ${md} stopped.`, extension: { array: md } };
      case "raid1_active":
      case "raid10_active":
      case "raid5_active": {
        const active = decNum(g.active)!;
        const total = decNum(g.total)!;
        const level = id === "raid1_active" ? "raid1" : id === "raid10_active" ? "raid10" : `raid${g.level}`;
        const degraded = active < total;
        const extension: Record<string, unknown> = { array: md, level, active_devices: active, raid_devices: total, degraded };
        if (g.algorithm) extension.algorithm = decNum(g.algorithm);
        return {
          ...at, severity: degraded ? "warn" : "info", event_type: "MD_ARRAY_STARTED", dev_name: md,
          msg: `md ${level} array ${md} started with ${active} of ${total} devices${degraded ? " (degraded)" : ""}.`, extension,
        };
      }
      case "not_enough":
        return {
          ...at, severity: "error", event_type: "MD_ARRAY_FAILED", dev_name: md,
          msg: `md array ${md} cannot run: ${g.failed} of ${g.total} devices failed.`,
          extension: { array: md, level: levelName(g.level), failed_devices: decNum(g.failed), raid_devices: decNum(g.total) },
        };
      case "capacity": {
        const from = decNum(g.old);
        const to = decNum(g.new);
        return {
          ...at, severity: "info", event_type: "MD_ARRAY_CAPACITY_CHANGED", dev_name: md,
          msg: `md array ${md} capacity changed from ${g.old} to ${g.new}.`, extension: { array: md, old_size: from, new_size: to },
        };
      }
    }
    return undefined;
  }
}

export default definePlugin({
  kind: "parser",
  name: "mdraid",
  emits: EVENTS,
  description: "Linux md software RAID kernel messages: failed members, degraded, started, stopped and failed arrays, resync/recovery start and end.",
  schema,
  sample,
  create(config, ctx) {
    const resolve = (path: string) => (path.startsWith("/dev/md/") ? ctx.devices.identify(path).dev_name : "");
    return new MdParser(config.report_checks, ctx, config.mdadm_daemons, resolve);
  },
});
