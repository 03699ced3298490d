// The event types this parser emits (the catalog in docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  port: "ata port (ataN)",
  link: "ata link (ataN.MM)",
  sstatus: "SStatus register, hex",
  scontrol: "SControl register, hex",
  det: "device detection field of SStatus",
  spd: "speed field of SStatus",
  ipm: "power management field of SStatus",
  speed: "negotiated link speed (e.g. 6.0 Gbps)",
  emask: "error mask, hex",
  emask_names: "error mask bits, decoded",
  sact: "SActive register, hex",
  serr: "SError register, hex",
  serr_names: "SError bits, decoded",
  action: "error handler action, hex",
  action_names: "error handler action bits, decoded",
  frozen: "true when the port was frozen",
  desc: "the kernel's description of the exception",
  link_after_reset: "link state after the reset",
  tries: "how many times the command was tried",
  commands: "the failed commands with their status",
  configured_for: "transfer mode after the reset (e.g. UDMA/133)",
  device_disabled: "true when the kernel disabled the device",
};

export const EVENTS = eventTypes(FIELDS, [
  { type: "ATA_LINK_DOWN", system: "ata", severity: ["warn"], doc: "a SATA link went down", keys: ["port", "link", "sstatus", "scontrol", "det", "spd", "ipm"] },
  { type: "ATA_LINK_UP", system: "ata", severity: ["info"], doc: "a SATA link came up", keys: ["port", "link", "sstatus", "scontrol", "det", "spd", "ipm", "speed"] },
  { type: "ATA_EXCEPTION", system: "ata", severity: ["warn", "error"],
    doc: "the ATA error handler ran on a link or device", when: "error when the device failed the command (AC_ERR_DEV, AC_ERR_MEDIA) or was disabled; warn for timeouts, HSM violations and bus errors answered by a reset",
    keys: ["port", "link", "emask", "emask_names", "sact", "serr", "serr_names", "action", "action_names", "frozen", "desc", "link_after_reset", "tries", "commands", "configured_for", "device_disabled"] },
  { type: "ATA_DEVICE_DISABLED", system: "ata", severity: ["error"], doc: "the kernel disabled an ATA device", keys: ["port", "link"] },
]);
