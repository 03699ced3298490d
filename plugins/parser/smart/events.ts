// The event types this parser emits (the catalog in docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  device: "the device smartd names (/dev/sda)",
  protocol: "ata, scsi or nvme",
  daemon_pid: "smartd's process id",
  device_type: "smartd's device type words (e.g. [SAT])",
  ie_text: "SCSI: the informational exception text",
  critical_warning: "NVMe: the critical warning bits",
  warnings: "NVMe: the critical warning bits, decoded",
  count: "sectors counted",
  count_kind: "current or total",
  change: "the change smartd reported (+N)",
  attribute_id: "the SMART attribute id (5 or 196)",
  attribute: "the attribute's name",
  old_value: "normalized value before",
  new_value: "normalized value after",
  old_count: "raw count before",
  new_count: "raw count after",
  temperature_c: "temperature, °C",
  limit_c: "the limit it reached, °C",
  critical: "true for the critical limit",
  min_max: "smartd's min/max text",
  old_errors: "errors before",
  new_errors: "errors after",
  lifetime_hours: "power-on hour of the self-test error",
  log: "which error log (ATA, NVMe)",
  detail: "smartd's extra text",
};

const DEV = ["device", "protocol", "daemon_pid", "device_type"];

export const EVENTS = eventTypes(FIELDS, [
  { type: "SMART_FAILURE_PREDICTED", system: "smart", severity: ["error"], doc: "smartd: the device predicts its failure (ATA health self-check failed, SCSI failure prediction, NVMe critical warning)",
    keys: [...DEV, "ie_text", "critical_warning", "warnings"] },
  { type: "SMART_PENDING_SECTORS", system: "smart", severity: ["error"], doc: "smartd: the device has unreadable (pending) sectors", keys: [...DEV, "count", "count_kind", "change"] },
  { type: "SMART_OFFLINE_UNCORRECTABLE", system: "smart", severity: ["error"], doc: "smartd: the device has offline uncorrectable sectors", keys: [...DEV, "count", "count_kind", "change"] },
  { type: "SMART_REALLOCATED_SECTORS", system: "smart", severity: ["warn"], doc: "smartd: the reallocated sector attribute (5 or 196) changed",
    keys: [...DEV, "attribute_id", "attribute", "old_value", "new_value", "old_count", "new_count"] },
  { type: "SMART_TEMPERATURE", system: "smart", severity: ["warn", "error"], doc: "smartd: the device reached a temperature limit",
    when: "error for the critical limit; warn for the other limit and an NVMe temperature warning", keys: [...DEV, "temperature_c", "limit_c", "critical", "min_max", "critical_warning", "warnings"] },
  { type: "SMART_SELFTEST_FAILED", system: "smart", severity: ["error"], doc: "smartd: the self-test log has new errors", keys: [...DEV, "old_errors", "new_errors", "lifetime_hours"] },
  { type: "SMART_ERROR_LOG_INCREASED", system: "smart", severity: ["warn"], doc: "smartd: the device's error log count increased", keys: [...DEV, "old_errors", "new_errors", "log", "detail"] },
]);
