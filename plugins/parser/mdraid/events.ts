// The event types this parser emits (the catalog in docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  array: "the md array (mdN)",
  level: "raid level",
  member: "the member device",
  active_devices: "members active",
  raid_devices: "members in the array",
  failed_devices: "members failed",
  degraded: "members missing at start",
  algorithm: "raid layout algorithm",
  array_failed: "true when the failure failed the whole array",
  operation_continuing_on: "members the array continues on",
  reason: "why the member failed",
  action: "resync, recovery, check, repair or reshape",
  kernel_action: "the kernel's word for it",
  result: "done, interrupted",
  old_size: "old size, KiB",
  new_size: "new size, KiB",
};

export const EVENTS = eventTypes(FIELDS, [
  { type: "MD_DISK_FAILED", system: "mdraid", severity: ["warn", "error"], doc: "a member failed out of an md array", when: "error when a running array failed it; warn when assembly left a stale member out",
    keys: ["array", "level", "member", "array_failed", "failed_devices", "raid_devices", "operation_continuing_on", "reason"] },
  { type: "MD_ARRAY_DEGRADED", system: "mdraid", severity: ["warn", "error"], doc: "an md array runs degraded", when: "warn; error when no device is left", keys: ["array", "level", "active_devices"] },
  { type: "MD_ARRAY_FAILED", system: "mdraid", severity: ["error"], doc: "an array failed (too many members lost)", keys: ["array", "level", "failed_devices", "raid_devices"] },
  { type: "MD_ARRAY_STARTED", system: "mdraid", severity: ["info", "warn"], doc: "an md array started", when: "info; warn when started degraded",
    keys: ["array", "level", "active_devices", "raid_devices", "degraded", "algorithm"] },
  { type: "MD_ARRAY_STOPPED", system: "mdraid", severity: ["info"], doc: "an array stopped", keys: ["array"] },
  { type: "MD_ARRAY_CAPACITY_CHANGED", system: "mdraid", severity: ["info"], doc: "an array's size changed", keys: ["array", "old_size", "new_size"] },
  { type: "MD_RESYNC_STARTED", system: "mdraid", severity: ["info"], doc: "a resync, recovery, check or reshape started", keys: ["array", "action", "kernel_action"] },
  { type: "MD_RESYNC_DONE", system: "mdraid", severity: ["info"], doc: "a resync, recovery, check or reshape finished", keys: ["array", "action", "kernel_action", "result"] },
  { type: "MD_RESYNC_INTERRUPTED", system: "mdraid", severity: ["warn"], doc: "a resync, recovery, check or reshape was interrupted", keys: ["array", "action", "kernel_action", "result"] },
]);
