// The event types this parser emits (the catalog in docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  status: "the block layer status text (e.g. I/O error, critical medium error)",
  sector: "first sector of the failed request",
  op: "request operation number",
  op_name: "request operation (READ, WRITE, FLUSH, ...)",
  flags: "request flags, hex",
  phys_seg: "physical segments of the request",
  prio_class: "I/O priority class number",
  prio_class_name: "I/O priority class name",
  caller: "kernel function that reported it (buffer I/O error lines)",
  logical_block: "logical block of a buffer I/O error",
  detail: "the rest of the kernel's text",
  scsi_addr: "SCSI address H:C:T:L",
  write_cache: "write cache enabled or disabled",
  read_cache: "read cache enabled or disabled",
  dpo_fua: "whether the device supports DPO and FUA",
  assumed: "true when the kernel assumed the cache mode (no mode page)",
};

const IO_KEYS = ["status", "sector", "op", "op_name", "flags", "phys_seg", "prio_class", "prio_class_name", "caller"];

export const EVENTS = eventTypes(FIELDS, [
  { type: "BLK_IO_ERROR", system: "block", severity: ["warn", "error"],
    doc: "an I/O request failed; warn for the statuses operation not supported, nonblocking retry, dm internal retry and recoverable transport, else error",
    keys: [...IO_KEYS, "logical_block", "detail"] },
  { type: "BLK_CRITICAL_MEDIUM_ERROR", system: "block", severity: ["error"], doc: "a request failed with a medium error", keys: IO_KEYS },
  { type: "BLK_WRITE_CACHE_CHANGED", system: "block", severity: ["info", "warn"],
    doc: "the write cache mode was set or changed; warn when the kernel had to assume it",
    keys: ["scsi_addr", "write_cache", "read_cache", "dpo_fua", "assumed"] },
]);
