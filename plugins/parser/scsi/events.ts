// The event types this parser emits (the catalog in docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  scsi_addr: "SCSI address H:C:T:L",
  tag: "the command's tag, when the kernel printed one",
  command: "the SCSI command's name (e.g. READ(10))",
  cdb: "the command descriptor block, hex",
  lba: "first logical block of the command, from the CDB",
  blocks: "number of blocks of the command, from the CDB",
  hostbyte: "host byte of the result (e.g. DID_TIME_OUT)",
  driverbyte: "driver byte of the result",
  disposition: "the SCSI error handler's disposition (e.g. FAILED, SUCCESS)",
  cmd_age_s: "how long the command had been outstanding, seconds",
  description: "readable text of the failure",
  sense_key: "sense key, number",
  sense_key_text: "sense key, text (e.g. Medium Error)",
  asc: "additional sense code",
  ascq: "additional sense code qualifier",
  asc_text: "additional sense text",
  deferred: "true for deferred sense data",
  failed: "true when the command failed (not only informational sense)",
  descriptor: "true for descriptor-format sense data",
  outstanding_ms: "time the command was outstanding, ms",
  timeout_ms: "the command timeout, ms",
  waited_s: "seconds the error handler waited",
  removable: "true for removable media",
  type: "peripheral device type text (e.g. Direct-Access)",
};

export const EVENTS = eventTypes(FIELDS, [
  { type: "SCSI_SENSE", system: "scsi", severity: ["info", "warn", "error"],
    doc: "a SCSI command returned sense data", when: "by sense key: Medium Error, Hardware Error, Data Protect, Aborted Command, Volume Overflow, Miscompare error; Recovered Error, Not Ready, Illegal Request, others warn, and error when the block layer failed the request; No Sense, Unit Attention, Equal, Completed info",
    keys: ["scsi_addr", "tag", "command", "cdb", "lba", "blocks", "hostbyte", "driverbyte", "disposition", "cmd_age_s", "sense_key", "sense_key_text", "asc", "ascq", "asc_text", "deferred", "failed", "descriptor", "description"] },
  { type: "SCSI_TIMEOUT", system: "scsi", severity: ["warn", "error"],
    doc: "a SCSI command timed out", when: "error when the command was failed after its retries (`timing out command`, a `DID_TIME_OUT` result); warn when the HBA driver aborts a timed-out command for the midlayer to retry (`attempting task abort!`)",
    keys: ["scsi_addr", "tag", "command", "cdb", "lba", "blocks", "hostbyte", "driverbyte", "disposition", "cmd_age_s", "outstanding_ms", "timeout_ms", "waited_s"] },
  { type: "SCSI_CMD_FAILED", system: "scsi", severity: ["error"],
    doc: "a command failed without sense data (a host or driver byte error)",
    keys: ["scsi_addr", "tag", "command", "cdb", "lba", "blocks", "hostbyte", "driverbyte", "disposition", "cmd_age_s", "description"] },
  { type: "SCSI_DEVICE_OFFLINE", system: "scsi", severity: ["error"], doc: "the error handler took the device offline", keys: ["scsi_addr", "tag"] },
  { type: "SCSI_DEVICE_ADDED", system: "scsi", severity: ["info"], doc: "the kernel attached a SCSI device", keys: ["scsi_addr", "removable", "type"] },
  { type: "SCSI_DEVICE_REMOVED", system: "scsi", severity: ["warn"], doc: "the kernel detached a SCSI device", keys: ["scsi_addr"] },
]);
