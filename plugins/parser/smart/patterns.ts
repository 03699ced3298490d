// smartd's syslog lines (smartmontools 7.3 smartmontools/smartd.cpp, 7.4 smartmontools/smartd.cpp,
// 7.5 src/smartd.cpp): every line is "Device: <info_name>, <text>", info_name being the path plus
// type suffixes ("/dev/sda [SAT]", "/dev/bus/0 [megaraid_disk_00] [SAT]", "/dev/nvme0").
import { PatternTable, type KPattern } from "../../../src/plugin-kit/kernel.ts";

export type SmartPatternId =
  | "self_check_failed" | "scsi_failure" | "nvme_critical" | "pending" | "offline_uncorrectable" | "attribute_changed"
  | "temperature" | "selftest_count" | "selftest_new" | "error_count";

const SMARTD = "smartd.cpp (smartmontools 7.3, 7.4, 7.5)";

export const SMART_PATTERNS: readonly KPattern<SmartPatternId>[] = [
  {
    id: "self_check_failed", needle: "FAILED SMART self-check",
    re: /^FAILED SMART self-check\. BACK UP DATA NOW!$/,
    source: `${SMARTD} ATACompareValues/ATACheckDevice`,
    format: `PrintOut(LOG_CRIT, "Device: %s, FAILED SMART self-check. BACK UP DATA NOW!\\n", name)`,
  },
  {
    id: "scsi_failure", needle: "SMART Failure: ",
    re: /^SMART Failure: (?<text>.{1,200})$/,
    source: `${SMARTD} SCSICheckDevice; text from scsicmds.cpp scsiGetIEString (7.3 upper case, 7.4+ sentence case)`,
    format: `PrintOut(LOG_CRIT, "Device: %s, SMART Failure: %s\\n", name, cp)`,
  },
  {
    id: "nvme_critical", needle: "Critical Warning (0x",
    re: /^Critical Warning \(0x(?<w>[0-9a-f]{2})\): (?<text>.{0,200})$/,
    source: `${SMARTD} NVMeCheckDevice`,
    format: `PrintOut(LOG_CRIT, "Device: %s, Critical Warning (0x%02x): %s\\n", name, w, msg.c_str())`,
  },
  {
    id: "pending", needle: "unreadable (pending) sectors",
    re: /^(?<n>\d{1,20}) (?<kind>Currently|Total) unreadable \(pending\) sectors(?: \(changed (?<d>[+-]\d{1,20})\))?$/,
    source: `${SMARTD} check_pending`,
    format: `"Device: %s, %" PRId64 " %s" + " (changed %+" PRId64 ")", msg "Currently unreadable (pending) sectors" | "Total unreadable (pending) sectors"`,
  },
  {
    id: "offline_uncorrectable", needle: "ffline uncorrectable sectors",
    re: /^(?<n>\d{1,20}) (?<kind>Offline|Total offline) uncorrectable sectors(?: \(changed (?<d>[+-]\d{1,20})\))?$/,
    source: `${SMARTD} check_pending`,
    format: `"Device: %s, %" PRId64 " %s", msg "Offline uncorrectable sectors" | "Total offline uncorrectable sectors"`,
  },
  {
    id: "attribute_changed", needle: " Attribute: ",
    re: /^SMART (?<kind>Prefailure|Usage) Attribute: (?<id>\d{1,3}) (?<name>\S{1,64}) changed from (?<old>\d{1,3})(?: \[Raw (?<oldraw>[^\]]{1,64})\])? to (?<new>\d{1,3})(?: \[Raw (?<newraw>[^\]]{1,64})\])?$/,
    source: `${SMARTD} log_attribute_changes (ATA)`,
    format: `"Device: %s, SMART %s Attribute: %d %s changed from %s to %s" ("%d [Raw %s]" with -R)`,
  },
  {
    id: "temperature", needle: " Celsius reached ",
    re: /^Temperature (?<t>\d{1,3}) Celsius reached (?<crit>critical )?limit of (?<limit>\d{1,3}) Celsius \(Min\/Max (?<minmax>[^)]{1,40})\)$/,
    source: `${SMARTD} CheckTemperature`,
    format: `"Device: %s, Temperature %u Celsius reached [critical ]limit of %u Celsius (Min/Max %s%s/%u%s)"`,
  },
  {
    id: "selftest_count", needle: "Self-Test Log error count increased",
    re: /^Self-Test Log error count increased from (?<old>\d{1,10}) to (?<new>\d{1,10})$/,
    source: `${SMARTD} check_ata_self_test_log / check_nvme_self_test_log`,
    format: `PrintOut(LOG_CRIT, "Device: %s, Self-Test Log error count increased from %d to %d\\n", ...)`,
  },
  {
    id: "selftest_new", needle: "new Self-Test Log error",
    re: /^new Self-Test Log error at hour timestamp (?<hour>\d{1,20})$/,
    source: `${SMARTD} check_ata_self_test_log`,
    format: `PrintOut(LOG_CRIT, "Device: %s, new Self-Test Log error at hour timestamp %d\\n", ...)`,
  },
  {
    id: "error_count", needle: " error count increased from ",
    re: /^(?<proto>ATA|NVMe) error count increased from (?<old>\d{1,20}) to (?<new>\d{1,20})(?<tail> \(.{0,80}\))?$/,
    source: `${SMARTD} ATACheckDevice ("ATA ..."), check_nvme_error_log 7.4+ ("NVMe ... (%d new, %d ignored, %d unknown)")`,
    format: `"Device: %s, ATA error count increased from %d to %d" / "Device: %s, NVMe error count increased from %" PRIu64 " to %" PRIu64 ...`,
  },
];

export const SMART_TABLE = new PatternTable<SmartPatternId>(SMART_PATTERNS);

/** "Device: /dev/sda [SAT], text" -> path, type suffixes, text. */
export function splitDevice(msg: string): { path: string; types: string[]; text: string } | undefined {
  const m = /^Device: (?<path>\/\S{1,200})(?<types>(?: \[[^\]]{1,64}\]){0,4}), (?<text>.*)$/.exec(msg);
  if (!m) return undefined;
  const types = [...(m.groups!.types ?? "").matchAll(/\[([^\]]+)\]/g)].map((t) => t[1]!);
  return { path: m.groups!.path!, types, text: m.groups!.text! };
}
