// The read-only routes of the control API, served by the control socket and the TCP listener alike:
//   GET /v1/status, /v1/events (store query, or follow=1 NDJSON), /v1/devices[/{name}],
//   /v1/drbd/resources, and on a fleet node /v1/fleet/hosts and /v1/fleet/drbd.
import { existsSync, readdirSync } from "node:fs";
import type { DaemonHandle } from "../daemon-api.ts";
import { SEVERITIES, nowUs, type Severity } from "../event.ts";
import { INVENTORY_SERVICE } from "../devices/index.ts";
import { STORE_SERVICE, type EventFilter, type EventQuery, type EventStoreService } from "../store-api.ts";
import type { FollowHub } from "./follow.ts";
import { HttpError, json, onlyRead } from "./http.ts";
import { parseTimeSpec } from "./timespec.ts";
import { FLEET_SERVICE, type FleetService } from "../fleet-api.ts";

export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 100_000;

const LIST_KEYS = { system: "system", type: "event_type", dev: "dev_name", host: "hostname" } as const;
const EVENT_PARAMS = new Set(["since", "until", "system", "severity", "type", "dev", "host", "q", "limit", "order", "follow"]);

/** Parses the /v1/events query string; throws HttpError(400) on any bad or unknown parameter. */
export function parseEventParams(params: URLSearchParams, now: number): { query: EventQuery; follow: boolean } {
  for (const k of params.keys()) {
    if (!EVENT_PARAMS.has(k)) throw new HttpError(400, "bad_request", `unknown parameter "${k}" (known: ${[...EVENT_PARAMS].join(", ")})`);
  }
  const query: EventQuery = {};
  for (const [param, field] of Object.entries(LIST_KEYS)) {
    const values = params.getAll(param).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
    if (values.length) query[field] = param === "dev" ? values.map((d) => d.replace(/^\/dev\//, "")) : values;
  }
  const text = params.get("q");
  if (text !== null && text !== "") {
    if (text.length > 256) throw new HttpError(400, "bad_request", "q: at most 256 characters");
    query.text = text;
  }
  const sev = params.get("severity");
  if (sev !== null) {
    if (!SEVERITIES.includes(sev as Severity)) throw new HttpError(400, "bad_request", `severity must be one of ${SEVERITIES.join(", ")}, not "${sev}"`);
    query.severity = sev as Severity;
  }
  for (const key of ["since", "until"] as const) {
    const raw = params.get(key);
    if (raw === null) continue;
    const us = parseTimeSpec(raw, now);
    if (us === undefined) throw new HttpError(400, "bad_request", `${key}: "${raw}" is not an RFC 3339 time or an age like 1h`);
    query[key === "since" ? "since_us" : "until_us"] = us;
  }
  const follow = ["1", "true", "yes"].includes(params.get("follow") ?? "");
  if (params.has("follow") && !follow && !["0", "false", "no"].includes(params.get("follow")!)) {
    throw new HttpError(400, "bad_request", `follow must be 1 or 0`);
  }
  const limit = params.get("limit");
  if (limit !== null) {
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIMIT) {
      throw new HttpError(400, "bad_request", `limit must be an integer from 1 to ${MAX_LIMIT}`);
    }
    if (follow) throw new HttpError(400, "bad_request", "limit does not apply to follow=1");
    query.limit = Number(limit);
  }
  const order = params.get("order");
  if (order !== null) {
    if (order !== "asc" && order !== "desc") throw new HttpError(400, "bad_request", `order must be asc or desc`);
    if (follow) throw new HttpError(400, "bad_request", "order does not apply to follow=1");
    query.order = order;
  }
  if (follow && query.until_us !== undefined) throw new HttpError(400, "bad_request", "until does not apply to follow=1");
  return { query, follow };
}

/** What the device routes use of the inventory (src/devices/); each method is optional. */
interface DeviceSource {
  list?(): { name: string }[];
  get?(name: string): object | undefined;
  /** Name, /dev path, major:minor, SCSI address, WWID, serial or UUID to the kernel name. */
  resolve?(query: string): string | undefined;
  ownersOf?(name: string): unknown[];
  mountsOf?(name: string): unknown[];
}

/** The live inventory the udev sender provides, else the daemon's own (sysfs-backed) directory. */
export function deviceSource(handle: DaemonHandle): DeviceSource {
  return handle.services.get(INVENTORY_SERVICE) ?? (handle.devices as unknown as DeviceSource);
}

export function describeDevice(src: DeviceSource, handle: DaemonHandle, query: string): object | undefined {
  if (typeof src.get === "function") {
    const name = src.resolve?.(query) ?? query.replace(/^\/dev\//, "");
    const dev = src.get(name);
    if (!dev) return undefined;
    return { ...dev, owners: src.ownersOf?.(name) ?? [], mounts: src.mountsOf?.(name) ?? [] };
  }
  const id = handle.devices.identify(query);
  if (!id.dev_path && !existsSync(`/sys/class/block/${id.dev_name}`)) return undefined;
  const mount = handle.devices.mountOf?.(id.dev_name);
  return { ...id, ...(mount ? { mounts: [mount] } : {}) };
}

export function listDevices(handle: DaemonHandle): object[] {
  const src = deviceSource(handle);
  if (typeof src.list === "function") return src.list();
  let names: string[] = [];
  try { names = readdirSync("/sys/class/block").sort(); } catch { /* no sysfs */ }
  return names.map((n) => describeDevice(src, handle, n)).filter((d): d is object => d !== undefined);
}


/** Answers the read-only routes; undefined for any other path. `statusExtra` adds to /v1/status. */
export function readRoutes(handle: DaemonHandle, hub: FollowHub, statusExtra: () => Record<string, unknown> = () => ({})) {
  const store = () => handle.services.get(STORE_SERVICE);
  return (req: Request, url: URL, path: string): Response | undefined => {
    if (path === "/v1/status") {
      onlyRead(req, path);
      const s = store();
      return json({ ...handle.status(), ...(s ? { store: s.stats() } : {}), ...statusExtra() });
    }
    if (path === "/v1/events") {
      onlyRead(req, path);
      const { query, follow } = parseEventParams(url.searchParams, nowUs());
      if (follow) {
        const filter: EventFilter = { ...query };
        delete (filter as EventQuery).since_us;
        return new Response(hub.open(filter, query.since_us, store()), {
          headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" },
        });
      }
      const s = store();
      if (!s) throw new HttpError(503, "no_store", "no store receiver is running: past events are not kept (follow=1 still works)");
      s.flush();
      return json(s.query({ ...query, limit: query.limit ?? DEFAULT_LIMIT }).map((r) => r.event));
    }
    if (path === "/v1/devices") {
      onlyRead(req, path);
      return json(listDevices(handle));
    }
    if (path.startsWith("/v1/devices/")) {
      onlyRead(req, path);
      let name: string;
      try {
        name = decodeURIComponent(path.slice("/v1/devices/".length));
      } catch {
        throw new HttpError(400, "bad_request", "the device name is not valid percent-encoding");
      }
      const dev = describeDevice(deviceSource(handle), handle, name);
      if (dev === undefined) throw new HttpError(404, "not_found", `no device "${name}"`);
      return json(dev);
    }
    if (path === "/v1/fleet/hosts" || path === "/v1/fleet/drbd") {
      onlyRead(req, path);
      const fleet = handle.services.get(FLEET_SERVICE);
      if (!fleet) throw new HttpError(404, "not_a_fleet_node", "this daemon consumes no other hosts' events (no nats sender)");
      return json(path.endsWith("hosts") ? fleet.hosts() : fleet.drbd());
    }
    if (path === "/v1/drbd/resources") {
      onlyRead(req, path);
      return json(handle.drbd.toStatusJson());
    }
    return undefined;
  };
}
