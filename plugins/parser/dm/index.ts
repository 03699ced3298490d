// Device-mapper and multipath parser: path failures/reinstatements (kernel line and dm uevent merged
// into one event), no usable paths, table load errors, thin pool full/mode changes, dm-raid degraded.
import * as v from "valibot";
import { definePlugin, Duration, type EventDraft, type JournalRecord, type KmsgRecord, type Owner, type RawRecord, type UeventRecord } from "../../../src/plugin-api.ts";
import { decNum, invalidText, kernelMsg, kmsgSeq, NO_GUARD, recordLines, type GuardContext } from "../../../src/plugin-kit/kernel.ts";
import { dmTable, mayBeDm } from "./patterns.ts";
import { Multipathd, type DaemonFields, type Note } from "./multipathd.ts";
import sample from "./sample.toml" with { type: "text" };
import { EVENTS } from "./events.ts";

export const schema = v.strictObject({
  multipathd_daemons: v.pipe(
    v.optional(v.array(v.string()), ["multipathd"]),
    v.description("Journal identifiers whose lines are read as multipathd's (journal sender; see multipathd.ts)."),
  ),
  merge_window: v.pipe(
    v.optional(Duration),
    v.description(
      "How long the first half of a multipath path failure or reinstatement (the kernel line or dm's " +
        "PATH_FAILED/PATH_REINSTATED uevent) waits for the other half before it is reported alone. " +
        "Default: [main] hold_max (250 ms).",
    ),
  ),
});

type Emit = (d: EventDraft) => void;
type PathAction = "fail" | "reinstate";

/** One path failure/reinstatement, from one or both of its halves (and multipathd's lines). */
interface PathReport extends DaemonFields {
  action: PathAction;
  path: string;
  map?: string; // "253:3"
  mapDev?: string; // "dm-3"
  name?: string; // DM_NAME
  uuid?: string; // DM_UUID
  validPaths?: number; // DM_NR_VALID_PATHS
  seqnum?: number; // DM_SEQNUM
  kmsg: boolean;
  uevent: boolean;
  timeUs?: number;
  records: string[];
  heldAtMs: number;
}

interface RaidReport {
  heldAtMs: number;
  level: string;
  leg: string;
  remaining?: number;
  timeUs?: number;
  records: string[];
}

const MAX_HELD = 1024;
/** Kernel-record times are boot time + timestamp, uevent times are when they were received: allow this much disagreement. */
const CLOCK_SKEW_MS = 2000;

/** dm minor N is /dev/dm-N. */
function mapDevOf(map: string | undefined): string | undefined {
  const m = map ? /^\d+:(\d+)$/.exec(map) : null;
  return m ? `dm-${m[1]}` : undefined;
}

/** The multipath WWID inside a dm UUID ("mpath-3600..." -> "3600..."); other UUIDs stay whole. */
function wwidOf(uuid: string | undefined): string {
  if (!uuid) return "";
  return uuid.startsWith("mpath-") ? uuid.slice(6) : uuid;
}

