// The storage event (SPEC §2): one JSON object, also the journald fields and the store's row.
import * as v from "valibot";

export const SEVERITIES = ["info", "warn", "error"] as const;
export type Severity = (typeof SEVERITIES)[number];

// "daemon" is ours: the SPEC lists no system for DAEMON_STARTED, KMSG_OVERRUN, RECEIVER_DROPPED.
export const SYSTEMS = [
  "scsi", "block", "nvme", "ata", "multipath", "dm", "lvm", "mdraid", "fs", "drbd", "iscsi", "smart", "daemon",
] as const;
export type System = (typeof SYSTEMS)[number];

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warn: 1, error: 2 };

const Owner = v.object({ dev_name: v.string(), dev_wwid: v.string() });
export type Owner = v.InferOutput<typeof Owner>;

export const EventSchema = v.object({
  event_id: v.pipe(v.string(), v.uuid()),
  time: v.pipe(v.string(), v.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/)),
  hostname: v.string(),
  severity: v.picklist(SEVERITIES),
  system: v.picklist(SYSTEMS),
  event_type: v.pipe(v.string(), v.regex(/^[A-Z][A-Z0-9_]*$/)),
  dev_name: v.string(),
  dev_path: v.string(),
  dev_wwid: v.string(),
  owners: v.array(Owner),
  msg: v.string(),
  source: v.string(),
  raw: v.string(),
  extension: v.record(v.string(), v.unknown()),
});
export type StorageEvent = v.InferOutput<typeof EventSchema>;

// What a parser or sender fills in; the core adds id, hostname, time, identity and source.
export interface EventDraft {
  severity: Severity;
  system: System;
  event_type: string;
  msg: string;
  dev_name?: string;
  dev_path?: string;
  dev_wwid?: string;
  owners?: Owner[];
  extension?: Record<string, unknown>;
  /** Wall-clock time in microseconds since the epoch; default: now. */
  time_us?: number;
  raw?: string;
  source?: string;
}

/** RFC 3339 with microseconds, UTC. */
export function formatTime(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // 2026-11-26T00:30:36.123Z
  const micro = String(Math.floor(us) % 1_000_000).padStart(6, "0");
  return `${iso.slice(0, 19)}.${micro}Z`;
}

export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export function parseTime(time: string): number {
  const m = /\.(\d{1,6})/.exec(time);
  const base = Date.parse(time.replace(/\.\d+/, ""));
  return base * 1000 + (m ? Number(m[1]!.padEnd(6, "0")) : 0);
}
