// The event types this sender emits as a fleet node (docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  host: "the host it is about",
  last_seen: "when the host was last heard, RFC 3339",
  interval_s: "the host's heartbeat interval, seconds",
  resource: "the DRBD resource",
  hosts: "the hosts involved (Primary ones, or the live ones that have the resource)",
  since: "since when no live host has been Primary, RFC 3339",
  fleet_node: "the fleet node that raised it",
};

export const EVENTS = eventTypes(FIELDS, [
  { type: "HOST_SILENT", system: "daemon", severity: ["error"], doc: "a host missed 3 heartbeats (the event's hostname is that host)", keys: ["host", "last_seen", "interval_s", "fleet_node"] },
  { type: "HOST_BACK", system: "daemon", severity: ["info"], doc: "a silent host is heard again", keys: ["host", "fleet_node"] },
  { type: "DRBD_MULTIPLE_PRIMARY", system: "drbd", severity: ["error"], doc: "two or more live hosts report one resource Primary at once", keys: ["resource", "hosts", "fleet_node"] },
  { type: "DRBD_NO_PRIMARY", system: "drbd", severity: ["error"], doc: "a promoter-managed resource has had no Primary on any live host for the sender's no_primary_after (default 60 s)", keys: ["resource", "since", "hosts", "fleet_node"] },
]);
