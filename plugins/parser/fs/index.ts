// Filesystem parser (ext4 with jbd2, XFS, btrfs): errors, read-only remounts, shutdowns, journal
// aborts, corruption, mounts and unmounts, each with the fs type and mount point.
import * as v from "valibot";
import { definePlugin, Duration, type DeviceDirectory, type EventDraft, type KmsgRecord, type RawRecord } from "../../../src/plugin-api.ts";
import { decNum, HeldReports, kernelMsg, type GuardContext } from "../../../src/plugin-kit/kernel.ts";
import { invalidText, NO_GUARD } from "../../../src/plugin-kit/kernel.ts";
import { FS_PATTERN_BY_ID, fsTable, HEXDUMP, mayBeFs, type FsEventType, type FsPattern, type FsType } from "./patterns.ts";
import { MountTable } from "./mountinfo.ts";
import sample from "./sample.toml" with { type: "text" };
import { EVENTS } from "./events.ts";

export const schema = v.strictObject({
  join_window: v.pipe(
    v.optional(Duration),
    v.description(
      "How long a multi-line filesystem report stays open for its further lines (an XFS shutdown with " +
        "\"Please unmount...\", an XFS corruption report with its hex dump, a btrfs checksum error with " +
        "the device's error counters) before it is emitted as one event. Default: [main] hold_max (250 ms).",
    ),
  ),
  mountinfo: v.pipe(
    v.optional(v.string(), "/proc/self/mountinfo"),
    v.description("Where mount points are looked up when the device directory cannot tell (proc(5) mountinfo format)."),
  ),
});

type Emit = (d: EventDraft) => void;
type Mount = { mount_point: string; fs_type: string };

interface Report {
  records: string[];
  fs: FsType;
  type: FsEventType;
  severity: EventDraft["severity"];
  dev: string;
  ext: Record<string, unknown>;
  timeUs?: number;
}

/** dump_stack() output after an XFS "Internal error"/corruption report (lib/dump_stack.c,
 * arch/x86/kernel/dumpstack.c; 4.18 .. 6.x): it belongs to that report. */
const CALL_TRACE = /^(?:CPU: \d{1,5} (?:UID: \d{1,10} )?PID: \d{1,10} Comm: |Hardware name: |Call Trace:$| {0,2}<\/?(?:TASK|IRQ)>$| {1,2}(?:\? )?[\w.]{1,128}\+0x[0-9a-f]{1,8}\/0x[0-9a-f]{1,8}(?: \[[\w]{1,32}\])?$)/;

const FS_LABEL: Record<FsType, string> = { ext4: "ext4", xfs: "XFS", btrfs: "btrfs" };
const MAX_PENDING_MOUNTS = 64;
const MAX_KNOWN_MOUNTS = 256;

/** Fields of a match, typed: decimal numbers become numbers, absent groups are dropped. */
function fields(g: Record<string, string | undefined>, skip: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(g)) {
    if (val === undefined || skip.includes(k)) continue;
    out[k] = /^-?\d{1,15}$/.test(val) && k !== "flags" ? decNum(val) : val;
  }
  return out;
}

export class FsParser {
  readonly accepts = ["kmsg"] as const;
  private held: HeldReports<Report>;
  private lastHeld: string | undefined; // the report the previous record extended or opened
  private clockMs = 0; // record time, advanced by the pipeline's clock between records
  private clockAt: number;
  private mounting = new Map<string, Report>();
  private known = new Map<string, Mount>();

  constructor(
    private windowMs: number,
    private mountOf: (dev: string) => Mount | undefined,
    private guard: GuardContext = NO_GUARD,
    // Replay: the latest record's time, so nothing depends on how fast the input is read.
    private clock: () => number = () => performance.now(),
  ) {
    this.clockAt = clock();
    this.held = new HeldReports<Report>(windowMs, 256, () => this.clockMs + (this.clock() - this.clockAt));
  }

  parse(rec: RawRecord, emit: Emit): void {
    if (rec.kind !== "kmsg") return;
    if (rec.time_us !== undefined) {
      this.clockMs = rec.time_us / 1000;
      this.clockAt = this.clock();
    }
    const msg = kernelMsg(rec, this.guard);
    if (msg !== undefined) return this.parseGuarded(rec, msg, emit);
    for (const r of this.held.expire(false)) this.emitReport(r, emit);
    this.lastHeld = undefined;
  }

