// Linux md (software RAID) kernel messages, built from the kernel's own format strings.
// mdname() is the array's gendisk name (md0, md127, md_d0); dm-raid arrays print "mdX" and are
// left to the dm parser. Fixture lines: testdata/*/input.kmsg, each beside its source file.
import { PatternTable, type KPattern } from "../../../src/plugin-kit/kernel.ts";

export type MdPatternId =
  "cannot_continue" | "disk_failure"
  | "continuing"
  | "sync_start"
  | "sync_end"
  | "stopped"
  | "raid1_active"
  | "raid10_active"
  | "raid5_active"
  | "not_enough"
  | "capacity"
  | "kicked";

// An array name as md prints it; "mdX" (dm-raid) is excluded by the lookahead.
const MD = String.raw`(?<md>(?!mdX\b)md[\w-]{1,32})`;
const SYNC_ACTIONS = String.raw`resync|recovery|recover|data-check|check|requested-resync|repair|reshape|rectify`;

export const MD_PATTERNS: readonly KPattern<MdPatternId>[] = [
  {
    id: "disk_failure",
    needle: ": Disk failure on ",
    re: new RegExp(String.raw`^md\/raid(?<level>\d{0,2}):${MD}: Disk failure on (?<member>[\w:.-]{1,64}), disabling device\.$`),
    source: "drivers/md/raid1.c raid1_error(), raid10.c raid10_error(), raid5.c raid5_error()",
    format: 'pr_crit("md/raid1:%s: Disk failure on %pg, disabling device.\\n" ..) | 4.18: %s bdevname()',
  },
  {
    id: "continuing",
    needle: ": Operation continuing on ",
    re: new RegExp(String.raw`^md\/raid(?<level>\d{0,2}):${MD}: Operation continuing on (?<n>\d{1,4}) devices\.$`),
    source: "drivers/md/raid1.c raid1_error(), raid10.c raid10_error(), raid5.c raid5_error()",
    format: '"md/raid1:%s: Operation continuing on %d devices.\\n", mdname(mddev), conf->raid_disks - mddev->degraded',
  },
  {
    id: "cannot_continue",
    needle: ": Cannot continue operation (",
    re: new RegExp(String.raw`^md\/raid(?<level>\d{0,2}):${MD}: Cannot continue operation \((?<failed>\d{1,4})\/(?<total>\d{1,4}) failed\)\.$`),
    source: "drivers/md/raid5.c raid5_error() (5.x, 6.x)",
    format: 'pr_crit("md/raid:%s: Cannot continue operation (%d/%d failed).\n", mdname(mddev), mddev->degraded, conf->raid_disks)',
  },
  {
    id: "sync_start",
    needle: " of RAID array ",
    re: new RegExp(String.raw`^md: (?<action>${SYNC_ACTIONS}) of RAID array ${MD}$`),
    source: "drivers/md/md.c md_do_sync()",
    format: 'pr_info("md: %s of RAID array %s\\n", desc, mdname(mddev)); desc 4.18-6.10: resync|recovery|data-check|requested-resync|reshape, 6.11+: md_sync_action_name()',
  },
  {
    id: "sync_end",
    needle: "md: ",
    re: new RegExp(String.raw`^md: ${MD}: (?<action>${SYNC_ACTIONS}) (?<result>done|interrupted)\.$`),
    source: "drivers/md/md.c md_do_sync()",
    format: 'pr_info("md: %s: %s %s.\\n", mdname(mddev), desc, test_bit(MD_RECOVERY_INTR, ..) ? "interrupted" : "done")',
  },
  {
    id: "stopped",
    needle: " stopped.",
    re: new RegExp(String.raw`^md: ${MD} stopped\.$`),
    source: "drivers/md/md.c do_md_stop()",
    format: 'pr_info("md: %s stopped.\\n", mdname(mddev))',
  },
  {
    id: "raid1_active",
    needle: " mirrors",
    re: new RegExp(String.raw`^md\/raid1:${MD}: active with (?<active>\d{1,4}) out of (?<total>\d{1,4}) mirrors$`),
    source: "drivers/md/raid1.c raid1_run()",
    format: 'pr_info("md/raid1:%s: active with %d out of %d mirrors\\n", ..)',
  },
  {
    id: "raid10_active",
    needle: "md/raid10:",
    re: new RegExp(String.raw`^md\/raid10:${MD}: active with (?<active>\d{1,4}) out of (?<total>\d{1,4}) devices$`),
    source: "drivers/md/raid10.c raid10_run()",
    format: 'pr_info("md/raid10:%s: active with %d out of %d devices\\n", ..)',
  },
  {
    id: "raid5_active",
    needle: " active with ",
    re: new RegExp(String.raw`^md\/raid:${MD}: raid level (?<level>\d) active with (?<active>\d{1,4}) out of (?<total>\d{1,4}) devices, algorithm (?<algorithm>\d{1,3})$`),
    source: "drivers/md/raid5.c raid5_run()",
    format: 'pr_info("md/raid:%s: raid level %d active with %d out of %d devices, algorithm %d\\n", ..)',
  },
  {
    id: "not_enough",
    needle: "not enough operational devices",
    re: new RegExp(String.raw`^md\/raid(?<level>\d{0,2}):${MD}: not enough operational devices \((?<failed>\d{1,4})\/(?<total>\d{1,4}) failed\)$`),
    source: "drivers/md/raid5.c setup_conf() / raid5_run()",
    format: 'pr_err("md/raid:%s: not enough operational devices (%d/%d failed)\\n", ..)',
  },
  {
    id: "capacity",
    needle: ": detected capacity change from ",
    re: new RegExp(String.raw`^${MD}: detected capacity change from (?<old>\d{1,20}) to (?<new>\d{1,20})$`),
    source: "block/genhd.c set_capacity_and_notify() (6.x, 512-byte sectors); 4.18 drivers/md/md.c via revalidate_disk (bytes)",
    format: 'pr_info("%s: detected capacity change from %lld to %lld\\n", disk->disk_name, ..)',
  },
  {
    id: "kicked",
    needle: "kicking non-fresh ",
    re: /^md: kicking non-fresh (?<member>[\w:.-]{1,64}) from array!$/,
    source: "drivers/md/md.c analyze_sbs()",
    format: 'pr_warn("md: kicking non-fresh %pg from array!\n", rdev->bdev) | 4.18: "%s" bdevname()',
  },
];

export const mdTable = new PatternTable(MD_PATTERNS);

/** Every md message starts with "md"; one byte rules the rest out. */
export function mayBeMd(msg: string): boolean {
  return msg.charCodeAt(0) === 109 /* m */ && msg.charCodeAt(1) === 100 /* d */;
}
