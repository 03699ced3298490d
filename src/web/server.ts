// The optional TCP listener (SPEC §5; off unless [main] listen is set; 127.0.0.1 when only a port is
// given): the web console, /metrics, the control API's read-only routes, and /v1/events as a
// WebSocket (history from `since`, then live: the daemon's follow hub, shared with the control
// socket's NDJSON follow, so no gap and no duplicate at the seam, and each line encoded once). It only reads: GET and HEAD, and POST to /login; everything else is 405.
// Beyond loopback it runs TLS and requires the access token (see security.ts).
import type { Server, ServerWebSocket } from "bun";
import { readFileSync } from "node:fs";
import type { DaemonHandle } from "../daemon-api.ts";
import type { Logger } from "../plugin-api.ts";
import { nowUs } from "../event.ts";
import { FOLLOW_DEFAULTS, FollowHub } from "../control/follow.ts";
import { HttpError, errorResponse } from "../control/http.ts";
import { parseEventParams, readRoutes } from "../control/read-routes.ts";
import { routesFor } from "../plugin-api.ts";
import { STORE_SERVICE, type EventFilter, type EventStoreService } from "../store-api.ts";
import { EventCounts, renderMetrics } from "./metrics.ts";
import { AccessPolicy, SECURITY_HEADERS } from "./security.ts";
import { parseListen } from "./address.ts";

export { parseListen };
import { consoleAsset, loginPage } from "./console/assets.ts";

/** A WebSocket client this far behind is dropped (close 1013), never waited for. */
const MAX_BUFFERED = 1 << 20;
const MAX_LOGIN_BODY = 4096;

export interface ListenerOptions {
  listen: string;
  tls_cert?: string;
  tls_key?: string;
  token_file?: string;
}

export interface WebListener {
  port: number;
  url: string;
  close(): Promise<void>;
  dropped(): number;
}

interface WsData {
  filter: EventFilter;
  since?: number;
  reader?: { read(): Promise<{ value?: Uint8Array; done: boolean }>; cancel(): Promise<void> };
  wake?: () => void;
}

/** Reads a token file: the first line, trimmed; an empty one is an error. */
export function readToken(path: string): string {
  const token = readFileSync(path, "utf8").split("\n")[0]!.trim();
  if (!token) throw new Error(`token_file ${path} is empty`);
  return token;
}

