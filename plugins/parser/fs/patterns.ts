// ext4 (with jbd2), XFS and btrfs kernel messages, built from the kernel's own format strings.
// Prefixes: ext4 "EXT4-fs error (device %s): " / "EXT4-fs (%s): " (fs/ext4/super.c __ext4_error,
// __ext4_msg), XFS "XFS (%s): " (fs/xfs/xfs_message.c), btrfs "BTRFS %s (device %s%s): " with
// ": state X" (fs/btrfs/messages.c). %s is the superblock's s_id: the block device's kernel name.
// Fixture lines: testdata/*/input.kmsg, each beside its source file ("captured on 6.18" = real).
import { PatternTable, type KPattern } from "../../../src/plugin-kit/kernel.ts";
import type { Severity } from "../../../src/plugin-kit/event.ts";

export type FsType = "ext4" | "xfs" | "btrfs";
export type FsEventType =
  | "FS_ERROR" | "FS_REMOUNT_RO" | "FS_SHUTDOWN" | "FS_JOURNAL_ABORT" | "FS_CORRUPTION" | "FS_MOUNTED" | "FS_UNMOUNTED";

/**
 * emit: one record, one event (it first closes the reports open for its device).
 * merge: extends an open report of the same device and type, else opens one that later lines extend.
 * cont: only extends an open report of the same device and type; alone it is no event.
 * mounting/mounted: XFS mount start and end (the event comes with the end).
 */
export type FsMode = "emit" | "merge" | "cont" | "mounting" | "mounted";

export interface FsPattern extends KPattern {
  fs: FsType;
  type: FsEventType;
  severity: Severity;
  mode: FsMode;
}

const DEV = String.raw`(?<dev>[^)\s:]{1,64})`;
const UUID = String.raw`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`;
const XFS = String.raw`^XFS \(${DEV}\): `;
const BTRFS = String.raw`^BTRFS (?<lvl>emergency|alert|critical|error|warning|notice|info|debug) \(device ${DEV}(?:: state (?<state>[A-Za-z]{1,16}))?\): `;
const re = (s: string) => new RegExp(s);

type P = Omit<FsPattern, "re"> & { re: RegExp };