function pathEvents(r: PathReport): EventDraft[] {
  const mapLabel = r.name ? `${r.name} (${r.mapDev ?? r.map ?? "?"})` : (r.mapDev ?? r.map);
  const inMap = mapLabel ? ` in map ${mapLabel}` : "";
  const owners: Owner[] = r.mapDev ? [{ dev_name: r.mapDev, dev_wwid: wwidOf(r.uuid) }] : [];
  const extension: Record<string, unknown> = { path: r.path };
  if (r.map) extension.map = r.map;
  if (r.mapDev) extension.map_dev = r.mapDev;
  if (r.name ?? r.alias) extension.map_name = r.name ?? r.alias;
  if (r.uuid) extension.map_uuid = r.uuid;
  if (r.validPaths !== undefined) extension.valid_paths = r.validPaths;
  if (r.seqnum !== undefined) extension.dm_seqnum = r.seqnum;
  if (r.remaining !== undefined) extension.remaining_paths = r.remaining;
  if (r.checker) extension.checker = r.checker;
  if (r.checkerMsg) extension.checker_msg = r.checkerMsg;
  extension.reported_by = [r.kmsg && "kmsg", r.uevent && "uevent", r.daemon && "multipathd"].filter(Boolean);
  const valid = r.validPaths ?? r.remaining;
  const left = valid !== undefined ? `, ${valid} valid path${valid === 1 ? "" : "s"} left` : "";
  const raw = r.records.join("\n");
  const base = { system: "multipath" as const, owners, time_us: r.timeUs, raw };
  const out: EventDraft[] = [
    r.action === "fail"
      ? { ...base, severity: "warn", event_type: "DM_MPATH_PATH_DOWN", dev_name: r.path, msg: `Multipath path ${r.path} failed${inMap}${left}.`, extension }
      : { ...base, severity: "info", event_type: "DM_MPATH_PATH_UP", dev_name: r.path, msg: `Multipath path ${r.path} reinstated${inMap}${left}.`, extension },
  ];
  if (r.action === "fail" && valid === 0) {
    const ext: Record<string, unknown> = { reason: "last path failed", path: r.path };
    if (r.map) ext.map = r.map;
    if (r.name ?? r.alias) ext.map_name = r.name ?? r.alias;
    if (r.uuid) ext.map_uuid = r.uuid;
    out.push({
      severity: "error", system: "multipath", event_type: "DM_MPATH_NO_PATHS", dev_name: r.mapDev ?? r.map ?? r.alias ?? "",
      dev_wwid: wwidOf(r.uuid) || undefined, time_us: r.timeUs, raw,
      msg: `Multipath map ${mapLabel ?? r.path} has no valid paths left: I/O is queued (queue_if_no_path) or failed.`, extension: ext,
    });
  }
  return out;
}

function raidEvent(r: RaidReport): EventDraft {
  const extension: Record<string, unknown> = { level: r.level ? `raid${r.level}` : "raid4/5/6", member: r.leg };
  if (r.remaining !== undefined) extension.remaining_devices = r.remaining;
  const tail = r.remaining !== undefined ? `, operation continuing on ${r.remaining} device${r.remaining === 1 ? "" : "s"}` : "";
  return {
    severity: r.remaining === 0 ? "error" : "warn", system: "dm", event_type: "DM_RAID_DEGRADED", dev_name: r.leg,
    msg: `dm-raid (${extension.level}) disabled failed leg ${r.leg}${tail}.`, extension, time_us: r.timeUs, raw: r.records.join("\n"),
  };
}

export class DmParser {
  readonly accepts = ["kmsg", "uevent", "journal"] as const;
  private paths = new Map<string, PathReport>();
  private raid: RaidReport | undefined;
  private seenUevents = new Set<string>(); // the same uevent from the kernel and from udev

  private mp: Multipathd<PathReport>;
  /** Lower bounds of the held halves' timeUs, [uevent, kmsg]: expireBefore() scans only when one can be due. */
  private floorUs = [Infinity, Infinity];
  private mpNames: Set<string>;

  constructor(private windowMs: number, private guard: GuardContext = NO_GUARD, multipathdNames: readonly string[] = ["multipathd"], private now: () => number = () => performance.now()) {
    this.mpNames = new Set(multipathdNames);
    this.mp = new Multipathd<PathReport>({
      held: (key) => this.paths.get(key),
      daemonOnly: (n: Note, emit) => {
        for (const d of pathEvents({ ...n, kmsg: false, uevent: false })) emit(d);
      },
    }, windowMs, (n) => guard.count(n), now);
  }

  parse(rec: RawRecord, emit: Emit): void {
    if (rec.kind === "kmsg") this.parseKmsg(rec, emit);
    else if (rec.kind === "uevent") this.parseUevent(rec, emit);
    else if (rec.kind === "journal" && this.mpNames.has(rec.daemon)) this.parseJournal(rec, emit);
  }

  private parseJournal(rec: JournalRecord, emit: Emit): void {
    this.mp.parse(rec, emit);
  }

  flush(emit: Emit, final: boolean): void {
    this.mp.flush(emit, final);
    const limit = this.now() - this.windowMs;
    // raid4/5/6 prints "Operation continuing" as a record of its own, right after the failure.
    if (final || (this.raid && this.raid.heldAtMs <= limit)) this.flushRaid(emit);
    for (const [key, r] of this.paths) {
      if (final || r.heldAtMs <= limit) {
        this.paths.delete(key);
        for (const d of pathEvents(r)) emit(d);
      }
    }
  }

