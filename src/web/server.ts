// The optional TCP listener (SPEC §5; off unless [main] listen is set; binds 127.0.0.1 when only a
// port is given): /metrics, /v1/events as WebSocket, /v1/status, /v1/drbd/resources, and a small
// read-only web page. A slow WebSocket client is dropped (bounded buffer), never waited for.
import type { ServerWebSocket } from "bun";
import type { DaemonHandle } from "../daemon-api.ts";
import type { Logger } from "../plugin-api.ts";
import type { StorageEvent } from "../event.ts";
import { EventCounts, renderMetrics } from "./metrics.ts";
import { PAGE } from "./page.ts";

const MAX_BUFFERED = 1 << 20;

export function parseListen(listen: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port < 65536)) throw new Error(`listen: expected "[HOST]:PORT" or "PORT", got "${listen}"`);
  return { hostname: m[1] ?? (m[2] || "127.0.0.1"), port };
}

export interface WebListener {
  port: number;
  close(): Promise<void>;
  dropped(): number;
}

export function startWebListener(handle: DaemonHandle, listen: string, log: Logger): WebListener {
  const { hostname, port } = parseListen(listen);
  const counts = new EventCounts();
  const clients = new Set<ServerWebSocket<unknown>>();
  let dropped = 0;
  const unsubscribe = handle.subscribe((e: StorageEvent) => {
    counts.observe(e);
    if (!clients.size) return;
    const text = JSON.stringify(e);
    for (const ws of clients) {
      if (ws.getBufferedAmount() > MAX_BUFFERED) {
        dropped++;
        clients.delete(ws);
        ws.close(1013, "too slow");
        continue;
      }
      ws.send(text);
    }
  });
  const json = (x: unknown) => new Response(JSON.stringify(x), { headers: { "content-type": "application/json" } });
  const server = Bun.serve({
    hostname,
    port,
    fetch(req, srv) {
      const url = new URL(req.url);
      if (req.method !== "GET") return json({ error: "method not allowed", detail: "this listener is read-only" });
      switch (url.pathname) {
        case "/":
          return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
        case "/metrics":
          return new Response(renderMetrics(handle.status(), counts), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
        case "/v1/status":
          return json(handle.status());
        case "/v1/drbd/resources":
          return json(handle.drbd.toStatusJson());
        case "/v1/events":
          if (srv.upgrade(req)) return undefined;
          return new Response(JSON.stringify({ error: "upgrade required", detail: "/v1/events here is a WebSocket" }), { status: 426 });
        default:
          return new Response(JSON.stringify({ error: "not found", detail: url.pathname }), { status: 404 });
      }
    },
    websocket: {
      open: (ws) => void clients.add(ws),
      close: (ws) => void clients.delete(ws),
      message: () => {},
    },
  });
  log.info(`listening on http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${server.port}/`);
  return {
    port: server.port ?? port,
    dropped: () => dropped,
    async close() {
      unsubscribe();
      for (const ws of clients) ws.close(1001, "daemon stopping");
      await server.stop(true);
    },
  };
}
