// What a fleet node (a daemon with the nats sender, consuming other hosts' events) offers the control
// API and the web console under Services key FLEET_SERVICE. The core serves it read-only at
// GET /v1/fleet/hosts and GET /v1/fleet/drbd; `status --fleet` prints it.
import type { Severity } from "./event.ts";
import { serviceKey } from "./plugin-api.ts";
import type { DaemonStatus } from "./daemon-api.ts";

export const FLEET_SERVICE = serviceKey<FleetService>("fleet");

export interface FleetHost {
  hostname: string;
  /** alive: a heartbeat within 3 intervals; silent: HOST_SILENT was emitted. */
  state: "alive" | "silent";
  /** RFC 3339: the last heartbeat or event from the host. */
  last_seen: string;
  version?: string;
  uptime_s?: number;
  /** Events the host's receivers dropped (its status summary). */
  drops?: number;
  /** Events received from the host in the last hour, by severity. */
  events_1h: Record<Severity, number>;
  /** msg of the host's newest error event. */
  last_error?: string;
}

/** One DRBD resource as one host reports it (drbdsetup status --json shape). */
export interface FleetResource {
  host: string;
  resource: { name: string; role: string; [k: string]: unknown };
  /** The host is silent: this is its last report. */
  stale?: boolean;
}

export interface FleetService {
  hosts(): FleetHost[];
  drbd(): FleetResource[];
}

/** Services key of `() => DaemonStatus` (src/daemon-api.ts): the nats receiver's heartbeat reads it. */
export const DAEMON_STATUS_SERVICE = serviceKey<() => DaemonStatus>("daemon.status");

/** What the nats receiver publishes every `heartbeat` to <subject_prefix>_heartbeat.<host> (core
 * NATS: a heartbeat is only worth something live, so it stays out of the event stream). */
export interface Heartbeat {
  hostname: string;
  /** RFC 3339, the publisher's clock. */
  time: string;
  /** The publisher's heartbeat interval; the fleet node calls a host silent after 3 of them. */
  interval_s: number;
  version: string;
  uptime_s: number;
  senders: { name: string; plugin: string; counters: Record<string, number> }[];
  /** Events the host's receivers dropped since it started. */
  drops: number;
  /** `drbdsetup status --json` shape. */
  drbd: { name: string; role: string; [k: string]: unknown }[];
  /** Resources a [[promoter]] manages here, with what it is doing. */
  promoter: { resource: string; [k: string]: unknown }[];
}

export function heartbeatSubject(prefix: string, hostToken: string): string {
  return `${prefix}_heartbeat.${hostToken}`;
}
