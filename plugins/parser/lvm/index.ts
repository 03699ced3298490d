// Parser plugin "lvm": dmeventd's journal lines -> LVM_* events (system "lvm"): thin pool and
// snapshot usage, full thin pools, invalid snapshots, RAID repairs, degraded mirrors.
import * as v from "valibot";
import { definePlugin, type EventDraft, type JournalRecord, type Parser, type RawRecord } from "../../../src/plugin-api.ts";
import { decNum } from "../../../src/plugin-kit/kernel.ts";
import { LVM_TABLE, splitDmName } from "./patterns.ts";
import sample from "./sample.toml" with { type: "text" };
import { EVENTS } from "./events.ts";

export const schema = v.strictObject({
  daemons: v.pipe(v.optional(v.array(v.string()), ["dmeventd", "lvm"]), v.description(
    "Journal identifiers whose lines are read as dmeventd's (and lvm's).",
  )),
  error_percent: v.pipe(v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(100)), 95), v.description(
    "Thin pool and snapshot usage at or above this percentage is an error; below it a warning (dmeventd logs from 80% in 5% steps).",
  )),
});

export function parseDmeventd(rec: JournalRecord, errorPercent: number): EventDraft | undefined {
  const m = LVM_TABLE.match(rec.msg);
  if (!m) return undefined;
  const g = m.groups;
  const dm = g.dm ?? "";
  const ext: Record<string, unknown> = { daemon_pid: rec.pid };
  let lvName = g.lv ?? "";
  if (dm) {
    const { vg, lv, layer } = splitDmName(dm);
    Object.assign(ext, { dm_name: dm, vg, lv });
    if (layer) ext.layer = layer;
    lvName = `${vg}/${lv}`;
  } else if (g.lv) {
    const [vg, lv] = g.lv.split("/");
    Object.assign(ext, { vg, lv });
  }
  const base = { system: "lvm" as const, dev_name: dm || lvName, time_us: rec.time_us, raw: rec.raw, extension: ext };
  const pct = g.pct !== undefined ? Number(g.pct) : 0;
  switch (m.id) {
    case "thin_usage": {
      ext[g.what === "data" ? "data_percent" : "metadata_percent"] = pct;
      ext.usage = g.what;
      if (g.what === "data" && pct >= 100) {
        return { ...base, severity: "error", event_type: "LVM_THIN_POOL_FULL", msg: `Thin pool ${lvName} is out of data space (${g.pct}% full).` };
      }
      return {
        ...base, severity: pct >= errorPercent ? "error" : "warn", event_type: "LVM_THIN_POOL_USAGE",
        msg: `Thin pool ${lvName} ${g.what} is ${g.pct}% full.`,
      };
    }
    case "snapshot_usage":
      ext.percent = pct;
      return {
        ...base, severity: pct >= errorPercent ? "error" : "warn", event_type: "LVM_SNAPSHOT_USAGE",
        msg: `Snapshot ${lvName} is ${g.pct}% full.`,
      };
    case "snapshot_invalid":
      ext.state = g.state;
      return { ...base, severity: "error", event_type: "LVM_SNAPSHOT_INVALID", msg: `Snapshot ${lvName} is ${g.state} (overflowed or failed) and should be removed.` };
    case "raid_device_failed":
      Object.assign(ext, { phase: "started", raid_type: g.type, failed_device: decNum(g.n) });
      return { ...base, severity: "warn", event_type: "LVM_RAID_REPAIR", msg: `Device #${g.n} of ${g.type} LV ${lvName} failed; dmeventd repairs it.` };
    case "raid_primary_failed":
      Object.assign(ext, { phase: "started", reason: "primary sources failed" });
      return { ...base, severity: "error", event_type: "LVM_RAID_REPAIR", msg: `The primary sources of new RAID LV ${lvName} failed; dmeventd repairs it.` };
    case "raid_repair_failed":
      ext.phase = "failed";
      return { ...base, severity: "error", event_type: "LVM_RAID_REPAIR", msg: `Repair of RAID LV ${lvName} failed.` };
    case "repair_replaced":
      ext.phase = "succeeded";
      return { ...base, severity: "info", event_type: "LVM_RAID_REPAIR", msg: `Faulty devices of LV ${lvName} were replaced.` };
    case "mirror_failure":
      ext.phase = "failed_device";
      return { ...base, severity: "warn", event_type: "LVM_MIRROR_DEGRADED", msg: `A device of mirror LV ${lvName} failed; dmeventd repairs it.` };
    case "mirror_repair_failed":
      ext.phase = "repair_failed";
      return { ...base, severity: "error", event_type: "LVM_MIRROR_DEGRADED", msg: `Repair of mirror LV ${lvName} failed.` };
    case "mirror_repair_done":
      ext.phase = "repaired";
      return { ...base, severity: "info", event_type: "LVM_MIRROR_DEGRADED", msg: `Mirror LV ${lvName} was repaired.` };
  }
}

export function createLvmParser(daemons: readonly string[], errorPercent: number): Parser {
  const names = new Set(daemons);
  return {
    accepts: ["journal"],
    parse(rec: RawRecord, emit: (d: EventDraft) => void) {
      if (rec.kind !== "journal" || !names.has(rec.daemon)) return;
      const d = parseDmeventd(rec, errorPercent);
      if (d) emit(d);
    },
  };
}

export default definePlugin({
  kind: "parser",
  name: "lvm",
  emits: EVENTS,
  description: "dmeventd's journal lines: thin pool/snapshot usage, full pools, invalid snapshots, RAID repairs, degraded mirrors.",
  schema,
  sample,
  create: (config) => createLvmParser(config.daemons, config.error_percent),
});