export const FS_PATTERNS: readonly P[] = [
  // ---- ext4 / jbd2
  {
    id: "ext4_error", fs: "ext4", type: "FS_ERROR", severity: "error", mode: "emit", needle: "EXT4-fs error (device ",
    re: re(String.raw`^EXT4-fs error \(device ${DEV}\): (?<func>[\w.]{1,64}):(?<srcline>\d{1,6}): (?:inode #(?<inode>\d{1,20}): )?(?:block (?<block>\d{1,20}): )?(?:comm (?<comm>.{1,64}?): )?(?:path (?<path>.{0,4096}?): )?(?<detail>.{1,2048})$`),
    source: "fs/ext4/super.c __ext4_error(), __ext4_error_inode(), __ext4_error_file(); 4.18 __ext4_abort()",
    format: '"EXT4-fs error (device %s): %s:%d: comm %s: %pV" | "..: inode #%lu: block %llu: comm %s: %pV" | 4.18 abort: "EXT4-fs error (device %s): %s:%d: %pV"',
  },
  {
    id: "ext4_write_io_error", fs: "ext4", type: "FS_ERROR", severity: "error", mode: "emit", needle: ": I/O error ",
    re: re(String.raw`^EXT4-fs warning \(device ${DEV}\): ext4_end_bio:\d{1,6}: I\/O error (?<errno>-?\d{1,4}) writing to inode (?<ino>\d{1,20}) (?:\(offset (?<offset>\d{1,20}) size (?<size>\d{1,20}) )?starting block (?<block>\d{1,20})\)$`),
    source: "fs/ext4/page-io.c ext4_end_bio() (4.18 .. 6.x; the unbalanced ')' of 4.x is the kernel's)",
    format: 'ext4_warning(inode->i_sb, "I/O error %d writing to inode %lu (offset %llu size %ld starting block %llu)", ..) | 4.x: "I/O error %d writing to inode %lu starting block %llu)"',
  },
  {
    id: "ext4_std_error", fs: "ext4", type: "FS_ERROR", severity: "error", mode: "emit", needle: "EXT4-fs error (device ",
    re: re(String.raw`^EXT4-fs error \(device ${DEV}\) in (?<func>[\w.]{1,64}):(?<srcline>\d{1,6}): (?<detail>.{1,512})$`),
    source: "fs/ext4/super.c __ext4_std_error()",
    format: 'printk(KERN_CRIT "EXT4-fs error (device %s) in %s:%d: %s\\n", sb->s_id, function, line, errstr)',
  },
  {
    id: "ext4_remount_ro", fs: "ext4", type: "FS_REMOUNT_RO", severity: "error", mode: "emit", needle: "Remounting filesystem read-only",
    re: re(String.raw`^EXT4-fs \(${DEV}\): Remounting filesystem read-only$`),
    source: "fs/ext4/super.c ext4_handle_error() (4.18: also __ext4_abort())",
    format: 'ext4_msg(sb, KERN_CRIT, "Remounting filesystem read-only")',
  },
  {
    id: "ext4_mounted", fs: "ext4", type: "FS_MOUNTED", severity: "info", mode: "emit", needle: "): mounted filesystem ",
    re: re(String.raw`^EXT4-fs \(${DEV}\): mounted filesystem (?:(?<uuid>${UUID}) (?<rw>r\/w|ro) )?with(?:out journal| (?<data>\w{1,16}) data mode)\.(?: Opts: (?<opts>.{0,1024}?)(?:\. Quota mode: (?<quota>[\w-]{1,32})\.)?| Quota mode: (?<quota6>[\w-]{1,32})\.)?$`),
    source: "fs/ext4/super.c __ext4_fill_super() / ext4_fill_super()",
    format: '6.x: "mounted filesystem %pU %s with%s. Quota mode: %s." | 5.14: "mounted filesystem with%s. Opts: %.*s%s%s. Quota mode: %s." | 4.18: "mounted filesystem with%s. Opts: %.*s%s%s"',
  },
  {
    id: "ext4_unmounting", fs: "ext4", type: "FS_UNMOUNTED", severity: "info", mode: "emit", needle: "): unmounting filesystem",
    re: re(String.raw`^EXT4-fs \(${DEV}\): unmounting filesystem(?: (?<uuid>${UUID}))?\.$`),
    source: "fs/ext4/super.c ext4_put_super()",
    format: '6.x: ext4_msg(sb, KERN_INFO, "unmounting filesystem %pU.", &sb->s_uuid) | 5.17: "unmounting filesystem." | 4.18/5.14: none',
  },
  {
    id: "ext4_shutdown", fs: "ext4", type: "FS_SHUTDOWN", severity: "error", mode: "emit", needle: "shut down requested",
    re: re(String.raw`^EXT4-fs \(${DEV}\): shut down requested \((?<flags>\d)\)$`),
    source: "fs/ext4/ioctl.c ext4_shutdown() / ext4_force_shutdown()",
    format: 'ext4_msg(sb, KERN_ALERT, "shut down requested (%d)", flags)',
  },
  {
    id: "ext4_sb_io_error", fs: "ext4", type: "FS_ERROR", severity: "error", mode: "emit", needle: "previous I/O error to superblock",
    re: re(String.raw`^EXT4-fs \(${DEV}\): previous I\/O error to superblock detected$`),
    source: "fs/ext4/super.c ext4_commit_super() / ext4_update_super()",
    format: 'ext4_msg(sb, KERN_ERR, "previous I/O error to superblock detected")',
  },
  {
    id: "ext4_sb_write_error", fs: "ext4", type: "FS_ERROR", severity: "error", mode: "emit", needle: "I/O error while writing superblock",
    re: re(String.raw`^EXT4-fs \(${DEV}\): I\/O error while writing superblock$`),
    source: "fs/ext4/super.c ext4_commit_super()",
    format: 'ext4_msg(sb, KERN_ERR, "I/O error while writing superblock")',
  },
  {
    id: "jbd2_abort", fs: "ext4", type: "FS_JOURNAL_ABORT", severity: "error", mode: "emit", needle: "Aborting journal on device ",
    re: re(String.raw`^Aborting journal on device (?<dev>[\w.:-]{1,64})-(?<ino>\d{1,20})\.$`),
    source: "fs/jbd2/journal.c jbd2_journal_abort() / __journal_abort_soft()",
    format: 'printk(KERN_ERR "Aborting journal on device %s.\\n", journal->j_devname) (j_devname = "<bdev>-<inode>")',
  },
  // ---- XFS
  {
    id: "xfs_mounting", fs: "xfs", type: "FS_MOUNTED", severity: "info", mode: "mounting", needle: "Mounting V",
    re: re(String.raw`${XFS}Mounting V(?<ver>\d) Filesystem(?: (?<uuid>${UUID}))?$`),
    source: "fs/xfs/xfs_super.c xfs_fs_fill_super()",
    format: '6.x: xfs_notice(mp, "Mounting V%d Filesystem %pU", ..) | 4.18: "Mounting V%d Filesystem"',
  },
  {
    id: "xfs_recovery_start", fs: "xfs", type: "FS_MOUNTED", severity: "info", mode: "mounting", needle: "Starting recovery",
    re: re(String.raw`${XFS}Starting recovery \(logdev: (?<logdev>[^)]{1,64})\)$`),
    source: "fs/xfs/xfs_log_recover.c xlog_recover()",
    format: 'xfs_notice(log->l_mp, "Starting recovery (logdev: %s)", ..)',
  },
  {
    id: "xfs_mount_done", fs: "xfs", type: "FS_MOUNTED", severity: "info", mode: "mounted", needle: "): Ending ",
    re: re(String.raw`${XFS}Ending (?:clean mount|recovery \(logdev: (?<logdev>[^)]{1,64})\))$`),
    source: "fs/xfs/xfs_log_recover.c xlog_recover_finish() / fs/xfs/xfs_log.c xfs_log_mount_finish()",
    format: 'xfs_notice(mp, "Ending clean mount") | xfs_notice(log->l_mp, "Ending recovery (logdev: %s)", ..)',
  },
  {
    id: "xfs_unmounting", fs: "xfs", type: "FS_UNMOUNTED", severity: "info", mode: "emit", needle: "Unmounting Filesystem",
    re: re(String.raw`${XFS}Unmounting Filesystem(?: (?<uuid>${UUID}))?$`),
    source: "fs/xfs/xfs_super.c xfs_fs_put_super()",
    format: '6.x: xfs_notice(mp, "Unmounting Filesystem %pU", ..) | 4.18: "Unmounting Filesystem"',
  },
  {
    id: "xfs_user_shutdown", fs: "xfs", type: "FS_SHUTDOWN", severity: "error", mode: "merge", needle: "User initiated shutdown received",
    re: re(String.raw`${XFS}User initiated shutdown received\.$`),
    source: "fs/xfs/xfs_fsops.c xfs_do_force_shutdown()",
    format: 'xfs_alert(mp, "User initiated shutdown received.")',
  },
  {
    id: "xfs_shutdown_called", fs: "xfs", type: "FS_SHUTDOWN", severity: "error", mode: "merge", needle: "xfs_do_force_shutdown(",
    re: re(String.raw`${XFS}xfs_do_force_shutdown\((?<flags>0x[0-9a-f]{1,8})\) called from line (?<srcline>\d{1,6}) of file (?<file>[^\s]{1,128})\.\s{1,2}Return address = (?<at>.{1,128})$`),
    source: "fs/xfs/xfs_fsops.c xfs_do_force_shutdown() (4.18 .. 5.16)",
    format: 'xfs_notice(mp, "%s(0x%x) called from line %d of file %s. Return address = %pS", __func__, flags, lnnum, fname, __return_address)',
  },
  {
    id: "xfs_shutdown", fs: "xfs", type: "FS_SHUTDOWN", severity: "error", mode: "merge", needle: "Shutting down filesystem.",
    re: re(String.raw`${XFS}(?<reason>[A-Za-z][\w /-]{1,64}?) \((?<flags>0x[0-9a-f]{1,8})\) detected at (?<at>\S{1,128}(?: \[\w{1,32}\])?) \((?<file>[^:()\s]{1,128}):(?<srcline>\d{1,6})\)\.\s{1,2}Shutting down filesystem\.$`),
    source: "fs/xfs/xfs_fsops.c xfs_do_force_shutdown() (5.17+)",
    format: 'xfs_alert_tag(mp, tag, "%s (0x%x) detected at %pS (%s:%d).  Shutting down filesystem.", why, flags, __return_address, fname, lnnum)',
  },
  {
    id: "xfs_shutdown_legacy", fs: "xfs", type: "FS_SHUTDOWN", severity: "error", mode: "merge", needle: "Shutting down filesystem",
    re: re(String.raw`${XFS}(?<reason>Corruption of in-memory data|Corruption of on-disk metadata|Corruption of on-disk file data|Log I\/O Error|All device paths lost|I\/O Error)(?: [Dd]etected)?\.\s{1,2}Shutting down filesystem$`),
    source: "fs/xfs/xfs_fsops.c xfs_do_force_shutdown() (4.18, 5.14)",
    format: '"Corruption of in-memory data detected.  Shutting down filesystem" | "Log I/O Error Detected. Shutting down filesystem" | "I/O Error Detected. Shutting down filesystem" | "All device paths lost. Shutting down filesystem"',
  },
  {
    id: "xfs_log_shutdown", fs: "xfs", type: "FS_SHUTDOWN", severity: "error", mode: "merge", needle: "shut down due to log error",
    re: re(String.raw`${XFS}Filesystem has been shut down due to log error \((?<flags>0x[0-9a-f]{1,8})\)\.$`),
    source: "fs/xfs/xfs_log.c xlog_force_shutdown() (5.17+)",
    format: 'xfs_alert_tag(log->l_mp, XFS_PTAG_SHUTDOWN_LOGERROR, "Filesystem has been shut down due to log error (0x%x).", shutdown_flags)',
  },
  {
    id: "xfs_please_unmount", fs: "xfs", type: "FS_SHUTDOWN", severity: "error", mode: "cont", needle: "the filesystem and rectify the problem",
    re: re(String.raw`${XFS}Please u(?:n)?mount the filesystem and rectify the problem\(s\)\.?$`),
    source: "fs/xfs/xfs_fsops.c xfs_do_force_shutdown(), fs/xfs/xfs_log.c xlog_force_shutdown()",
    format: 'xfs_alert(mp, "Please unmount the filesystem and rectify the problem(s)") | 4.18: "Please umount the filesystem and rectify the problem(s)"',
  },
  {
    id: "xfs_corruption_at", fs: "xfs", type: "FS_CORRUPTION", severity: "error", mode: "merge", needle: "Metadata corruption detected at ",
    re: re(String.raw`${XFS}Metadata corruption detected at (?<at>[^,]{1,128}), (?<what>.{1,256})$`),
    source: "fs/xfs/xfs_error.c xfs_buf_corruption_error() / xfs_inode_verifier_error() / xfs_verifier_error()",
    format: 'xfs_alert(mp, "Metadata corruption detected at %pS, %s block 0x%llx %s", ..) | "Metadata corruption detected at %pS, inode 0x%llx %s"',
  },
  {
    id: "xfs_crc_error", fs: "xfs", type: "FS_CORRUPTION", severity: "error", mode: "merge", needle: "Metadata CRC error detected at ",
    re: re(String.raw`${XFS}Metadata CRC error detected at (?<at>[^,]{1,128}), (?<what>.{1,256})$`),
    source: "fs/xfs/xfs_error.c xfs_verifier_error()",
    format: 'xfs_alert(mp, "Metadata %s detected at %pS, %s block 0x%llx %s", bp->b_error == -EFSBADCRC ? "CRC error" : "corruption", ..)',
  },
  {
    id: "xfs_internal_error", fs: "xfs", type: "FS_CORRUPTION", severity: "error", mode: "merge", needle: "Internal error ",
    re: re(String.raw`${XFS}Internal error (?<what>[^ ]{1,128}) at line (?<srcline>\d{1,6}) of file (?<file>[\w./-]{1,128})\.  Caller (?<caller>\S{1,128})(?: \[xfs\])?$`),
    source: "fs/xfs/xfs_error.c xfs_error_report() (4.18 .. 6.x)",
    format: 'xfs_alert(mp, "Internal error %s at line %d of file %s.  Caller %pS", tag, linenum, filename, ra)',
  },
  {
    id: "xfs_corruption_repair", fs: "xfs", type: "FS_CORRUPTION", severity: "error", mode: "merge", needle: "Corruption detected. Unmount and run xfs_repair",
    re: re(String.raw`${XFS}Corruption detected\. Unmount and run xfs_repair$`),
    source: "fs/xfs/xfs_error.c xfs_corruption_error() / xfs_error_report()",
    format: 'xfs_alert(mp, "Corruption detected. Unmount and run xfs_repair")',
  },
  {
    id: "xfs_unmount_repair", fs: "xfs", type: "FS_CORRUPTION", severity: "error", mode: "cont", needle: "Unmount and run xfs_repair",
    re: re(String.raw`${XFS}Unmount and run xfs_repair$`),
    source: "fs/xfs/xfs_error.c xfs_verifier_error()",
    format: 'xfs_alert(mp, "Unmount and run xfs_repair")',
  },
  {
    id: "xfs_first_bytes", fs: "xfs", type: "FS_CORRUPTION", severity: "error", mode: "cont", needle: "bytes of corrupted metadata buffer",
    re: re(String.raw`${XFS}First (?<n>\d{1,6}) bytes of corrupted metadata buffer:$`),
    source: "fs/xfs/xfs_error.c xfs_verifier_error() / xfs_hex_dump()",
    format: 'xfs_alert(mp, "First %d bytes of corrupted metadata buffer:", bufsz)',
  },
  {
    id: "xfs_metadata_io", fs: "xfs", type: "FS_ERROR", severity: "error", mode: "emit", needle: "metadata I/O error in ",
    re: re(String.raw`${XFS}metadata I\/O error in "(?<at>[^"]{1,128})" at daddr (?<daddr>0x[0-9a-f]{1,16}) len (?<len>\d{1,10}) error (?<errno>\d{1,4})$`),
    source: "fs/xfs/xfs_buf.c xfs_buf_ioerror_alert()",
    format: 'xfs_alert_ratelimited(bp->b_mount, "metadata I/O error in \\"%pS\\" at daddr 0x%llx len %d error %d", ..) (4.18: "%s" func name)',
  },
  {
    id: "xfs_metadata_io_legacy", fs: "xfs", type: "FS_ERROR", severity: "error", mode: "emit", needle: "metadata I/O error: block ",
    re: re(String.raw`${XFS}metadata I\/O error: block (?<daddr>0x[0-9a-f]{1,16}) \("(?<at>[^"]{1,128})"\) error (?<errno>\d{1,4}) numblks (?<len>\d{1,10})$`),
    source: "fs/xfs/xfs_buf.c xfs_buf_ioerror_alert() (4.x)",
    format: 'xfs_alert(bp->b_target->bt_mount, "metadata I/O error: block 0x%llx (\\"%s\\") error %d numblks %d", ..)',
  },
  {
    id: "xfs_log_io_error", fs: "xfs", type: "FS_ERROR", severity: "error", mode: "emit", needle: "log I/O error ",
    re: re(String.raw`${XFS}log I\/O error (?<errno>-?\d{1,4})$`),
    source: "fs/xfs/xfs_log.c xlog_ioend_work()",
    format: 'xfs_alert(log->l_mp, "log I/O error %d", error)',
  },
  {
    id: "xfs_uncorrected", fs: "xfs", type: "FS_CORRUPTION", severity: "warn", mode: "emit", needle: "Uncorrected metadata errors detected",
    re: re(String.raw`${XFS}Uncorrected metadata errors detected; please run xfs_repair\.$`),
    source: "fs/xfs/xfs_health.c xfs_health_unmount()",
    format: 'xfs_warn(mp, "Uncorrected metadata errors detected; please run xfs_repair.")',
  },
  // ---- btrfs
  {
    id: "btrfs_fs_error", fs: "btrfs", type: "FS_ERROR", severity: "error", mode: "emit", needle: "BTRFS: error (device ",
    re: re(String.raw`^BTRFS: error \(device ${DEV}(?:: state (?<state>[A-Za-z]{1,16}))?\) in (?<func>[\w.]{1,64}):(?<srcline>\d{1,6}): errno=(?<errno>-?\d{1,4}) (?<error>[^()]{1,64}?)(?: \((?<detail>.{1,512})\))?$`),
    source: "fs/btrfs/messages.c __btrfs_handle_fs_error() (4.18: fs/btrfs/super.c, without the state)",
    format: 'pr_crit("BTRFS: error (device %s%s) in %s:%d: errno=%d %s\\n" | ".. errno=%d %s (%pV)\\n", sb->s_id, statestr, function, line, error, errstr)',
  },
  {
    id: "btrfs_forced_ro", fs: "btrfs", type: "FS_REMOUNT_RO", severity: "error", mode: "emit", needle: "forced readonly",
    re: re(String.raw`${BTRFS}forced readonly$`),
    source: "fs/btrfs/messages.c __btrfs_handle_fs_error()",
    format: 'btrfs_info(fs_info, "forced readonly")',
  },
  {
    id: "btrfs_csum_failed", fs: "btrfs", type: "FS_CORRUPTION", severity: "error", mode: "merge", needle: "csum failed root ",
    re: re(String.raw`${BTRFS}csum failed root (?<root>-?\d{1,20}) ino (?<ino>\d{1,20}) off (?<off>\d{1,20}) csum (?<csum>0x[0-9a-f]{1,64}) expected csum (?<expected>0x[0-9a-f]{1,64}) mirror (?<mirror>\d{1,3})$`),
    source: "fs/btrfs/inode.c btrfs_print_data_csum_error()",
    format: 'btrfs_warn_rl(root->fs_info, "csum failed root %lld ino %llu off %llu csum " CSUM_FMT " expected csum " CSUM_FMT " mirror %d", ..)',
  },
  {
    id: "btrfs_dev_errs", fs: "btrfs", type: "FS_ERROR", severity: "error", mode: "merge", needle: " errs: wr ",
    re: re(String.raw`${BTRFS}bdev (?<bdev>[^\s]{1,128}) errs: wr (?<wr>\d{1,10}), rd (?<rd>\d{1,10}), flush (?<flush>\d{1,10}), corrupt (?<corrupt>\d{1,10}), gen (?<gen>\d{1,10})$`),
    source: "fs/btrfs/volumes.c btrfs_dev_stat_print_on_error()",
    format: 'btrfs_err_rl_in_rcu(dev->fs_info, "bdev %s errs: wr %u, rd %u, flush %u, corrupt %u, gen %u", btrfs_dev_name(dev), ..)',
  },
  {
    id: "btrfs_transid", fs: "btrfs", type: "FS_CORRUPTION", severity: "error", mode: "merge", needle: "parent transid verify failed on ",
    re: re(String.raw`${BTRFS}parent transid verify failed on (?:logical )?(?<logical>\d{1,20})(?: mirror (?<mirror>\d{1,3}))? wanted (?<wanted>\d{1,20}) found (?<found>\d{1,20})$`),
    source: "fs/btrfs/disk-io.c verify_parent_transid()",
    format: '6.x: "parent transid verify failed on logical %llu mirror %u wanted %llu found %llu" | 4.18: "parent transid verify failed on %llu wanted %llu found %llu"',
  },
  {
    id: "btrfs_csum_verify", fs: "btrfs", type: "FS_CORRUPTION", severity: "error", mode: "merge", needle: "checksum verify failed on ",
    re: re(String.raw`${BTRFS}(?:[\w.:-]{1,64} )?checksum verify failed on (?:logical )?(?<logical>\d{1,20}) (?:mirror (?<mirror>\d{1,3}) )?wanted (?<wanted>\S{1,80}) found (?<found>\S{1,80}) level (?<level>\d{1,2})$`),
    source: "fs/btrfs/disk-io.c btrfs_validate_extent_buffer() (4.18: csum_tree_block())",
    format: '6.x: "checksum verify failed on logical %llu mirror %u wanted " CSUM_FMT " found " CSUM_FMT " level %d" | 4.18: "%s checksum verify failed on %llu wanted %X found %X level %d"',
  },
  {
    id: "btrfs_bad_tree_block", fs: "btrfs", type: "FS_ERROR", severity: "error", mode: "merge", needle: "bad tree block start",
    re: re(String.raw`${BTRFS}bad tree block start(?:, mirror (?<mirror>\d{1,3}) want (?<want>\d{1,20}) have (?<have>\d{1,20})| (?<have4>\d{1,20}) (?<want4>\d{1,20}))$`),
    source: "fs/btrfs/disk-io.c btree_read_extent_buffer_pages()/validate_extent_buffer() (6.x), btree_readpage_end_io_hook() (4.x)",
    format: '6.x: "bad tree block start, mirror %u want %llu have %llu" | 4.x: "bad tree block start %llu %llu"',
  },
  {
    id: "btrfs_chunk_root", fs: "btrfs", type: "FS_ERROR", severity: "error", mode: "merge", needle: "failed to read ",
    re: re(String.raw`${BTRFS}failed to read (?<tree>chunk root|chunk tree|the system array|log tree|block groups)(?:: (?<errno>-?\d{1,4}))?$`),
    source: "fs/btrfs/disk-io.c open_ctree() / btrfs_read_sys_array callers (4.x .. 6.x)",
    format: 'btrfs_err(fs_info, "failed to read chunk root") | "failed to read chunk tree: %d" | "failed to read the system array: %d" | "failed to read block groups: %d"',
  },
  {
    id: "btrfs_open_ctree", fs: "btrfs", type: "FS_ERROR", severity: "error", mode: "merge", needle: "open_ctree failed",
    re: re(String.raw`${BTRFS}open_ctree failed(?:: (?<errno>-?\d{1,4}))?$`),
    source: "fs/btrfs/super.c btrfs_fill_super() (4.x .. 6.x)",
    format: 'btrfs_err(fs_info, "open_ctree failed") | 6.x: "open_ctree failed: %d"',
  },
  {
    id: "btrfs_first_mount", fs: "btrfs", type: "FS_MOUNTED", severity: "info", mode: "emit", needle: "first mount of filesystem ",
    re: re(String.raw`${BTRFS}first mount of filesystem (?<uuid>${UUID})$`),
    source: "fs/btrfs/disk-io.c open_ctree() (6.10+; older kernels print no mount line)",
    format: 'btrfs_info(fs_info, "first mount of filesystem %pU", fs_info->fs_devices->fsid)',
  },
  {
    id: "btrfs_last_unmount", fs: "btrfs", type: "FS_UNMOUNTED", severity: "info", mode: "emit", needle: "last unmount of filesystem ",
    re: re(String.raw`${BTRFS}last unmount of filesystem (?<uuid>${UUID})$`),
    source: "fs/btrfs/super.c btrfs_put_super() / close_ctree() (6.10+)",
    format: 'btrfs_info(fs_info, "last unmount of filesystem %pU", fs_info->fs_devices->fsid)',
  },
];

