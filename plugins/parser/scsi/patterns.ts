// SCSI midlayer and sd message patterns, from the kernel's format strings (3.10 through 6.x).
import { PatternTable, type KPattern } from "../../../src/plugin-kit/kernel.ts";
import { SENSE_KEYS } from "./sense.ts";

// dev_printk prefix of a scsi_device ("sd 2:0:0:1: ", "scsi 3:0:0:0: " before a driver binds), then
// what scmd_printk/sdev_prefix_printk add: "[sdb] " (disk name) and "tag#%d " (drivers/scsi/scsi_logging.c).
const PFX = String.raw`^(?<drv>[a-z]{1,8}) (?<addr>\d{1,6}:\d{1,6}:\d{1,6}:\d{1,20}): (?:\[(?<disk>[^\]\s]{1,32})\] {1,2})?(?:tag#(?<tag>\d{1,7}) )?`;
const re = (body: string) => new RegExp(PFX + body);
/** snstext[] names, or "0x%x" when the kernel has no name. */
const SENSE_KEY_RE = [...SENSE_KEYS.map((k) => k.replace(/[()]/g, "\\$&")), "0x[0-9a-f]{1,2}"].join("|");

export type ScsiPatternId =
  | "unhandled" | "fail_desc" | "result" | "sense_key" | "add_sense" | "asc_raw" | "cdb" | "cdb_cont"
  | "timing_out" | "task_abort" | "offlined" | "medium_timeout" | "rejecting_offline" | "rejecting_dead" | "attached" | "attached_sr";