  nextFlushIn(): number | undefined {
    let first = this.raid?.heldAtMs;
    for (const r of this.paths.values()) if (first === undefined || r.heldAtMs < first) first = r.heldAtMs;
    const own = first === undefined ? undefined : first + this.windowMs - this.now();
    const notes = this.mp.nextFlushIn(); // multipathd's lines waiting for the kernel's
    return own === undefined ? notes : notes === undefined ? own : Math.min(own, notes);
  }

  oldestHeld(_source: string): number | undefined {
    let min: number | undefined; // reports do not keep their sender: the oldest of any holds every cursor back
    for (const r of [...this.paths.values(), ...(this.raid ? [this.raid] : [])]) {
      const seq = r.records.map(kmsgSeq).find((s) => s !== undefined);
      if (seq !== undefined && (min === undefined || seq < min)) min = seq;
    }
    return min;
  }

  /**
   * Halves held longer than the window by the clock of their own kind of record cannot be
   * completed any more (kmsg and uevent clocks are compared only within a kind: they can disagree).
   */
  private expireBefore(kmsg: boolean, timeUs: number | undefined, emit: Emit): void {
    if (timeUs === undefined || this.paths.size === 0) return;
    const limit = timeUs - this.windowMs * 1000;
    const kind = kmsg ? 1 : 0;
    if (limit <= this.floorUs[kind]!) return; // runs on every record: no scan while none can be due
    this.floorUs[kind] = Infinity;
    for (const [key, r] of this.paths) {
      if (r.kmsg !== kmsg || r.timeUs === undefined) continue;
      if (r.timeUs < limit) {
        this.paths.delete(key);
        for (const d of pathEvents(r)) emit(d);
      } else if (r.timeUs < this.floorUs[kind]!) this.floorUs[kind] = r.timeUs;
    }
  }

  private flushRaid(emit: Emit): void {
    if (this.raid) emit(raidEvent(this.raid));
    this.raid = undefined;
  }

  private parseKmsg(rec: KmsgRecord, emit: Emit): void {
    const msg = kernelMsg(rec, this.guard);
    if (msg !== undefined) this.parseGuarded(rec, msg, emit);
    else (this.expireBefore(true, rec.time_us, emit), this.flushRaid(emit));
  }

  /** The pipeline guarded msg (kernelMsg); past mayBeDm the JIT compiles parseDm only for dm's messages. */
  parseGuarded(rec: KmsgRecord, msg: string, emit: Emit): void {
    this.expireBefore(true, rec.time_us, emit);
    return mayBeDm(msg) ? this.parseDm(rec, msg, emit) : this.flushRaid(emit);
  }

