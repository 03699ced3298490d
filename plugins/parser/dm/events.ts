// The event types this parser emits (the catalog in docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  path: "the path device (e.g. sdc or 8:32)",
  reported_by: "which reports make up this event: kmsg, uevent, multipathd (the first one sent it; the others joined it)",
  remaining_paths: "active paths left, as multipathd says",
  checker: "multipathd's path checker (e.g. tur, directio)",
  checker_msg: "the checker's message (e.g. reports path is down)",
  queueing: "retrying (no_path_retry counting down), off (I/O fails) or on (queue_if_no_path)",
  max_retries: "path checks left while retrying",
  map: "the dm device (dm-N)",
  map_dev: "the map's major:minor",
  map_name: "the map's name (e.g. mpatha)",
  map_uuid: "the map's dm uuid",
  valid_paths: "paths left in the map",
  dm_seqnum: "the uevent's sequence number",
  reason: "why no path is left",
  io: "queueing or failing: what happens to I/O now",
  target: "the target type of the table line",
  error: "the kernel's error text",
  errno: "the error number",
  mode: "the thin pool's new mode (read-only, out-of-data-space, fail, write)",
  position: "the failed member's position in the raid set",
  level: "the raid level",
  active_devices: "members still active",
  raid_devices: "members in the set",
  member: "the failed member device",
  remaining_devices: "members left",
};

const MPATH = ["path", "reported_by", "map", "map_dev", "map_name", "map_uuid", "valid_paths", "dm_seqnum", "remaining_paths", "checker", "checker_msg"];

export const EVENTS = eventTypes(FIELDS, [
  { type: "DM_MPATH_PATH_DOWN", system: "multipath", severity: ["warn"], doc: "a multipath path failed and other paths are left", keys: MPATH },
  { type: "DM_MPATH_PATH_UP", system: "multipath", severity: ["info"], doc: "a multipath path was reinstated", keys: MPATH },
  { type: "DM_MPATH_NO_PATHS", system: "multipath", severity: ["error"], doc: "a multipath map has no path left (queueing or failing I/O)",
    keys: ["reason", "path", "map", "map_name", "map_uuid", "io", "valid_paths", "remaining_paths", "reported_by"] },
  { type: "DM_MPATH_MAP_ADDED", system: "multipath", severity: ["info"], doc: "multipathd registered a map (journal: `devmap dm-4 registered`)", keys: ["map_name"] },
  { type: "DM_MPATH_MAP_REMOVED", system: "multipath", severity: ["info"], doc: "multipathd removed or flushed a map (journal)", keys: ["map_name"] },
  { type: "DM_MPATH_QUEUEING", system: "multipath", severity: ["info", "warn", "error"], doc: "a map's queueing of I/O without paths changed (multipathd, journal)",
    when: "warn when it enters recovery mode (queueing for no_path_retry checks); error when queueing is disabled (I/O without a path fails); info when queue_if_no_path is enabled again",
    keys: ["map_name", "queueing", "max_retries"] },
  { type: "DM_TABLE_ERROR", system: "dm", severity: ["error"], doc: "a device-mapper table could not be loaded", keys: ["map", "target", "error", "errno"] },
  { type: "DM_THIN_POOL_FULL", system: "dm", severity: ["error"], doc: "a thin pool ran out of data or metadata space", keys: ["mode", "map", "io"] },
  { type: "DM_THIN_POOL_LOW_WATER", system: "dm", severity: ["warn"], doc: "a thin pool reached its low water mark", keys: ["map"] },
  { type: "DM_THIN_POOL_MODE_CHANGED", system: "dm", severity: ["info", "error"], doc: "a thin pool changed mode", when: "error for read-only and fail modes; info back to write", keys: ["mode", "map"] },
  { type: "DM_RAID_DEGRADED", system: "dm", severity: ["warn", "error"], doc: "a dm-raid set lost a member", when: "warn; error when no member is left",
    keys: ["position", "level", "active_devices", "raid_devices", "member", "remaining_devices"] },
]);