export const SCSI_PATTERNS: readonly KPattern<ScsiPatternId>[] = [
  {
    id: "unhandled", needle: "Unhandled ",
    re: re(String.raw`(?<desc>Unhandled sense code|Unhandled error code)$`),
    source: "drivers/scsi/scsi_lib.c (scsi_io_completion, 3.10 / RHEL 7: the description printed before scsi_print_result/sense/command)",
    format: `scmd_printk(KERN_INFO, cmd, "%s\\n", description): "Unhandled sense code", "Unhandled error code"`,
  },
  {
    id: "fail_desc", needle: " ",
    re: re(String.raw`(?<desc>Device not ready|Discard failure|Target Data Integrity Failure)$`),
    source: "drivers/scsi/scsi_lib.c (scsi_io_completion, 3.10 / RHEL 7)",
    format: `scmd_printk(KERN_INFO, cmd, "%s\\n", description): "Device not ready", "Discard failure", "Target Data Integrity Failure"`,
  },
  {
    id: "result", needle: "Result: hostbyte=",
    re: re(String.raw`(?:(?<what>[^:\[\]]{1,80}): )?(?:(?<disp>[A-Z][A-Z_]{1,23}|UNKNOWN\(0x[0-9a-f]{2,8}\)) )?Result: hostbyte=(?<host>\w{1,32}) driverbyte=(?<drvbyte>\w{1,32})(?: cmd_age=(?<age>\d{1,10})s)? ?$`),
    source: "drivers/scsi/scsi_logging.c (scsi_print_result), drivers/scsi/sd.c (sd_print_result)",
    format: `"%s Result: hostbyte=%s driverbyte=DRIVER_OK cmd_age=%lus" (6.x); "%s Result: hostbyte=%s driverbyte=%s" (4.18); sd: "%s: Result: hostbyte=%s driverbyte=%s"`,
  },
  {
    id: "sense_key", needle: "Sense Key : ",
    re: re(String.raw`Sense Key : (?<key>${SENSE_KEY_RE}) \[(?<when>current|deferred)\](?<desc> \[descriptor\])? ?$`),
    source: "drivers/scsi/scsi_logging.c (scsi_format_sense_hdr), drivers/scsi/constants.c (snstext)",
    format: `"Sense Key : " "%s " "[current] "|"[deferred] " ["[descriptor] "]`,
  },
  {
    id: "add_sense", needle: "Add. Sense: ",
    re: re(String.raw`Add\. Sense: (?<text>[^()]{1,100}?)(?:\((?<fmt>[a-z ]{0,40}?)(?<fq>[0-9a-f]{1,2})\))? ?$`),
    source: "drivers/scsi/scsi_logging.c (scsi_format_extd_sense), drivers/scsi/sense_codes.h",
    format: `"Add. Sense: %s" ["(%s%x)"]`,
  },
  {
    id: "asc_raw", needle: "ASCQ=0x",
    re: re(String.raw`(?:<<vendor>>)?ASC=0x(?<asc>[0-9a-f]{1,2}) (?:<<vendor>>)?ASCQ=0x(?<ascq>[0-9a-f]{1,2}) ?$`),
    source: "drivers/scsi/scsi_logging.c (scsi_format_extd_sense)",
    format: `["<<vendor>>"] "ASC=0x%x " ["<<vendor>>"] "ASCQ=0x%x "`,
  },
  {
    id: "cdb", needle: "CDB: ",
    re: re(String.raw`CDB: (?<name>[^\[\]]{1,64}?)(?<bytes>(?: [0-9a-f]{2}){1,16})? ?$`),
    source: "drivers/scsi/scsi_logging.c (scsi_print_command)",
    format: `"CDB: %s %*ph" (6.x); "CDB: " opcode name " " hex_dump_to_buffer (4.18/5.14); "CDB: %s" when cmd_len > 16`,
  },
  {
    id: "cdb_cont", needle: "CDB[",
    re: re(String.raw`CDB\[(?<off>[0-9a-f]{2})\]: (?<bytes>[0-9a-f]{2}(?: [0-9a-f]{2}){0,15})$`),
    source: "drivers/scsi/scsi_logging.c (scsi_print_command)",
    format: `"CDB[%02x]: %*ph"`,
  },
  {
    id: "timing_out", needle: "timing out command, waited ",
    re: re(String.raw`timing out command, waited (?<secs>\d{1,10})s$`),
    source: "drivers/scsi/scsi_lib.c (scsi_cmd_runtime_exceeced; scsi_softirq_done in 4.18)",
    format: `"timing out command, waited %lus\\n"`,
  },
  {
    id: "task_abort", needle: "scmd(",
    re: re(String.raw`[Aa]ttempting [Tt]ask [Aa]bort! ?scmd\((?:0x)?(?<scmd>[0-9a-f]{1,16})\)(?:, outstanding for (?<ms>\d{1,10}) ms & timeout (?<tmo>\d{1,10}) ms)?$`),
    source: "drivers/scsi/mpt3sas/mpt3sas_scsih.c (scsih_abort, 5.x/6.x; 4.x without the times), drivers/scsi/mpi3mr/mpi3mr_os.c",
    format: `sdev_printk(KERN_INFO, scmd->device, "attempting task abort!scmd(0x%p), outstanding for %u ms & timeout %u ms\\n") | 4.x: "attempting task abort! scmd(%p)\\n" | mpi3mr: "Attempting Task Abort! scmd(%p)\\n"`,
  },
  {
    id: "offlined", needle: "Device offlined - not ready after error recovery",
    re: re(String.raw`Device offlined - not ready after error recovery$`),
    source: "drivers/scsi/scsi_error.c (scsi_eh_offline_sdevs)",
    format: `"Device offlined - not ready after error recovery\\n"`,
  },
  {
    id: "medium_timeout", needle: "Medium access timeout failure. Offlining disk!",
    re: re(String.raw`Medium access timeout failure\. Offlining disk!$`),
    source: "drivers/scsi/sd.c (sd_eh_action)",
    format: `"Medium access timeout failure. Offlining disk!\\n"`,
  },
  {
    id: "rejecting_offline", needle: "rejecting I/O to offline device",
    re: re(String.raw`rejecting I/O to offline device$`),
    source: "drivers/scsi/scsi_lib.c (scsi_device_state_check / scsi_prep_state_check)",
    format: `"rejecting I/O to offline device\\n"`,
  },
  {
    id: "rejecting_dead", needle: "rejecting I/O to dead device",
    re: re(String.raw`rejecting I/O to dead device$`),
    source: "drivers/scsi/scsi_lib.c (scsi_device_state_check / scsi_prep_state_check)",
    format: `"rejecting I/O to dead device\\n"`,
  },
  {
    id: "attached", needle: "Attached SCSI ",
    re: re(String.raw`Attached SCSI (?<removable>removable )?disk$`),
    source: "drivers/scsi/sd.c (sd_probe)",
    format: `"Attached SCSI %sdisk\\n"`,
  },
  {
    id: "attached_sr", needle: "Attached scsi CD-ROM ",
    re: re(String.raw`Attached scsi CD-ROM (?<cd>sr\d{1,6})$`),
    source: "drivers/scsi/sr.c (sr_probe)",
    format: `"Attached scsi CD-ROM %s\\n"`,
  },
];

const ADDR_PFX = /^[a-z]{1,8} \d{1,6}:\d{1,6}:\d{1,6}:\d{1,20}: /;

/** PFX first: a lowercase driver name, one space, a digit (cheap), then the whole SCSI address. */
export function scsiGate(msg: string): boolean {
  const sp = msg.indexOf(" ");
  if (sp < 1 || sp > 8) return false;
  const c = msg.charCodeAt(sp + 1);
  return c >= 48 && c <= 57 && ADDR_PFX.test(msg);
}

export const SCSI_TABLE = new PatternTable<ScsiPatternId>(SCSI_PATTERNS, scsiGate);