  /** A record whose message kernelMsg() passed (the pipeline guards once for every parser). */
  parseGuarded(rec: KmsgRecord, msg: string, emit: Emit): void {
    if (rec.time_us !== undefined) {
      this.clockMs = rec.time_us / 1000;
      this.clockAt = this.clock();
    }
    for (const r of this.held.expire(false)) this.emitReport(r, emit);
    if (this.lastHeld !== undefined && (HEXDUMP.re.test(msg) || (this.lastHeld.startsWith("FS_CORRUPTION|") && CALL_TRACE.test(msg)))) {
      const r = this.held.get(this.lastHeld);
      if (r && r.records.length < 256) {
        r.records.push(rec.raw);
        this.held.touch(this.lastHeld);
        return;
      }
    }
    this.lastHeld = undefined;
    if (mayBeFs(msg)) this.fsMessage(rec, msg, emit);
  }

  // Apart from parseGuarded(), which every record runs: the JIT compiles this only for fs messages.
  private fsMessage(rec: KmsgRecord, msg: string, emit: Emit): void {
    const m = fsTable.match(msg);
    if (!m) {
      this.xfsDetail(msg, rec);
      return;
    }
    if (invalidText(msg, this.guard)) return;
    this.handle(FS_PATTERN_BY_ID.get(m.id)! as FsPattern, m.groups, rec, emit);
  }

  nextFlushIn(): number | undefined {
    return this.held.nextFlushIn();
  }

  oldestHeld(source: string): number | undefined {
    return this.held.oldestSeq(source);
  }

  flush(emit: Emit, final: boolean): void {
    for (const r of this.held.expire(final)) this.emitReport(r, emit);
    if (final) this.mounting.clear();
  }

  private handle(p: FsPattern, g: Record<string, string | undefined>, rec: KmsgRecord, emit: Emit): void {
    const dev = g.dev!;
    const key = `${p.type}|${dev}`;
    const report = (): Report => ({
      records: [rec.raw], fs: p.fs, type: p.type, severity: p.severity, dev, ext: this.extension(p, g), timeUs: rec.time_us,
    });
    switch (p.mode) {
      case "emit":
        this.releaseDev(dev, emit);
        return this.emitMountAware(report(), emit);
      case "merge":
        return this.merge(p, g, rec, emit, dev, key, report);
      case "cont": {
        const open = this.held.get(key);
        if (open) this.extend(key, open, rec, {});
        return;
      }
      case "mounting": {
        const pending = this.mounting.get(dev);
        if (pending && p.id === "xfs_recovery_start") {
          pending.records.push(rec.raw);
          Object.assign(pending.ext, this.extension(p, g));
          return;
        }
        this.mounting.delete(dev);
        this.mounting.set(dev, report());
        if (this.mounting.size > MAX_PENDING_MOUNTS) this.mounting.delete(this.mounting.keys().next().value as string);
        return;
      }
      case "mounted": {
        const pending = this.mounting.get(dev);
        this.mounting.delete(dev);
        const r = report();
        if (pending) {
          r.records = [...pending.records, rec.raw];
          r.ext = { ...pending.ext, ...r.ext };
          r.timeUs = pending.timeUs ?? r.timeUs;
        }
        this.releaseDev(dev, emit);
        return this.emitMountAware(r, emit);
      }
    }
  }

  /** A "merge" pattern joins an open report of its device or opens one: the biggest case, a method
   * of its own so that the JIT compiles it apart from handle(). */
  private merge(
    p: FsPattern, g: Record<string, string | undefined>, rec: KmsgRecord, emit: Emit, dev: string, key: string, report: () => Report,
  ): void {
    // btrfs prints its device error counters at info level when it mounts: old counts, no event.
    if (p.id === "btrfs_dev_errs" && g.lvl === "info") return;
    // btrfs device error counters belong to the checksum/transid report they follow.
    const k = p.id === "btrfs_dev_errs" ? `FS_CORRUPTION|${dev}` : key;
    const ext = this.extension(p, g);
    let open = this.held.get(k);
    // Every checksum failure is a failed read of its own; only its counters line joins it.
    if (open && p.id === "btrfs_csum_failed") {
      this.emitReport(this.held.take(k)!, emit);
      open = undefined;
    }
    if (open && !conflicts(open, ext)) return this.extend(k, open, rec, ext);
    if (p.id === "btrfs_dev_errs" && !open) {
      this.releaseDev(dev, emit);
      const r = report();
      // Only the corruption counter moved: a checksum or verification failure, not an I/O error.
      if (g.wr === "0" && g.rd === "0" && g.flush === "0") r.type = "FS_CORRUPTION";
      return this.emitReport(r, emit);
    }
    // A shutdown ends the corruption or error report that led to it: one report, FS_SHUTDOWN.
    const cause = p.type === "FS_SHUTDOWN" ? (this.held.take(`FS_CORRUPTION|${dev}`) ?? this.held.take(`FS_ERROR|${dev}`)) : undefined;
    if (cause) {
      const r = report();
      r.records = [...cause.records, rec.raw];
      r.ext = { ...cause.ext, ...r.ext };
      r.timeUs = cause.timeUs ?? r.timeUs;
      this.releaseDev(dev, emit);
      for (const old of this.held.open(key, r)) this.emitReport(old, emit);
      this.lastHeld = key;
      return;
    }
    this.releaseDev(dev, emit);
    for (const r of this.held.open(key, report())) this.emitReport(r, emit);
    this.lastHeld = key;
  }

