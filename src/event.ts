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

// The v.description() on each field is its documentation (docs/events.md is generated from it).
const doc = <T extends v.GenericSchema>(schema: T, text: string) => v.pipe(schema, v.description(text));

export const EventSchema = v.object({
  event_id: doc(v.pipe(v.string(), v.uuid()), "UUID, unique per event"),
  time: doc(v.pipe(v.string(), v.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/)),
    "RFC 3339 with microseconds, UTC: when it happened (for kmsg the kernel timestamp mapped to wall clock)"),
  hostname: doc(v.string(), "[main] hostname, default the host name"),
  severity: doc(v.picklist(SEVERITIES), "one policy for every parser: error = I/O failed or data at risk now; warn = failed but retried or recovered, or redundancy reduced; info = state notices"),
  system: doc(v.picklist(SYSTEMS), "the subsystem"),
  event_type: doc(v.pipe(v.string(), v.regex(/^[A-Z][A-Z0-9_]*$/)), "UPPER_SNAKE, from the catalog below"),
  dev_name: doc(v.string(), "kernel name (sdb, dm-3, md0, nvme0n1, drbd1000; a SCSI device without a block device: H:C:T:L), or empty"),
  dev_path: doc(v.string(), "/dev/... path where it exists, else empty"),
  dev_wwid: doc(v.string(), "stable id (WWID, WWN, serial, UUID) where one can be found, else empty"),
  owners: doc(v.array(Owner), "devices stacked above (e.g. the multipath map of a failed path), each {dev_name, dev_wwid}"),
  msg: doc(v.string(), "one readable sentence"),
  source: doc(v.string(), "the sender instance it came from (kmsg, udev, drbd, ...), or storeventd for the daemon's own"),
  raw: doc(v.string(), "the original record(s) as received, several joined by newlines"),
  extension: doc(v.record(v.string(), v.unknown()), "subsystem fields: see each type's extension keys below"),
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

let lastSec = NaN;
let lastSecText = "";

/** RFC 3339 with microseconds, UTC. */
export function formatTime(us: number): string {
  const sec = Math.floor(us / 1_000_000);
  // Events come in bursts within a second: its "YYYY-MM-DDTHH:MM:SS" is made once.
  if (sec !== lastSec) {
    lastSec = sec;
    lastSecText = new Date(Math.floor(us / 1000)).toISOString().slice(0, 19); // 2026-11-26T00:30:36
  }
  const n = Math.floor(us) % 1_000_000;
  // Zero-padded to 6 digits by one addition (a negative remainder keeps the general form).
  const micro = n >= 0 ? String(1_000_000 + n).slice(1) : String(n).padStart(6, "0");
  return `${lastSecText}.${micro}Z`;
}

// The wall clock in microseconds. performance.timeOrigin + performance.now() has the resolution but
// runs on the monotonic clock, so it misses every step of the wall clock (chrony's makestep at boot,
// an admin's `date -s`) for the rest of the process; Date.now() follows steps in whole milliseconds.
// The estimate is kept inside Date.now()'s millisecond: nudged by the least amount when it drifts
// out (which also refines it), and set to the middle of that millisecond when the wall clock stepped.
let wallBaseMs = performance.timeOrigin;

export function nowUs(): number {
  const perf = performance.now();
  const ms = Date.now();
  const est = wallBaseMs + perf;
  if (est < ms - 2 || est >= ms + 3) wallBaseMs = ms + 0.5 - perf;
  else if (est < ms) wallBaseMs += ms - est;
  else if (est >= ms + 1) wallBaseMs -= est - (ms + 0.999);
  return Math.floor((wallBaseMs + perf) * 1000);
}

export function parseTime(time: string): number {
  const m = /\.(\d{1,6})/.exec(time);
  const base = Date.parse(time.replace(/\.\d+/, ""));
  return base * 1000 + (m ? Number(m[1]!.padEnd(6, "0")) : 0);
}
