// The event types this parser emits (the catalog in docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  controller: "the controller (nvmeN)",
  namespace: "the namespace (nvmeNnM)",
  csts: "controller status register, hex",
  pci_status: "PCI status register, hex",
  fatal_status: "true when CSTS.CFS (controller fatal status) is set",
  unreachable: "true when the controller did not answer (CSTS all ones)",
  pci_status_error: "true when reading the PCI status failed",
  reason: "why the controller was reset",
  aborted: "commands aborted",
  status: "NVMe status, hex",
  tag: "command tag",
  qid: "queue id",
  queue: "admin or I/O",
  action: "what the driver did: abort, reset, completion polled",
  abort_status: "the abort command's status",
  command_id: "command identifier",
  opcode: "command opcode, hex",
  opcode_name: "command name",
  req_op: "block request operation",
  size: "request size, bytes",
  command: "command name",
  lba: "first logical block",
  blocks: "number of blocks",
  sct: "status code type",
  sct_name: "status code type name",
  sc: "status code",
  more: "the More bit",
  dnr: "the Do Not Retry bit",
};

export const EVENTS = eventTypes(FIELDS, [
  { type: "NVME_CTRL_RESET", system: "nvme", severity: ["warn", "error"], doc: "an NVMe controller is reset", when: "warn for a reset; error when the controller is down (CSTS fatal or unreadable)",
    keys: ["controller", "csts", "pci_status", "fatal_status", "unreachable", "reason"] },
  { type: "NVME_IO_TIMEOUT", system: "nvme", severity: ["warn", "error"], doc: "an NVMe command timed out", when: "warn when answered by abort, reset or polling; error when the controller is being disabled",
    keys: ["controller", "tag", "qid", "queue", "action", "abort_status", "command_id", "opcode", "opcode_name", "req_op", "size"] },
  { type: "NVME_CTRL_DEAD", system: "nvme", severity: ["error"], doc: "the driver gave up on a controller and removed it",
    keys: ["controller", "aborted", "status", "csts", "pci_status", "fatal_status", "unreachable", "pci_status_error"] },
  { type: "NVME_IO_ERROR", system: "nvme", severity: ["error"], doc: "a command completed with an error status",
    keys: ["namespace", "command", "opcode", "lba", "blocks", "status", "sct", "sct_name", "sc", "more", "dnr"] },
]);
