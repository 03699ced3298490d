// multipathd's journal lines (multipath-tools multipathd/main.c, libmultipath/structs_vec.c; the same
// text in 0.8.7 (RHEL 9), 0.9.4 (Debian 12) and 0.11+): path failed/reinstated join the kernel's
// report of the same path (dm-mpath "Failing path 8:16." / PATH_FAILED uevent) as one event carrying
// extension.remaining_paths; map added/removed and queueing changes are events of their own.
import type { EventDraft, JournalRecord } from "../../../src/plugin-api.ts";
import { decNum } from "../../../src/plugin-kit/kernel.ts";

type Emit = (d: EventDraft) => void;
type PathAction = "fail" | "reinstate";

export interface MpLinePattern { id: string; re: RegExp; source: string }

/** Each pattern beside the format it follows (file, function, versions). */
export const MULTIPATHD_PATTERNS: readonly MpLinePattern[] = [
  { id: "fail", re: /^checker failed path (?<path>\d{1,4}:\d{1,7}) in map (?<alias>\S{1,128})$/,
    source: 'multipathd/main.c fail_path(): condlog(2, "checker failed path %s in map %s", pp->dev_t, pp->mpp->alias)' },
  { id: "reinstate", re: /^(?<path>\d{1,4}:\d{1,7}): reinstated$/,
    source: 'multipathd/main.c reinstate_path(): condlog(2, "%s: reinstated", pp->dev_t)' },
  { id: "remaining", re: /^(?<alias>\S{1,128}): remaining active paths: (?<n>\d{1,5})$/,
    source: 'libmultipath/structs_vec.c update_queue_mode_{del,add}_path(): condlog(2, "%s: remaining active paths: %d", mpp->alias, active)' },
  { id: "checker", re: /^(?<alias>\S{1,128}): (?<dev>\S{1,64}) - (?:(?<checker>\S{1,32}) checker(?<msg> .{1,200})|(?<offline>path offline))$/,
    source: 'multipathd/main.c LOG_MSG(): "%s: %s - %s checker%s" (checker_message: " reports path is down", ...) / "%s: %s - path offline"' },
  { id: "map_added", re: /^(?<alias>\S{1,128}): devmap (?<dev>\S{1,64}) registered$/,
    source: 'multipathd/main.c ev_add_map(): condlog(2, "%s: devmap %s registered", alias, dev)' },
  { id: "map_removed", re: /^(?<alias>[^\s:]{1,128}):? (?:devmap removed|map flushed(?: after removing all paths)?)$/,
    source: 'multipathd/main.c: condlog(2, "%s devmap removed", ompp->alias) (0.8.7, 0.9.4); condlog(2, "%s: map flushed", mpp->alias)' },
  { id: "recovery", re: /^(?<alias>\S{1,128}): Entering recovery mode: max_retries=(?<n>\d{1,6})$/,
    source: 'libmultipath/structs_vec.c enter_recovery_mode(): condlog(1, "%s: Entering recovery mode: max_retries=%d", ...)' },
  { id: "queue_off", re: /^(?<alias>\S{1,128}): Disable queueing$/,
    source: 'multipathd/main.c retry_count_tick(): condlog(2, "%s: Disable queueing", mpp->alias)' },
  { id: "queue_on", re: /^(?<alias>\S{1,128}): queue_if_no_path enabled$/,
    source: 'libmultipath/structs_vec.c leave_recovery_mode(): condlog(2, "%s: queue_if_no_path enabled", mpp->alias)' },
];

export function matchMultipathd(msg: string): { id: string; g: Record<string, string | undefined> } | undefined {
  for (const p of MULTIPATHD_PATTERNS) {
    const m = p.re.exec(msg);
    if (m) return { id: p.id, g: m.groups ?? {} };
  }
  return undefined;
}

/** What multipathd adds to a path report. */
export interface DaemonFields {
  daemon?: boolean;
  remaining?: number;
  alias?: string;
  checker?: string;
  checkerMsg?: string;
}

/** The dm parser's side this needs: its held path reports and how it turns one into events. */
export interface PathHost<R extends DaemonFields & { records: string[] }> {
  held(key: string): R | undefined;
  /** A multipathd-only report: the kernel did not tell it within the window. */
  daemonOnly(n: Note, emit: Emit): void;
}

export interface Note extends DaemonFields {
  action: PathAction;
  path: string;
  records: string[];
  timeUs?: number;
  heldAtMs: number;
}

const MAX = 1024;
/** A multipathd line this soon after the kernel's (already delivered) report of its path is the same failure. */
const LATE_JOIN_MS = 5000;

export class Multipathd<R extends DaemonFields & { records: string[] }> {
  private notes = new Map<string, Note>();
  private lastByAlias = new Map<string, string>();
  /** The last failure/reinstatement: "remaining active paths" follows it at once. */
  private last: { key: string; alias?: string } | undefined;
  private checkers = new Map<string, { checker: string; msg: string }>();
  /** key -> when the kernel last reported it, and its valid path count. */
  private kernelSeen = new Map<string, { atMs: number; validPaths?: number }>();

  constructor(private host: PathHost<R>, private windowMs: number, private count: (n: string) => void, private now: () => number = () => performance.now()) {}

  /** A kernel half is being held or emitted: take multipathd's note of the same path into it. */
  absorb(key: string, r: R & { validPaths?: number }): void {
    bounded(this.kernelSeen, key, { atMs: this.now(), validPaths: r.validPaths });
    const n = this.notes.get(key);
    if (!n) return;
    this.notes.delete(key);
    merge(r, n);
    this.count("multipathd_joined");
  }