  private parseDm(rec: KmsgRecord, msg: string, emit: Emit): void {
    let continued = false;
    for (const line of recordLines(msg)) {
      const m = dmTable.match(line);
      if (!m) continue;
      if (invalidText(line, this.guard)) continue;
      const g = m.groups;
      switch (m.id) {
        case "mpath_fail":
        case "mpath_reinstate":
          this.flushRaid(emit);
          this.half(
            { action: m.id === "mpath_fail" ? "fail" : "reinstate", path: g.path!, map: g.map, mapDev: mapDevOf(g.map),
              kmsg: true, uevent: false, timeUs: rec.time_us, records: [rec.raw], heldAtMs: this.now() },
            emit,
          );
          break;
        case "mpath_nopath_timeout":
          this.flushRaid(emit);
          emit({
            severity: "error", system: "multipath", event_type: "DM_MPATH_NO_PATHS", dev_name: mapDevOf(g.map) ?? g.map!,
            msg: `Multipath map ${mapDevOf(g.map)} had no usable path for the queue_if_no_path timeout: queued I/O is failed.`,
            extension: { map: g.map, reason: "queue_if_no_path timeout", io: "failing" }, time_us: rec.time_us, raw: rec.raw,
          });
          break;
        case "mpath_remaining": {
          this.flushRaid(emit);
          const n = decNum(g.n)!;
          if (n !== 0) break; // informational while paths remain; the path events carry the count
          emit({
            severity: "error", system: "multipath", event_type: "DM_MPATH_NO_PATHS", dev_name: g.alias!,
            msg: `Multipath map ${g.alias} has no active paths left (multipathd).`,
            extension: { map_name: g.alias, reason: "no active paths", valid_paths: 0 }, time_us: rec.time_us, raw: rec.raw,
          });
          break;
        }
        case "table_error": {
          this.flushRaid(emit);
          const ext: Record<string, unknown> = { map: g.map, target: g.target, error: g.error };
          if (g.errno) ext.errno = g.errno;
          emit({
            severity: "error", system: "dm", event_type: "DM_TABLE_ERROR", dev_name: mapDevOf(g.map)!,
            msg: `Device-mapper table load for ${mapDevOf(g.map)} failed: ${g.target}: ${g.error}${g.errno ? ` (${g.errno})` : ""}.`,
            extension: ext, time_us: rec.time_us, raw: rec.raw,
          });
          break;
        }
        case "thin_mode":
          this.flushRaid(emit);
          emit(thinModeEvent(g, rec));
          break;
        case "thin_low_water":
          this.flushRaid(emit);
          emit({
            severity: "warn", system: "dm", event_type: "DM_THIN_POOL_LOW_WATER", dev_name: mapDevOf(g.map) ?? "",
            msg: `Thin pool ${mapDevOf(g.map) ?? ""} reached its low water mark for data space.`.replace("  ", " "),
            extension: g.map ? { map: g.map } : {}, time_us: rec.time_us, raw: rec.raw,
          });
          break;
        case "raid_disk_failure":
          this.flushRaid(emit);
          this.raid = { heldAtMs: this.now(), level: g.level ?? "", leg: g.leg!, timeUs: rec.time_us, records: [rec.raw] };
          continued = true;
          break;
        case "raid_active": {
          this.flushRaid(emit);
          const active = decNum(g.active)!;
          const total = decNum(g.total)!;
          if (active >= total) break; // a healthy start is not an event
          const level = g.level5 ? `raid${g.level5}` : `raid${g.level}`;
          emit({
            severity: active === 0 ? "error" : "warn", system: "dm", event_type: "DM_RAID_DEGRADED", dev_name: "",
            msg: `dm-raid (${level}) array started degraded: ${active} of ${total} legs active.`,
            extension: { level, active_devices: active, raid_devices: total }, time_us: rec.time_us, raw: rec.raw,
          });
          break;
        }
        case "raid_sb_read":
          this.flushRaid(emit);
          emit({
            severity: "warn", system: "dm", event_type: "DM_RAID_DEGRADED", dev_name: "",
            msg: `dm-raid could not read the superblock of the leg at position ${g.pos}; the leg is marked faulty.`,
            extension: { position: decNum(g.pos) }, time_us: rec.time_us, raw: rec.raw,
          });
          break;
        case "raid_continuing":
          if (this.raid) {
            this.raid.remaining = decNum(g.n);
            if (this.raid.records.at(-1) !== rec.raw) this.raid.records.push(rec.raw);
            this.flushRaid(emit);
          }
          continued = true;
          break;
      }
    }
    if (!continued) this.flushRaid(emit);
  }

