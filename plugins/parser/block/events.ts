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
    doc: "the block layer failed an I/O request", when: "error; warn for \"recoverable transport\" (multipath retries on another path), \"operation not supported\", \"nonblocking retry\", \"dm internal retry\"",
    keys: [...IO_KEYS, "logical_block", "detail"] },
  { type: "BLK_CRITICAL_MEDIUM_ERROR", system: "block", severity: ["error"], doc: "a request failed with a medium error", keys: IO_KEYS },
  { type: "BLK_WRITE_CACHE_CHANGED", system: "block", severity: ["info", "warn"],
    doc: "sd set or changed a disk's write cache mode", when: "info; warn when sd could not read the mode and assumes one",
    keys: ["scsi_addr", "write_cache", "read_cache", "dpo_fua", "assumed"] },
]);
