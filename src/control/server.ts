// The control API: HTTP/1.1 over a unix socket (SPEC §5). Routes:
//   GET  /v1/status                 DaemonStatus + store and control counters
//   GET  /v1/events?since=&until=&system=&severity=&type=&dev=&limit=&order=   JSON array (store)
//   GET  /v1/events?follow=1[&since=…]  NDJSON: replay from `since`, then live
//   GET  /v1/devices, /v1/devices/{name}
//   GET  /v1/drbd/resources         drbdsetup-status-json array
//   POST /v1/reload                 {ok, started, stopped, kept}
//   /v1/promoter/...                the drbd-reactor promoter's routes (src/promoter/http.ts)
// Errors are JSON {error, detail}. The socket is mode 0660 in a 0750 directory, owned by root and
// the configured group: access control is the file system's.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import type { DaemonHandle } from "../daemon-api.ts";
import type { Logger } from "../plugin-api.ts";
import { SEVERITIES, nowUs, type Severity } from "../event.ts";
import { INVENTORY_SERVICE } from "../devices/index.ts";
import { promoterRoutes } from "../promoter/http.ts";
import { STORE_SERVICE, type EventFilter, type EventQuery, type EventStoreService } from "../store/query.ts";
import { FollowHub, type FollowOptions } from "./follow.ts";
import { parseTimeSpec } from "./timespec.ts";

export interface ControlServerOptions {
  socketPath: string;
  /** Group (name or gid) that may use the socket; default: the daemon's own group. */
  group?: string;
  log: Logger;
  follow?: Partial<FollowOptions>;
}

export interface ControlServer {
  close(): Promise<void>;
}

export const DEFAULT_SOCKET = "/run/storeventd/control.sock";
export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 100_000;

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, detail: string, readonly headers: Record<string, string> = {}) {
    super(detail);
  }
}

// Every plain answer closes its connection: no idle keep-alive connections to hold (Bun's idle
// timeout is off because it also cuts quiet follow streams; a request that does not arrive whole
// within ~10 s is closed by Bun's HTTP layer regardless).
function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body) + "\n", { status, headers: { "content-type": "application/json", connection: "close", ...headers } });
}

function errorResponse(status: number, code: string, detail: string, headers: Record<string, string> = {}): Response {
  return json({ error: code, detail }, status, headers);
}

/** The gid for a group name or number (from /etc/group), or a throw naming the group. */
export function resolveGroup(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid) return Number(gid);
  }
  throw new Error(`control socket group "${group}" does not exist`);
}

/** True when something accepts connections on the unix socket at `path`. */
function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (alive: boolean) => { s.destroy(); resolve(alive); };
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
    setTimeout(() => done(false), 1000).unref?.();
  });
}

const LIST_KEYS = { system: "system", type: "event_type", dev: "dev_name" } as const;
const EVENT_PARAMS = new Set(["since", "until", "system", "severity", "type", "dev", "limit", "order", "follow"]);

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
function deviceSource(handle: DaemonHandle): DeviceSource {
  return handle.services.get<DeviceSource>(INVENTORY_SERVICE) ?? (handle.devices as unknown as DeviceSource);
}

