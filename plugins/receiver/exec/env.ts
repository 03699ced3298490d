// An event as environment variables for a command (STOREVENTD_*). Values are data only: they go
// into the child's environment, never into a shell string. Pure.
import type { StorageEvent } from "../../../src/plugin-api.ts";

/** One env value at most this many bytes (the kernel's per-string limit is 128 KiB). */
export const ENV_VALUE_MAX = 32 * 1024;

function clean(s: string): string {
  // NUL cannot be in an environment string; a cut value keeps whole characters.
  const t = s.includes("\0") ? s.replaceAll("\0", "\uFFFD") : s;
  if (Buffer.byteLength(t) <= ENV_VALUE_MAX) return t;
  return Buffer.from(t).subarray(0, ENV_VALUE_MAX).toString("utf8").replace(/\uFFFD$/, "");
}

export function envKey(raw: string): string {
  const k = raw.toUpperCase().replace(/[^A-Z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  return k || "X";
}

export function eventEnv(e: StorageEvent): Record<string, string> {
  const env: Record<string, string> = {
    STOREVENTD_EVENT_ID: e.event_id,
    STOREVENTD_TIME: e.time,
    STOREVENTD_HOSTNAME: e.hostname,
    STOREVENTD_SEVERITY: e.severity,
    STOREVENTD_SYSTEM: e.system,
    STOREVENTD_EVENT_TYPE: e.event_type,
    STOREVENTD_DEV_NAME: e.dev_name,
    STOREVENTD_DEV_PATH: e.dev_path,
    STOREVENTD_DEV_WWID: e.dev_wwid,
    STOREVENTD_OWNERS: e.owners.map((o) => o.dev_name).join(" "),
    STOREVENTD_OWNERS_JSON: JSON.stringify(e.owners),
    STOREVENTD_MSG: e.msg,
    STOREVENTD_SOURCE: e.source,
    STOREVENTD_RAW: e.raw,
  };
  for (const [k, x] of Object.entries(e.extension ?? {})) {
    env[`STOREVENTD_EXT_${envKey(k)}`] = typeof x === "string" ? x : JSON.stringify(x) ?? "";
  }
  for (const k of Object.keys(env)) env[k] = clean(env[k]!);
  return env;
}

const RANK = { info: 0, warn: 1, error: 2 } as const;

/** A batch: the count, the highest severity, the distinct types, systems and devices. */
export function batchEnv(events: readonly StorageEvent[]): Record<string, string> {
  const uniq = (f: (e: StorageEvent) => string) => [...new Set(events.map(f).filter(Boolean))].join(" ");
  let sev: StorageEvent["severity"] = "info";
  for (const e of events) if (RANK[e.severity] > RANK[sev]) sev = e.severity;
  return {
    STOREVENTD_COUNT: String(events.length),
    STOREVENTD_SEVERITY: sev,
    STOREVENTD_EVENT_TYPES: clean(uniq((e) => e.event_type)),
    STOREVENTD_SYSTEMS: clean(uniq((e) => e.system)),
    STOREVENTD_DEV_NAMES: clean(uniq((e) => e.dev_name)),
  };
}
