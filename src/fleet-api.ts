// What a fleet node (a daemon with the nats sender, consuming other hosts' events) offers the control
// API and the web console under Services key FLEET_SERVICE. The core serves it read-only at
// GET /v1/fleet/hosts and GET /v1/fleet/drbd; `status --fleet` prints it.
import type { Severity } from "./event.ts";
import { serviceKey } from "./plugin-api.ts";

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
}

export interface FleetService {
  hosts(): FleetHost[];
  drbd(): FleetResource[];
}
