// The event types the promoter emits (docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

const FIELDS = {
  resource: "the DRBD resource",
  node: "this node's name",
  state: "the promoter's state for the resource (idle, sleeping, starting, active, stopping, frozen, failed)",
  reason: "why it acted",
  delay_ms: "how long it waits before starting",
  sleep: "the terms of that wait (drbd-reactor's sleep before promote)",
  favoured: "true when an evict named this node",
  thawed: "true when the services were thawed, not started",
  action: "start, stop, freeze, thaw, adopt or check",
  error: "what failed",
};

const BASE = ["resource", "node", "state", "reason"];

export const EVENTS = eventTypes(FIELDS, [
  { type: "DRBD_PROMOTER_STARTING", system: "drbd", severity: ["info"], doc: "the resource may be promoted here: starting its services after the sleep", keys: [...BASE, "delay_ms", "sleep", "favoured"] },
  { type: "DRBD_PROMOTER_STARTED", system: "drbd", severity: ["info"], doc: "the services run here (started, adopted or thawed)", keys: [...BASE, "thawed"] },
  { type: "DRBD_PROMOTER_STOPPED", system: "drbd", severity: ["info"], doc: "the services were stopped here", keys: BASE },
  { type: "DRBD_PROMOTER_FROZEN", system: "drbd", severity: ["warn"], doc: "the services were frozen (quorum lost with on-quorum-loss = freeze)", keys: BASE },
  { type: "DRBD_PROMOTER_FAILED", system: "drbd", severity: ["error"], doc: "starting, stopping or checking the services failed", keys: [...BASE, "action", "error"] },
]);