  /**
   * The kernel prints its mount line before the mount is attached to the tree: when the mount
   * point cannot be found yet, FS_MOUNTED is held (up to join_window, or until the device's next
   * report) and the lookup is repeated when it is emitted.
   */
  private emitMountAware(r: Report, emit: Emit): void {
    if (r.type !== "FS_MOUNTED" || this.mountOf(r.dev)) return this.emitReport(r, emit);
    for (const old of this.held.open(`FS_MOUNTED|${r.dev}`, r)) this.emitReport(old, emit);
  }

  /** Another "XFS (dev): " line while a corruption or error report of that device is open (the
   * caller's own complaint between "Internal error" and the shutdown) is part of that report. */
  private xfsDetail(msg: string, rec: KmsgRecord): void {
    const x = /^XFS \(([^)\s:]{1,64})\): /.exec(msg);
    if (!x) return;
    for (const type of ["FS_CORRUPTION", "FS_ERROR"] as const) {
      const key = `${type}|${x[1]}`;
      const r = this.held.get(key);
      if (r && r.fs === "xfs" && r.records.length < 256) return this.extend(key, r, rec, {});
    }
  }

  /** Emits the reports still open for `dev`: a new report of the device ends them. */
  private releaseDev(dev: string, emit: Emit): void {
    if (this.held.size === 0) return; // the common case: no key strings to build
    for (const type of FS_EVENT_TYPES) {
      const r = this.held.take(`${type}|${dev}`);
      if (r) this.emitReport(r, emit);
    }
  }

  private extend(key: string, r: Report, rec: KmsgRecord, ext: Record<string, unknown>): void {
    r.records.push(rec.raw);
    Object.assign(r.ext, ext);
    this.held.touch(key);
    this.lastHeld = key;
  }

  /** The kernel's fields of this line, named for the event's extension. */
  private extension(p: FsPattern, g: Record<string, string | undefined>): Record<string, unknown> {
    switch (p.id) {
      case "ext4_error":
        return fields(g, ["dev"]);
      case "ext4_std_error":
        return fields(g, ["dev"]);
      case "ext4_mounted": {
        const ext = fields(g, ["dev", "quota6", "rw"]);
        if (g.quota6) ext.quota = g.quota6;
        if (g.rw) ext.read_only = g.rw === "ro";
        if (!g.data) ext.journal = false;
        return ext;
      }
      case "ext4_shutdown":
        return { flags: Number(g.flags), reason: ["default (sync, then shut down)", "log flush", "no log flush"][Number(g.flags)] ?? "unknown" };
      case "ext4_sb_io_error":
        return { detail: "previous I/O error to superblock detected" };
      case "ext4_sb_write_error":
        return { detail: "I/O error while writing superblock" };
      case "jbd2_abort":
        return { journal_inode: decNum(g.ino) };
      case "xfs_user_shutdown":
        return { user_initiated: true, reason: "User initiated shutdown" };
      case "xfs_log_shutdown":
        return { reason: "Log error", flags: g.flags };
      case "xfs_shutdown_called":
        return { flags: g.flags, file: g.file, srcline: decNum(g.srcline), at: g.at };
      case "btrfs_dev_errs":
        return { bdev: g.bdev, errs: { wr: decNum(g.wr), rd: decNum(g.rd), flush: decNum(g.flush), corrupt: decNum(g.corrupt), gen: decNum(g.gen) } };
      default:
        return fields(g, ["dev", "lvl"]);
    }
  }

  private emitReport(r: Report, emit: Emit): void {
    if (this.lastHeld === `${r.type}|${r.dev}`) this.lastHeld = undefined;
    const mount = this.mountFor(r);
    const fsType = mount?.fs_type && (r.fs !== "ext4" || mount.fs_type.startsWith("ext")) ? mount.fs_type : r.fs;
    const mountPoint = mount?.mount_point ?? "";
    const extension: Record<string, unknown> = { fs_type: fsType, mount_point: mountPoint, ...r.ext };
    const where = `${FS_LABEL[r.fs]} on ${r.dev}${mountPoint ? ` (${mountPoint})` : ""}`;
    emit({
      severity: r.severity, system: "fs", event_type: r.type, dev_name: r.dev, msg: message(r, where), extension,
      time_us: r.timeUs, raw: r.records.join("\n"),
    });
  }

  /** Mount point and type: asked now, remembered for the unmount (when the mount is already gone). */
  private mountFor(r: Report): Mount | undefined {
    const now = this.mountOf(r.dev);
    if (now) {
      this.known.delete(r.dev);
      this.known.set(r.dev, now);
      if (this.known.size > MAX_KNOWN_MOUNTS) this.known.delete(this.known.keys().next().value as string);
      return now;
    }
    const before = this.known.get(r.dev);
    if (r.type === "FS_UNMOUNTED") this.known.delete(r.dev);
    return before;
  }
}

