// Parser plugin "smart": smartd's journal lines -> SMART_* events (system "smart") for ATA, SCSI and
// NVMe devices. dev_name comes from the device path; the core adds the WWID from the inventory.
import * as v from "valibot";
import { definePlugin, type EventDraft, type JournalRecord, type Parser, type RawRecord } from "../../../src/plugin-api.ts";
import { decNum } from "../../../src/plugin-kit/kernel.ts";
import { SMART_TABLE, splitDevice, type SmartPatternId } from "./patterns.ts";
import sample from "./sample.toml" with { type: "text" };
import { EVENTS } from "./events.ts";

export const schema = v.strictObject({
  daemons: v.pipe(v.optional(v.array(v.string()), ["smartd"]), v.description(
    "Journal identifiers whose lines are read as smartd's.",
  )),
});

/** Attributes whose raw value counts reallocated sectors (ATA ids 5, 196). */
const REALLOCATED = new Set([5, 196]);
/** NVMe Critical Warning bits (NVMe base spec, SMART / Health log byte 0). */
const NVME_BITS: Readonly<Record<number, string>> = {
  0x01: "spare capacity below threshold", 0x02: "temperature threshold", 0x04: "reliability degraded",
  0x08: "read-only mode", 0x10: "volatile memory backup failed", 0x20: "persistent memory region unreliable",
};

function protocolOf(path: string, types: string[], id: SmartPatternId): string {
  const t = types.join(" ").toLowerCase();
  if (id === "nvme_critical" || path.startsWith("/dev/nvme") || t.includes("nvme")) return "nvme";
  if (id === "scsi_failure" || t.includes("scsi")) return "scsi";
  return "ata";
}

function devNameOf(path: string): string {
  return path.startsWith("/dev/") ? path.slice(5) : path;
}

export function parseSmartd(rec: JournalRecord): EventDraft | undefined {
  const dev = splitDevice(rec.msg);
  if (!dev) return undefined;
  const m = SMART_TABLE.match(dev.text);
  if (!m) return undefined;
  const g = m.groups;
  const name = devNameOf(dev.path);
  const ext: Record<string, unknown> = { device: dev.path, protocol: protocolOf(dev.path, dev.types, m.id), daemon_pid: rec.pid };
  if (dev.types.length) ext.device_type = dev.types.join(" ");
  const base = { system: "smart" as const, dev_name: name, time_us: rec.time_us, raw: rec.raw, extension: ext };
  const counts = () => {
    ext.count = decNum(g.n);
    if (g.d) ext.change = Number(g.d);
    ext.count_kind = g.kind === "Total" || g.kind === "Total offline" ? "total" : "current";
  };
  switch (m.id) {
    case "self_check_failed":
      return { ...base, severity: "error", event_type: "SMART_FAILURE_PREDICTED", msg: `${name} failed its SMART health self-check: back up its data now.` };
    case "scsi_failure":
      ext.ie_text = g.text;
      return { ...base, severity: "error", event_type: "SMART_FAILURE_PREDICTED", msg: `${name} reports a SMART failure: ${g.text}.` };
    case "nvme_critical": {
      const w = parseInt(g.w!, 16);
      ext.critical_warning = w;
      ext.warnings = Object.entries(NVME_BITS).filter(([b]) => w & Number(b)).map(([, t]) => t);
      if (w === 0x02) {
        return { ...base, severity: "warn", event_type: "SMART_TEMPERATURE", msg: `${name} reports an NVMe temperature warning: ${g.text}.` };
      }
      return { ...base, severity: "error", event_type: "SMART_FAILURE_PREDICTED", msg: `${name} reports NVMe critical warning 0x${g.w}: ${g.text}.` };
    }
    case "pending":
      counts();
      return { ...base, severity: "error", event_type: "SMART_PENDING_SECTORS", msg: `${name} has ${g.n} unreadable (pending) sectors${g.d ? ` (${g.d})` : ""}.` };
    case "offline_uncorrectable":
      counts();
      return { ...base, severity: "error", event_type: "SMART_OFFLINE_UNCORRECTABLE", msg: `${name} has ${g.n} offline uncorrectable sectors${g.d ? ` (${g.d})` : ""}.` };
    case "attribute_changed": {
      const id = decNum(g.id)!;
      if (!REALLOCATED.has(id)) return undefined;
      const raw = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
      const oldCount = raw(g.oldraw);
      const newCount = raw(g.newraw);
      Object.assign(ext, { attribute_id: id, attribute: g.name, old_value: decNum(g.old), new_value: decNum(g.new) });
      if (oldCount !== undefined) ext.old_count = oldCount;
      if (newCount !== undefined) ext.new_count = newCount;
      const what = newCount !== undefined ? `${oldCount} to ${newCount} sectors` : `normalized ${g.old} to ${g.new}`;
      return { ...base, severity: "warn", event_type: "SMART_REALLOCATED_SECTORS", msg: `${name} reallocated sectors changed from ${what} (${g.name}).` };
    }
    case "temperature":
      Object.assign(ext, { temperature_c: decNum(g.t), limit_c: decNum(g.limit), critical: g.crit !== undefined, min_max: g.minmax });
      return {
        ...base, severity: g.crit ? "error" : "warn", event_type: "SMART_TEMPERATURE",
        msg: `${name} reached ${g.t} °C, its ${g.crit ? "critical " : ""}limit of ${g.limit} °C.`,
      };
    case "selftest_count":
      Object.assign(ext, { old_errors: decNum(g.old), new_errors: decNum(g.new) });
      return { ...base, severity: "error", event_type: "SMART_SELFTEST_FAILED", msg: `${name} self-test log errors increased from ${g.old} to ${g.new}.` };
    case "selftest_new":
      ext.lifetime_hours = decNum(g.hour);
      return { ...base, severity: "error", event_type: "SMART_SELFTEST_FAILED", msg: `${name} logged a new self-test error at power-on hour ${g.hour}.` };
    case "error_count":
      Object.assign(ext, { old_errors: decNum(g.old), new_errors: decNum(g.new), log: g.proto });
      if (g.tail) ext.detail = g.tail.trim().slice(1, -1);
      return { ...base, severity: "warn", event_type: "SMART_ERROR_LOG_INCREASED", msg: `${name} ${g.proto} error log count increased from ${g.old} to ${g.new}.` };
  }
}

export function createSmartParser(daemons: readonly string[]): Parser {
  const names = new Set(daemons);
  return {
    accepts: ["journal"],
    parse(rec: RawRecord, emit: (d: EventDraft) => void) {
      if (rec.kind !== "journal" || !names.has(rec.daemon)) return;
      const d = parseSmartd(rec);
      if (d) emit(d);
    },
  };
}

export default definePlugin({
  kind: "parser",
  name: "smart",
  emits: EVENTS,
  description: "smartd's journal lines: failure predicted, pending/uncorrectable/reallocated sectors, temperature, self-test and error log (ATA, SCSI, NVMe).",
  schema,
  sample,
  create: (config) => createSmartParser(config.daemons),
});