/** xfs_hex_dump() lines after "First N bytes of corrupted metadata buffer:" (lib/hexdump.c
 * print_hex_dump(KERN_ALERT, "", DUMP_PREFIX_OFFSET, 16, 1, ..)): no device prefix, so they only
 * extend the report open on the line before. */
export const HEXDUMP: KPattern = {
  id: "hexdump", needle: ": ", source: "lib/hexdump.c print_hex_dump() via fs/xfs/xfs_message.c xfs_hex_dump()",
  re: /^[0-9a-f]{8}: (?:[0-9a-f]{2} ){1,16} .{1,16}$/,
  format: 'print_hex_dump(KERN_ALERT, "", DUMP_PREFIX_OFFSET, 16, 1, p, length, 1)',
};

export const fsTable = new PatternTable(FS_PATTERNS);
export const FS_PATTERN_BY_ID = new Map(FS_PATTERNS.map((p) => [p.id, p]));

/** Messages a two-byte test rules out: "EX"T4-fs, "XF"S, "BT"RFS, "Ab"orting journal. */
export function mayBeFs(msg: string): boolean {
  const a = msg.charCodeAt(0);
  const b = msg.charCodeAt(1);
  return (a === 69 && b === 88) || (a === 88 && b === 70) || (a === 66 && b === 84) || (a === 65 && b === 98);
}