const FS_EVENT_TYPES: readonly FsEventType[] = [
  "FS_ERROR", "FS_REMOUNT_RO", "FS_SHUTDOWN", "FS_JOURNAL_ABORT", "FS_CORRUPTION", "FS_MOUNTED", "FS_UNMOUNTED",
];
const IDENTITY_KEYS = ["ino", "off", "root", "logical", "at", "what"];

/** A further corruption line about another object (inode, offset, block) starts its own report. */
function conflicts(open: Report, ext: Record<string, unknown>): boolean {
  if (open.type !== "FS_CORRUPTION") return false;
  return IDENTITY_KEYS.some((k) => k in ext && k in open.ext && open.ext[k] !== ext[k]);
}

function message(r: Report, where: string): string {
  const e = r.ext;
  switch (r.type) {
    case "FS_ERROR":
      if (e.errs) return `${where}: device error counters ${JSON.stringify(e.errs).replace(/["{}]/g, "")}.`;
      if (r.fs === "xfs") return `${where}: ${e.daddr ? `metadata I/O error at daddr ${e.daddr} (error ${e.errno})` : `log I/O error ${e.errno}`}.`;
      if (r.fs === "btrfs" && e.func === undefined) {
        // bad tree block / failed to read a tree / open_ctree failed: the mount could not read its metadata.
        const what = e.tree ? `failed to read ${e.tree}` : e.want !== undefined || e.want4 !== undefined ? "bad tree block" : "open_ctree failed";
        return `${where}: ${what}${e.errno !== undefined ? ` (errno ${e.errno})` : ""}.`;
      }
      if (r.fs === "btrfs") return `${where}: error in ${e.func}: errno=${e.errno} ${e.error}${e.detail ? ` (${e.detail})` : ""}.`;
      if (e.ino !== undefined && e.block !== undefined) return `${where}: write I/O error ${e.errno} on inode ${e.ino} at block ${e.block}.`;
      if (e.func === undefined) return `${where}: ${e.detail}.`;
      return `${where}: error in ${e.func}${e.comm ? ` (comm ${e.comm})` : ""}: ${e.detail}.`;
    case "FS_REMOUNT_RO":
      return `${where} was forced read-only after an error.`;
    case "FS_SHUTDOWN":
      return `${where} was shut down: ${e.reason ?? "forced shutdown"}${e.flags !== undefined ? ` (${e.flags})` : ""}.`;
    case "FS_JOURNAL_ABORT":
      return `${where}: the journal was aborted.`;
    case "FS_CORRUPTION":
      if (e.csum) return `${where}: data checksum mismatch in inode ${e.ino} at offset ${e.off} (mirror ${e.mirror}).`;
      if (e.wanted !== undefined) return `${where}: metadata verification failed at logical ${e.logical} (wanted ${e.wanted}, found ${e.found}).`;
      if (e.at) return `${where}: metadata corruption detected at ${e.at}, ${e.what}.`;
      return `${where}: metadata corruption detected; run the filesystem's repair tool.`;
    case "FS_MOUNTED":
      return `${where} mounted${e.uuid ? ` (uuid ${e.uuid})` : ""}.`;
    case "FS_UNMOUNTED":
      return `${where} unmounted.`;
  }
}

export function mountLookup(devices: DeviceDirectory, path: string): (dev: string) => Mount | undefined {
  if (devices.mountOf) return (dev) => devices.mountOf!(dev);
  const table = new MountTable(path);
  return (dev) => table.lookup(dev);
}

export default definePlugin({
  kind: "parser",
  name: "fs",
  emits: EVENTS,
  description: "Filesystem kernel messages (ext4/jbd2, XFS, btrfs): errors, read-only remounts, shutdowns, journal aborts, corruption, mounts and unmounts, with fs type and mount point.",
  schema,
  sample,
  create(config, ctx) {
    return new FsParser(config.join_window ?? ctx.holdMaxMs, mountLookup(ctx.devices, config.mountinfo), ctx, ctx.clock);
  },
});