  parse(rec: JournalRecord, emit: Emit): void {
    const m = matchMultipathd(rec.msg);
    if (!m) return;
    const { id, g } = m;
    const base = { system: "multipath" as const, time_us: rec.time_us, raw: rec.raw };
    switch (id) {
      case "checker":
        bounded(this.checkers, g.alias!, { checker: g.checker ?? "", msg: g.offline ?? g.msg!.trim() });
        return;
      case "fail":
      case "reinstate": {
        const action: PathAction = id === "fail" ? "fail" : "reinstate";
        const key = `${action}|${g.path}`;
        const info: DaemonFields & { records: string[] } = { daemon: true, records: [rec.raw] };
        if (g.alias) {
          info.alias = g.alias;
          bounded(this.lastByAlias, g.alias, key);
          this.last = { key, alias: g.alias };
          const c = this.checkers.get(g.alias);
          if (c && action === "fail") [info.checker, info.checkerMsg] = [c.checker, c.msg];
        } else {
          this.last = { key }; // "8:16: reinstated" names no map: the remaining line that follows does
        }
        const held = this.host.held(key);
        if (held) return void (merge(held, info), this.count("multipathd_joined"));
        if (this.recentKernel(key)) return this.count("multipathd_joined_late");
        bounded(this.notes, key, { ...info, action, path: g.path!, timeUs: rec.time_us, heldAtMs: this.now() });
        return;
      }
      case "remaining": {
        const n = decNum(g.n)!;
        const last = this.last;
        this.last = undefined;
        const key = last && (last.alias === undefined || last.alias === g.alias) ? last.key : this.lastByAlias.get(g.alias!);
        const target = key ? this.host.held(key) ?? this.notes.get(key) : undefined;
        if (target) {
          target.remaining = n;
          target.alias ??= g.alias;
          target.records.push(rec.raw);
          return;
        }
        const seen = key ? this.recentKernel(key) : undefined;
        if (n !== 0 || seen?.validPaths === 0) return this.count("multipathd_joined_late");
        emit({
          ...base, severity: "error", event_type: "DM_MPATH_NO_PATHS", dev_name: g.alias!,
          msg: `Multipath map ${g.alias} has no active paths left (multipathd).`,
          extension: { map_name: g.alias, reason: "no active paths", remaining_paths: 0, reported_by: ["multipathd"] },
        });
        return;
      }
      case "map_added":
        emit({ ...base, severity: "info", event_type: "DM_MPATH_MAP_ADDED", dev_name: g.dev!, msg: `Multipath map ${g.alias} (${g.dev}) was added.`, extension: { map_name: g.alias } });
        return;
      case "map_removed":
        emit({ ...base, severity: "info", event_type: "DM_MPATH_MAP_REMOVED", dev_name: g.alias!, msg: `Multipath map ${g.alias} was removed.`, extension: { map_name: g.alias } });
        return;
      case "recovery":
        emit({
          ...base, severity: "warn", event_type: "DM_MPATH_QUEUEING", dev_name: g.alias!,
          msg: `Multipath map ${g.alias} has no paths: I/O is queued for ${g.n} more path checks (no_path_retry).`,
          extension: { map_name: g.alias, queueing: "retrying", max_retries: decNum(g.n) },
        });
        return;
      case "queue_off":
        emit({
          ...base, severity: "error", event_type: "DM_MPATH_QUEUEING", dev_name: g.alias!,
          msg: `Multipath map ${g.alias} stopped queueing: I/O without a path now fails.`, extension: { map_name: g.alias, queueing: "off" },
        });
        return;
      case "queue_on":
        emit({
          ...base, severity: "info", event_type: "DM_MPATH_QUEUEING", dev_name: g.alias!,
          msg: `Multipath map ${g.alias} queues I/O again (queue_if_no_path).`, extension: { map_name: g.alias, queueing: "on" },
        });
        return;
    }
  }

  /** Milliseconds until the oldest note's window closes (the pipeline's hold timer), if any. */
  nextFlushIn(): number | undefined {
    let first: number | undefined;
    for (const n of this.notes.values()) if (first === undefined || n.heldAtMs < first) first = n.heldAtMs;
    return first === undefined ? undefined : first + this.windowMs - this.now();
  }

  /** Notes the kernel did not match within the window go out on their own. */
  flush(emit: Emit, final: boolean): void {
    const limit = this.now() - this.windowMs;
    for (const [key, n] of this.notes) {
      if (!final && n.heldAtMs > limit) continue;
      this.notes.delete(key);
      this.host.daemonOnly(n, emit);
    }
  }

  private recentKernel(key: string): { atMs: number; validPaths?: number } | undefined {
    const s = this.kernelSeen.get(key);
    return s && this.now() - s.atMs <= Math.max(this.windowMs * 4, LATE_JOIN_MS) ? s : undefined;
  }
}

function merge(into: DaemonFields & { records: string[] }, from: DaemonFields & { records: string[] }): void {
  into.daemon = true;
  if (from.remaining !== undefined) into.remaining = from.remaining;
  into.alias ??= from.alias;
  into.checker ??= from.checker;
  into.checkerMsg ??= from.checkerMsg;
  into.records.push(...from.records);
}

function bounded<K, V>(m: Map<K, V>, k: K, v: V): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > MAX) m.delete(m.keys().next().value as K);
}
