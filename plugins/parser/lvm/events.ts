// The event types this parser emits (the catalog in docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  daemon_pid: "dmeventd's process id",
  dm_name: "the device-mapper name (vg-lv[-layer])",
  vg: "the volume group",
  lv: "the logical volume",
  layer: "the dm layer (e.g. tpool)",
  usage: "data or metadata",
  data_percent: "data usage, percent",
  metadata_percent: "metadata usage, percent",
  percent: "snapshot usage, percent",
  state: "the snapshot's new state (e.g. Invalid)",
  phase: "where the repair is: started, failed, succeeded (RAID); failed_device, repair_failed, repaired (mirror)",
  raid_type: "the RAID type (e.g. raid1)",
  failed_device: "the failed device's number in the array",
  reason: "why the repair started",
};

const LV = ["daemon_pid", "dm_name", "vg", "lv", "layer"];

export const EVENTS = eventTypes(FIELDS, [
  { type: "LVM_THIN_POOL_USAGE", system: "lvm", severity: ["warn", "error"], doc: "dmeventd: a thin pool's data or metadata usage crossed a step (from 80%, in 5% steps)",
    when: "warn below the parser's error_percent (default 95), error at or above it", keys: [...LV, "usage", "data_percent", "metadata_percent"] },
  { type: "LVM_THIN_POOL_FULL", system: "lvm", severity: ["error"], doc: "dmeventd: a thin pool's data is 100% full", keys: [...LV, "usage", "data_percent"] },
  { type: "LVM_SNAPSHOT_USAGE", system: "lvm", severity: ["warn", "error"], doc: "dmeventd: a snapshot's usage crossed a step",
    when: "warn below the parser's error_percent (default 95), error at or above it", keys: [...LV, "percent"] },
  { type: "LVM_SNAPSHOT_INVALID", system: "lvm", severity: ["error"], doc: "dmeventd: a snapshot became invalid (overflowed or failed)", keys: [...LV, "state"] },
  { type: "LVM_RAID_REPAIR", system: "lvm", severity: ["info", "warn", "error"], doc: "dmeventd: a RAID LV lost a device and is repaired",
    when: "warn when a device failed and the repair starts; error when the primary sources of a new RAID failed or the repair failed; info when the faulty devices were replaced",
    keys: [...LV, "phase", "raid_type", "failed_device", "reason"] },
  { type: "LVM_MIRROR_DEGRADED", system: "lvm", severity: ["info", "warn", "error"], doc: "dmeventd: a mirror LV lost a device",
    when: "warn for the device failure; error when the repair failed; info when it was repaired", keys: [...LV, "phase"] },
]);
