// A cheap structural check of an event that arrived from another host (the full valibot schema
// costs more than the rest of the ingest path at tens of thousands of events per second).
import type { StorageEvent } from "../../../src/plugin-api.ts";

const SEVERITIES = new Set(["info", "warn", "error"]);
const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

export function isRemoteEvent(e: unknown): e is StorageEvent {
  if (typeof e !== "object" || e === null) return false;
  const x = e as Record<string, unknown>;
  return typeof x.event_id === "string" && x.event_id.length > 0 && typeof x.hostname === "string" && x.hostname.length > 0
    && typeof x.time === "string" && TIME_RE.test(x.time) && SEVERITIES.has(x.severity as string)
    && typeof x.system === "string" && typeof x.event_type === "string" && typeof x.msg === "string"
    && typeof x.dev_name === "string" && Array.isArray(x.owners) && typeof x.extension === "object" && x.extension !== null;
}