  private parseUevent(rec: UeventRecord, emit: Emit): void {
    this.expireBefore(false, rec.time_us, emit);
    const p = rec.props;
    const action = p.DM_ACTION === "PATH_FAILED" ? "fail" : p.DM_ACTION === "PATH_REINSTATED" ? "reinstate" : undefined;
    if (!action || !p.DM_PATH) return;
    if (p.DM_TARGET !== undefined && p.DM_TARGET !== "multipath") return;
    this.flushRaid(emit);
    const map = p.MAJOR && p.MINOR ? `${p.MAJOR}:${p.MINOR}` : undefined;
    if (p.DM_SEQNUM !== undefined) {
      // dm numbers its uevents per map: a second copy (kernel netlink group and udev group) is the same event.
      const id = `${map ?? rec.devpath}|${p.DM_SEQNUM}|${p.DM_ACTION}|${p.DM_PATH}`;
      if (this.seenUevents.has(id)) return this.guard.count("duplicate_uevents");
      this.seenUevents.add(id);
      if (this.seenUevents.size > MAX_HELD) this.seenUevents.delete(this.seenUevents.values().next().value as string);
    }
    const devname = p.DEVNAME ?? rec.devpath.split("/").pop();
    this.half(
      { action, path: p.DM_PATH, map, mapDev: devname || mapDevOf(map), name: p.DM_NAME || undefined, uuid: p.DM_UUID || undefined,
        validPaths: decNum(p.DM_NR_VALID_PATHS), seqnum: decNum(p.DM_SEQNUM), kmsg: false, uevent: true,
        timeUs: rec.time_us, records: [rec.raw], heldAtMs: this.now() },
      emit,
    );
  }

  /** Completes a held opposite half of the same report, or holds this one. */
  private half(r: PathReport, emit: Emit): void {
    const key = `${r.action}|${r.path}`;
    this.mp.absorb(key, r);
    const held = this.paths.get(key);
    const near = held?.timeUs === undefined || r.timeUs === undefined ||
      Math.abs(held.timeUs - r.timeUs) <= (this.windowMs + CLOCK_SKEW_MS) * 1000;
    if (held && held.kmsg !== r.kmsg && near && (!held.map || !r.map || held.map === r.map)) {
      this.paths.delete(key);
      const k = held.kmsg ? held : r;
      const u = held.uevent ? held : r;
      this.guard.count("merged");
      const daemon: DaemonFields = { daemon: held.daemon || r.daemon, remaining: held.remaining ?? r.remaining,
        alias: held.alias ?? r.alias, checker: held.checker ?? r.checker, checkerMsg: held.checkerMsg ?? r.checkerMsg };
      for (const d of pathEvents({ ...u, ...daemon, map: u.map ?? k.map, mapDev: u.mapDev ?? k.mapDev, kmsg: true, uevent: true,
        timeUs: held.timeUs ?? r.timeUs, records: [...held.records, ...r.records] })) emit(d);
      return;
    }
    if (held) {
      this.paths.delete(key);
      for (const d of pathEvents(held)) emit(d);
    }
    this.paths.set(key, r);
    const kind = r.kmsg ? 1 : 0;
    if (r.timeUs !== undefined && r.timeUs < this.floorUs[kind]!) this.floorUs[kind] = r.timeUs;
    if (this.paths.size > MAX_HELD) {
      const [oldest, o] = this.paths.entries().next().value as [string, PathReport];
      this.paths.delete(oldest);
      for (const d of pathEvents(o)) emit(d);
    }
  }
}

function thinModeEvent(g: Record<string, string | undefined>, rec: KmsgRecord): EventDraft {
  const dev = mapDevOf(g.map) ?? "";
  const pool = dev ? `Thin pool ${dev}` : "Thin pool";
  const ext: Record<string, unknown> = { mode: g.mode };
  if (g.map) ext.map = g.map;
  const base = { system: "dm" as const, dev_name: dev, time_us: rec.time_us, raw: rec.raw };
  if (g.mode === "out-of-data-space") {
    ext.io = g.io === "error" ? "error" : "queue";
    return {
      ...base, severity: "error", event_type: "DM_THIN_POOL_FULL", extension: ext,
      msg: `${pool} is out of data space: writes to unprovisioned blocks are ${g.io === "error" ? "failed" : "queued"}.`,
    };
  }
  return {
    ...base, severity: g.mode === "write" ? "info" : "error", event_type: "DM_THIN_POOL_MODE_CHANGED", extension: ext,
    msg: `${pool} switched to ${g.mode} mode.`,
  };
}

export default definePlugin({
  kind: "parser",
  name: "dm",
  emits: EVENTS,
  description: "Device-mapper and multipath kernel messages and dm path uevents: path down/up, no usable paths, table errors, thin pool full, dm-raid degraded.",
  schema,
  sample,
  create(config, ctx) {
    return new DmParser(config.merge_window ?? ctx.holdMaxMs, ctx, config.multipathd_daemons, ctx.clock);
  },
});