/** `shared`: the daemon's follow hub, shared with the control socket; without one the listener has its own. */
export function startWebListener(handle: DaemonHandle, opts: ListenerOptions, log: Logger, shared?: FollowHub): WebListener {
  const { hostname, port } = parseListen(opts.listen);
  const tls = opts.tls_cert && opts.tls_key ? { cert: readFileSync(opts.tls_cert, "utf8"), key: readFileSync(opts.tls_key, "utf8") } : undefined;
  const policy = new AccessPolicy(opts.token_file ? readToken(opts.token_file) : undefined, tls !== undefined);
  const counts = new EventCounts();
  const unsubscribe = handle.subscribe((e) => counts.observe(e));
  const hub = shared ?? new FollowHub((l) => handle.subscribe(l), FOLLOW_DEFAULTS);
  const read = readRoutes(handle, hub, () => ({ listener: { ...policy.counters, ws_clients: clients.size, ws_dropped: dropped } }));
  const store = () => handle.services.get(STORE_SERVICE);
  const clients = new Set<ServerWebSocket<WsData>>();
  let dropped = 0;

  const withHeaders = (r: Response): Response => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) r.headers.set(k, v);
    return r;
  };

  const login = async (req: Request): Promise<Response> => {
    if (!policy.sameOrigin(req)) throw new HttpError(403, "forbidden", "login from a page of another origin");
    const body = await req.text();
    if (body.length > MAX_LOGIN_BODY) throw new HttpError(413, "too_large", "login body too large");
    const id = policy.login(new URLSearchParams(body).get("token") ?? "");
    if (!id) return new Response(loginPage("That token is not right."), { status: 401, headers: { "content-type": "text/html; charset=utf-8" } });
    return new Response(null, { status: 303, headers: { location: "/", "set-cookie": policy.sessionCookie(id) } });
  };

  const route = async (req: Request, srv: Server<WsData>): Promise<Response | undefined> => {
    const url = new URL(req.url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/login") {
      if (req.method === "POST") return login(req);
      if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "method_not_allowed", `${req.method} /login`, { allow: "GET, HEAD, POST" });
      return new Response(loginPage(""), { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      throw new HttpError(405, "method_not_allowed", `${req.method} ${path}: this listener only reads (the control socket changes things)`, { allow: "GET, HEAD" });
    }
    const asset = consoleAsset(path);
    if (asset && path !== "/") return new Response(asset.body, { headers: { "content-type": asset.type, "cache-control": "no-cache" } });
    if (!policy.allows(req)) {
      if (path === "/") return new Response(null, { status: 303, headers: { location: "/login" } });
      throw new HttpError(401, "unauthorized", "this listener needs the access token (Authorization: Bearer, or log in at /login)", { "www-authenticate": 'Bearer realm="storeventd"' });
    }
    if (asset) return new Response(asset.body, { headers: { "content-type": asset.type, "cache-control": "no-cache" } });
    if (path === "/metrics") {
      return new Response(renderMetrics(handle.status(), counts), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
    }
    if (path === "/v1/events" && req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      if (!policy.sameOrigin(req)) throw new HttpError(403, "forbidden", "WebSocket from a page of another origin");
      const { query } = parseEventParams(url.searchParams, nowUs());
      const { since_us, limit: _l, order: _o, until_us: _u, ...filter } = query;
      if (srv.upgrade(req, { data: { filter, since: since_us } satisfies WsData })) return undefined;
      throw new HttpError(400, "bad_request", "WebSocket upgrade failed");
    }
    const answer = read(req, url, path);
    if (answer) return answer;
    for (const r of routesFor(handle.plugins(), path)) {
      const p = r.handle(req, handle.services);
      if (p) return p;
    }
    throw new HttpError(404, "not_found", `no route ${path}`);
  };

  /** Copies the follow stream's NDJSON lines into WebSocket messages, paced by the socket. */
  const pump = async (ws: ServerWebSocket<WsData>): Promise<void> => {
    const reader = ws.data.reader!;
    const dec = new TextDecoder();
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done || !clients.has(ws)) break;
      const lines = (rest + dec.decode(value, { stream: true })).split("\n");
      rest = lines.pop()!;
      for (const line of lines) if (line) ws.send(line);
      while (clients.has(ws) && ws.getBufferedAmount() > MAX_BUFFERED) {
        const drained = await new Promise<boolean>((r) => {
          ws.data.wake = () => r(true);
          setTimeout(() => r(false), 5000);
        });
        if (!drained) {
          dropped++;
          clients.delete(ws);
          ws.close(1013, "too slow");
        }
      }
    }
    if (clients.delete(ws)) ws.close(1011, "follow stream ended");
  };

  const server = Bun.serve<WsData, never>({
    hostname,
    port,
    ...(tls ? { tls } : {}),
    async fetch(req, srv) {
      try {
        const r = await route(req, srv);
        return r && withHeaders(r);
      } catch (err) {
        if (err instanceof HttpError) return withHeaders(errorResponse(err.status, err.code, err.message, err.headers));
        log.error(`listener ${req.method} ${new URL(req.url).pathname}: ${(err as Error).stack ?? err}`);
        return withHeaders(errorResponse(500, "internal", (err as Error).message));
      }
    },
    websocket: {
      open(ws) {
        clients.add(ws);
        ws.data.reader = hub.open(ws.data.filter, ws.data.since, store()).getReader();
        void pump(ws);
      },
      drain: (ws) => ws.data.wake?.(),
      close(ws) {
        clients.delete(ws);
        void ws.data.reader?.cancel().catch(() => {});
      },
      message: () => {},
    },
  });
  const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `${tls ? "https" : "http"}://${shown}:${server.port}/`;
  log.info(`listening on ${url}${policy.required ? " (access token required)" : ""}`);
  return {
    port: server.port ?? port,
    url,
    dropped: () => dropped,
    async close() {
      unsubscribe();
      if (!shared) hub.close();
      for (const ws of clients) ws.close(1001, "daemon stopping");
      clients.clear();
      await server.stop(true);
    },
  };
}

