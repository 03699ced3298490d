// The event types this sender emits from kernel uevents (docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  action: "the uevent's ACTION (add, remove, change)",
  devtype: "disk or partition",
  majmin: "major:minor",
  parent: "the whole disk of a partition",
  diskseq: "the kernel's disk sequence number",
  seqnum: "the uevent's SEQNUM",
  size_bytes: "the device's size, bytes (when known)",
  old_size_bytes: "size before, bytes (when known)",
  new_size_bytes: "size after, bytes (when known)",
  resync: "true when found by a rescan after lost uevents, not by a uevent",
  scsi_address: "SCSI address H:C:T:L",
  scsi_type: "SCSI peripheral device type, from MODALIAS",
  ua: "the SDEV_UA value (e.g. CAPACITY_DATA_HAS_CHANGED)",
  asc: "additional sense code of the unit attention",
  ascq: "additional sense code qualifier",
  aen: "the NVME_AEN value, hex",
  type: "async event type, number",
  type_name: "async event type (error, SMART/health, notice, ...)",
  info: "async event information, number",
  info_name: "async event information, decoded",
  log_page: "the log page to read, number",
  log_page_name: "the log page to read",
};

const BLOCK = ["action", "devtype", "majmin", "diskseq", "seqnum", "resync"];
const SIZES = ["old_size_bytes", "new_size_bytes"];

export const EVENTS = eventTypes(FIELDS, [
  { type: "DEVICE_ADDED", system: "block", severity: ["info"], doc: "a block device appeared", keys: [...BLOCK, "parent", "size_bytes"] },
  { type: "DEVICE_REMOVED", system: "block", severity: ["info", "warn"], doc: "a block device went away", when: "warn for a physical disk; info for a partition or a virtual device (loop, dm, md, ...)", keys: [...BLOCK, "parent", "size_bytes"] },
  { type: "DEVICE_CHANGED", system: "block", severity: ["info"], doc: "a block device changed (a change uevent without a more specific meaning)", keys: [...BLOCK, ...SIZES] },
  { type: "DEVICE_RESIZED", system: "block", severity: ["info", "warn"], doc: "a block device's size changed", when: "info; warn when it shrank", keys: [...BLOCK, ...SIZES] },
  { type: "MEDIA_CHANGED", system: "block", severity: ["info"], doc: "removable media was inserted or ejected", keys: [...BLOCK, ...SIZES, "scsi_address"] },
  { type: "SCSI_DEVICE_ADDED", system: "scsi", severity: ["info"], doc: "a scsi_device was added", keys: ["scsi_address", "seqnum", "scsi_type"] },
  { type: "SCSI_DEVICE_REMOVED", system: "scsi", severity: ["warn"], doc: "a scsi_device was removed", keys: ["scsi_address", "seqnum", "scsi_type"] },
  { type: "SCSI_UNIT_ATTENTION", system: "scsi", severity: ["info", "warn"],
    doc: "the kernel's SDEV_UA uevent: a unit attention the device reported", when: "warn for a thin-provisioning soft threshold, an ALUA access state change, a power-on reset and unknown values; info for capacity, inquiry, mode parameter and reported LUN changes",
    keys: ["scsi_address", "seqnum", "ua", "asc", "ascq"] },
  { type: "NVME_CRITICAL_WARNING", system: "nvme", severity: ["warn", "error"], doc: "a SMART/health asynchronous event of an NVMe controller (NVME_AEN uevent)", when: "warn for a temperature threshold; error for the others (reliability degraded, spare below threshold)",
    keys: ["aen", "type", "type_name", "info", "info_name", "log_page", "log_page_name", "seqnum"] },
  { type: "NVME_ASYNC_EVENT", system: "nvme", severity: ["info", "warn", "error"], doc: "another NVMe asynchronous event (NVME_AEN uevent)", when: "for an error-status event: error for persistent internal or firmware image errors, else warn; info for other types",
    keys: ["aen", "type", "type_name", "info", "info_name", "log_page", "log_page_name", "seqnum"] },
]);
