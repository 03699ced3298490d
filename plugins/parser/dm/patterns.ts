// Device-mapper and multipath kernel messages, built from the kernel's own format strings.
// DMWARN/DMERR/DMINFO print "device-mapper: <DM_MSG_PREFIX>: <fmt>" (include/linux/device-mapper.h).
// dm_device_name() / dm_table_device_name() is the map's "major:minor" (e.g. 253:3).
// Fixture lines: testdata/*/input.kmsg, each beside a note naming its source file.
import { PatternTable, type KPattern } from "../../../src/plugin-kit/kernel.ts";

export type DmPatternId =
  | "mpath_fail"
  | "mpath_reinstate"
  | "mpath_nopath_timeout"
  | "mpath_remaining"
  | "table_error"
  | "thin_mode"
  | "thin_low_water"
  | "raid_disk_failure"
  | "raid_continuing"
  | "raid_active"
  | "raid_sb_read";

export const DM_PATTERNS: readonly KPattern<DmPatternId>[] = [
  {
    id: "mpath_fail",
    needle: "Failing path ",
    // 5.9+ names the map; 4.18 (RHEL 8 before the backport) does not.
    re: /^device-mapper: multipath: (?:(?<map>\d{1,4}:\d{1,7}): )?Failing path (?<path>[\w:.-]{1,64})\.$/,
    source: "drivers/md/dm-mpath.c fail_path()",
    format: 'DMWARN("%s: Failing path %s.", dm_table_device_name(..), pgpath->path.dev->name) | 4.18: DMWARN("Failing path %s.", ..)',
  },
  {
    id: "mpath_reinstate",
    needle: "Reinstating path ",
    re: /^device-mapper: multipath: (?:(?<map>\d{1,4}:\d{1,7}): )?Reinstating path (?<path>[\w:.-]{1,64})\.$/,
    source: "drivers/md/dm-mpath.c reinstate_path()",
    format: 'DMWARN("%s: Reinstating path %s.", ..) | 4.18: DMWARN("Reinstating path %s.", ..)',
  },
  {
    id: "mpath_nopath_timeout",
    needle: "queue_if_no_path timeout on ",
    re: /^device-mapper: multipath: queue_if_no_path timeout on (?<map>\d{1,4}:\d{1,7})(?:, failing queued IO)?$/,
    source: "drivers/md/dm-mpath.c queue_if_no_path_timeout_work()",
    format: 'DMWARN("queue_if_no_path timeout on %s, failing queued IO", dm_table_device_name(..)) | 5.10: "queue_if_no_path timeout on %s"',
  },
  {
    // Not a kernel message: multipathd logs it (syslog/journal); replayed journal lines carry it.
    id: "mpath_remaining",
    needle: ": remaining active paths: ",
    re: /^(?:multipathd(?:\[\d{1,10}\])?: )?(?<alias>[\w.-]{1,128}): remaining active paths: (?<n>\d{1,5})$/,
    source: "multipath-tools libmultipath/structs_vec.c update_queue_mode_del_path()",
    format: 'condlog(2, "%s: remaining active paths: %d", mpp->alias, active)',
  },
  {
    id: "table_error",
    needle: "device-mapper: table: ",
    re: /^device-mapper: table: (?<map>\d{1,4}:\d{1,7}): (?<target>[\w-]{1,32}): (?!ignoring )(?<error>[\x20-\x7e]{1,512}?)(?: \((?<errno>-[A-Z][A-Z0-9]{1,15}|-\d{1,4})\))?$/,
    source: "drivers/md/dm-table.c dm_table_add_target()",
    format: 'DMERR("%s: %s: %s (%pe)", dm_device_name(t->md), type, ti->error, ERR_PTR(r)) | 4.18: DMERR("%s: %s: %s", ..)',
  },
  {
    id: "thin_mode",
    needle: "switching pool to ",
    re: /^device-mapper: thin: (?:(?<map>\d{1,4}:\d{1,7}): )?switching pool to (?<mode>out-of-data-space|read-only|fail|write)(?: \((?<io>queue|error) IO\))? mode$/,
    source: "drivers/md/dm-thin.c notify_of_pool_mode_change()",
    format: 'DMINFO("%s: switching pool to %s%s mode", dm_device_name(pool->pool_md), descs[mode], " (queue IO)"|" (error IO)"|"")',
  },
  {
    id: "thin_low_water",
    needle: "reached low water mark",
    re: /^device-mapper: thin: (?:(?<map>\d{1,4}:\d{1,7}): )?reached low water mark for data device: sending event\.$/,
    source: "drivers/md/dm-thin.c check_low_water_mark()",
    format: 'DMWARN("%s: reached low water mark for data device: sending event.", dm_device_name(pool->pool_md))',
  },
  {
    // dm-raid drives md personalities; an md array without a gendisk is named "mdX" (mdname()).
    id: "raid_disk_failure",
    needle: ":mdX: Disk failure on ",
    re: /^md\/raid(?<level>\d{0,2}):mdX: Disk failure on (?<leg>[\w:.-]{1,64}), disabling device\.$/,
    source: "drivers/md/raid1.c raid1_error(), raid10.c raid10_error(), raid5.c raid5_error() (via dm-raid.c)",
    format: 'pr_crit("md/raid1:%s: Disk failure on %pg, disabling device.\\n" ..) | 4.18: "%s" bdevname()',
  },
  {
    id: "raid_continuing",
    needle: ":mdX: Operation continuing on ",
    re: /^md\/raid(?<level>\d{0,2}):mdX: Operation continuing on (?<n>\d{1,4}) devices\.$/,
    source: "drivers/md/raid1.c raid1_error(), raid10.c, raid5.c raid5_error() (via dm-raid.c)",
    format: '"md/raid1:%s: Operation continuing on %d devices.\\n", mdname(mddev), conf->raid_disks - mddev->degraded',
  },
  {
    // Only a degraded start is an event: "active with 1 out of 2 mirrors".
    id: "raid_active",
    needle: ":mdX: ",
    re: /^md\/raid(?<level>\d{0,2}):mdX: (?:raid level (?<level5>\d) )?active with (?<active>\d{1,4}) out of (?<total>\d{1,4}) (?:mirrors|devices)(?:, algorithm \d{1,3})?$/,
    source: "drivers/md/raid1.c raid1_run(), raid10.c raid10_run(), raid5.c raid5_run() (via dm-raid.c)",
    format: '"md/raid1:%s: active with %d out of %d mirrors" | "md/raid10:%s: active with %d out of %d devices" | "md/raid:%s: raid level %d active with %d out of %d devices, algorithm %d"',
  },
  {
    id: "raid_sb_read",
    needle: "Failed to read superblock of device at position ",
    re: /^device-mapper: raid: Failed to read superblock of device at position (?<pos>\d{1,4})$/,
    source: "drivers/md/dm-raid.c read_disk_sb()",
    format: 'DMERR("Failed to read superblock of device at position %d", rdev->raid_disk)',
  },
];

export const dmTable = new PatternTable(DM_PATTERNS);

/** What every line of dm's table has (dm.test.ts checks each pattern's literal prefix or needle). */
export const DM_LINE_MARKS = ["device-mapper: ", "md/raid", ": remaining active paths: "] as const;

/** Kernel messages a cheap test can rule out before any regex runs. */
export function mayBeDm(msg: string): boolean {
  const c = msg.charCodeAt(0);
  // "device-mapper: ...", "md/raid..:mdX: ...", "multipathd..." / "<alias>: remaining active paths".
  // A record starting with d or m is read line by line: one of its lines has one of the marks.
  if (c === 100 /* d */ || c === 109 /* m */) return msg.includes(DM_LINE_MARKS[0]) || msg.includes(DM_LINE_MARKS[1]) || msg.includes(DM_LINE_MARKS[2]);
  return msg.includes(": remaining active paths: ");
}
