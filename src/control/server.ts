// The control API: HTTP/1.1 over a unix socket (SPEC §5). Routes:
//   GET  /v1/status                 DaemonStatus + store and control counters
//   GET  /v1/events?since=&until=&system=&severity=&type=&dev=&limit=&order=   JSON array (store)
//   GET  /v1/events?follow=1[&since=…]  NDJSON: replay from `since`, then live
//   GET  /v1/devices, /v1/devices/{name}
//   GET  /v1/drbd/resources         drbdsetup-status-json array
//   POST /v1/reload                 {ok, started, stopped, kept}
//   /v1/<plugin>/...                routes plugins contribute (PluginDef.routes, e.g. /v1/promoter)
// Errors are JSON {error, detail}. The socket is mode 0660 in a 0750 directory, owned by root and
// the configured group: access control is the file system's.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { DaemonHandle } from "../daemon-api.ts";
import type { Logger } from "../plugin-api.ts";
import { routesFor } from "../plugin-api.ts";
import { FOLLOW_DEFAULTS, FollowHub, type FollowOptions } from "./follow.ts";
import { HttpError, errorResponse, json } from "./http.ts";
import { readRoutes } from "./read-routes.ts";
import { startGate, type Gate } from "./gate.ts";

export interface ControlServerOptions {
  socketPath: string;
  /** Group (name or gid) that may use the socket; default: the daemon's own group. */
  group?: string;
  log: Logger;
  follow?: Partial<FollowOptions>;
  /** Connection cap and deadlines of the socket's gate (defaults: CONTROL_LIMITS). */
  limits?: Partial<typeof CONTROL_LIMITS>;
  /** The daemon's follow hub, shared with the web listener; without one the server has its own. */
  hub?: FollowHub;
}

/** Beyond maxConnections a connection gets 503; with no request in progress, one silent for idleMs
 * or with a header unfinished after headerMs is closed (follow streams send heartbeats, 5 s).
 * headerMs stays under Bun.serve's own ~10 s, so the client learns why (408). */
export const CONTROL_LIMITS = { maxConnections: 1024, idleMs: 10_000, headerMs: 5_000 };

export interface ControlServer {
  close(): Promise<void>;
}

export const DEFAULT_SOCKET = "/run/storeventd/control.sock";
export { DEFAULT_LIMIT, MAX_LIMIT, parseEventParams } from "./read-routes.ts";

/** The gid for a group name or number (from /etc/group), or a throw naming the group. */
export function resolveGroup(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid) return Number(gid);
  }
  throw new Error(`control socket group "${group}" does not exist`);
}

/** True when something accepts connections on the unix socket at `path`. (Bun.connect, not
 * node:net: loading that module cost every start ~2 ms, and nothing else in the daemon needs it.) */
async function socketAlive(path: string): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 1000)));
  const attempt = Bun.connect<undefined>({ unix: path, socket: { data() {}, error() {} } }).then(
    (s) => (s.terminate(), true),
    () => false,
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `f` with umask 0117: the sockets it creates are born 0660, never briefly world-writable. */
function bornPrivate<T>(f: () => T): T {
  const old = process.umask(0o117);
  try {
    return f();
  } finally {
    process.umask(old);
  }
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

  const hub = opts.hub ?? new FollowHub((l) => handle.subscribe(l), { ...FOLLOW_DEFAULTS, ...opts.follow });
  const counters = { requests: 0, errors: 0 };
  let gate: Gate | undefined;
  let reloading: Promise<unknown> | undefined;
  const read = readRoutes(handle, hub, () => ({ control: { socket: socketPath, ...counters, ...gate?.counters, ...hub.counters, follow_queued_bytes: hub.queuedBytes() } }));

  const route = async (req: Request): Promise<Response> => {
    const url = new URL(req.url, "http://localhost");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const answer = read(req, url, path);
    if (answer) return answer;
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
    for (const r of routesFor(handle.plugins(), path)) {
      // Plugins' own routes (PluginDef.routes); they want an absolute URL.
      const abs = req.url.startsWith("/") ? new Request(url.href, req) : req;
      const answer = r.handle(abs, handle.services);
      if (answer) return answer;
    }
    throw new HttpError(404, "not_found", `no route ${path}`);
  };

  // Bun.serve listens in a private directory; only the gate (src/control/gate.ts) reaches it.
  const privateDir = join(dir, `.${basename(socketPath)}.d`);
  rmSync(privateDir, { recursive: true, force: true });
  mkdirSync(privateDir, { mode: 0o700 });
  chmodSync(privateDir, 0o700);
  const inner = join(privateDir, "http.sock");
  const limits = { ...CONTROL_LIMITS, ...opts.limits };
  // Bun.serve starts at the first connection (the gate asks): most daemons are never asked, and
  // it is ~1.5 ms of every start and the HTTP server's pages of the binary in memory.
  let server: ReturnType<typeof Bun.serve> | undefined;
  // (Bun's types omit idleTimeout for unix sockets; the runtime applies it. It stays off: it would
  // cut quiet follow streams; the gate closes idle connections instead.)
  const upstream = () => {
    server ??= bornPrivate(() => Bun.serve({
      unix: inner,
      ...({ idleTimeout: 0 } as object),
      async fetch(req) {
        counters.requests++;
        try {
          // No route takes a body: refuse one before acting (a chunked body has no length for
          // Bun's size limit to catch, and POST /v1/reload would otherwise reload and answer 200).
          if (req.headers.has("transfer-encoding") || Number(req.headers.get("content-length") ?? 0) > 0) {
            throw new HttpError(413, "body_not_accepted", "the control API takes no request body");
          }
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
    }));
  };
  try {
    gate = bornPrivate(() => startGate({ path: socketPath, inner, upstream, ...limits }));
  } catch (err) {
    if (!opts.hub) hub.close();
    rmSync(privateDir, { recursive: true, force: true });
    throw err;
  }
  chmodSync(socketPath, 0o660);
  if (gid !== undefined) chownSync(socketPath, process.getuid?.() ?? 0, gid);
  log.info(`control API listening on ${socketPath}`);

  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      if (!opts.hub) hub.close(); // a shared hub is closed by its owner, before this
      gate?.close();
      // Followers get their last events and a clean end; one that does not read them within a
      // second is cut off.
      if (server) {
        await Promise.race([server.stop(false), new Promise((r) => setTimeout(r, 1000))]);
        await server.stop(true);
      }
      gate?.close(true);
      try { unlinkSync(socketPath); } catch { /* gone already */ }
      rmSync(privateDir, { recursive: true, force: true });
    },
  };
}