function describeDevice(src: DeviceSource, handle: DaemonHandle, query: string): object | undefined {
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

function listDevices(handle: DaemonHandle): object[] {
  const src = deviceSource(handle);
  if (typeof src.list === "function") return src.list();
  let names: string[] = [];
  try { names = readdirSync("/sys/class/block").sort(); } catch { /* no sysfs */ }
  return names.map((n) => describeDevice(src, handle, n)).filter((d): d is object => d !== undefined);
}

export async function startControlServer(handle: DaemonHandle, opts: ControlServerOptions): Promise<ControlServer> {
  const { socketPath, log } = opts;
  const gid = opts.group ? resolveGroup(opts.group) : undefined;
  const dir = dirname(socketPath);
  const uid = process.getuid?.() ?? 0;
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    chmodSync(dir, 0o750);
    if (gid !== undefined) chownSync(dir, uid, gid);
  } else if (gid !== undefined) {
    // A private directory of ours (systemd's RuntimeDirectory=, 0750 root:root): the group must be
    // able to reach the socket. A shared one (/tmp, /run) is left alone.
    const st = statSync(dir);
    if (st.uid === uid && (st.mode & 0o007) === 0 && st.gid !== gid) {
      chownSync(dir, uid, gid);
      chmodSync(dir, (st.mode & 0o777) | 0o050);
    }
  }
  if (existsSync(socketPath)) {
    if (!lstatSync(socketPath).isSocket()) throw new Error(`${socketPath} exists and is not a socket`);
    if (await socketAlive(socketPath)) throw new Error(`${socketPath}: another storeventd is listening`);
    unlinkSync(socketPath);
  }

  // clientMaxBytes: each line is encoded once and shared by every client's queue, so slow clients
  // together retain about one window of recent events, not one each; only replays encode per client
  // (paced by the client).
  const hub = new FollowHub((l) => handle.subscribe(l), { ringSize: 4096, clientMaxBytes: 4 << 20, pageSize: 1000, heartbeatMs: 5000, ...opts.follow });
  const counters = { requests: 0, errors: 0 };
  let reloading: Promise<unknown> | undefined;
  const store = () => handle.services.get<EventStoreService>(STORE_SERVICE);
  const promoter = promoterRoutes(handle);

  const route = async (req: Request): Promise<Response> => {
    const url = new URL(req.url, "http://localhost");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const get = () => {
      if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "method_not_allowed", `${req.method} ${path}: use GET`, { allow: "GET, HEAD" });
    };
    if (path === "/v1/status") {
      get();
      const s = store();
      return json({ ...handle.status(), ...(s ? { store: s.stats() } : {}), control: { socket: socketPath, ...counters, ...hub.counters, follow_queued_bytes: hub.queuedBytes() } });
    }
    if (path === "/v1/events") {
      get();
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
      get();
      return json(listDevices(handle));
    }
    if (path.startsWith("/v1/devices/")) {
      get();
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
    if (path === "/v1/drbd/resources") {
      get();
      return json(handle.drbd.toStatusJson());
    }
    if (path === "/v1/reload") {
      if (req.method !== "POST") throw new HttpError(405, "method_not_allowed", `${req.method} ${path}: use POST`, { allow: "POST" });
      if (reloading) throw new HttpError(409, "reload_in_progress", "a reload is already running");
      const p = handle.reload();
      reloading = p;
      try {
        const r = await p;
        log.info(`reload via control socket: ${r.ok ? `started ${r.started.length}, stopped ${r.stopped.length}, kept ${r.kept.length}` : `failed: ${r.error}`}`);
        if (!r.ok) return json({ ...r, error: "reload_failed", detail: r.error ?? "reload failed" }, 422);
        return json(r);
      } finally {
        reloading = undefined;
      }
    }
    if (path.startsWith("/v1/promoter")) {
      // The promoter's own routes (src/promoter/http.ts); they want an absolute URL.
      const abs = req.url.startsWith("/") ? new Request(url.href, req) : req;
      const answer = promoter(abs);
      if (answer) return answer;
    }
    throw new HttpError(404, "not_found", `no route ${path}`);
  };

  const oldMask = process.umask(0o117); // the socket is born 0660, never briefly world-writable
  let server: ReturnType<typeof Bun.serve>;
  try {
    // (Bun's types omit idleTimeout for unix sockets; the runtime applies it.)
    server = Bun.serve({
      unix: socketPath,
      ...({ idleTimeout: 0 } as object),
      async fetch(req) {
        counters.requests++;
        try {
          return await route(req);
        } catch (err) {
          counters.errors++;
          if (err instanceof HttpError) {
            return errorResponse(err.status, err.code, err.message, err.headers);
          }
          log.error(`control API ${req.method} ${new URL(req.url, "http://localhost").pathname}: ${(err as Error).stack ?? err}`);
          return errorResponse(500, "internal", (err as Error).message);
        }
      },
      error(err) {
        counters.errors++;
        return errorResponse(500, "internal", err.message);
      },
    });
  } catch (err) {
    hub.close();
    throw err;
  } finally {
    process.umask(oldMask);
  }
  chmodSync(socketPath, 0o660);
  if (gid !== undefined) chownSync(socketPath, process.getuid?.() ?? 0, gid);
  log.info(`control API listening on ${socketPath}`);

  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      hub.close();
      // Followers get their last events and a clean end; one that does not read them within a
      // second is cut off.
      await Promise.race([server.stop(false), new Promise((r) => setTimeout(r, 1000))]);
      await server.stop(true);
      try { unlinkSync(socketPath); } catch { /* gone already */ }
    },
  };
}
