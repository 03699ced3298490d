// The control API client used by monitor, query, status and info: HTTP over the unix socket, with
// one-line errors that name the socket path.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import type { StorageEvent } from "../event.ts";
import type { FleetHost, FleetResource } from "../fleet-api.ts";
import type { DaemonStatus, ReloadResult } from "../daemon-api.ts";
import type { StoreStats } from "../store-api.ts";
import { DEFAULT_SOCKET } from "./server.ts";

export const DEFAULT_CONFIG = "/etc/storeventd/storeventd.toml";

export class ControlError extends Error {
  constructor(
    message: string,
    /**
     * "unreachable": nothing listens (daemon not running); "denied": socket permissions; "http": an
     * API error; "protocol": a broken answer or stream; "config": the config file cannot be read.
     */
    readonly kind: "unreachable" | "denied" | "http" | "protocol" | "config",
    readonly status = 0,
    readonly code = "",
  ) {
    super(message);
  }
}

/** The /v1/status document. */
export interface StatusDoc extends DaemonStatus {
  store?: StoreStats;
  control?: Record<string, unknown>;
}

/** Filters and range of /v1/events, as the CLI flags give them (times as typed: "1h", RFC 3339). */
export interface EventParams {
  since?: string;
  until?: string;
  system?: string[];
  severity?: string;
  type?: string[];
  dev?: string[];
  host?: string[];
  limit?: number;
  order?: "asc" | "desc";
}

export function eventSearch(p: EventParams, follow = false): string {
  const q = new URLSearchParams();
  if (p.since) q.set("since", p.since);
  if (p.until) q.set("until", p.until);
  if (p.system?.length) q.set("system", p.system.join(","));
  if (p.severity) q.set("severity", p.severity);
  if (p.type?.length) q.set("type", p.type.join(","));
  if (p.dev?.length) q.set("dev", p.dev.join(","));
  if (p.host?.length) q.set("host", p.host.join(","));
  if (p.limit !== undefined) q.set("limit", String(p.limit));
  if (p.order) q.set("order", p.order);
  if (follow) q.set("follow", "1");
  const s = q.toString();
  return s ? `?${s}` : "";
}

/**
 * The control socket: --socket wins; else [main].control_socket from the config (-c PATH, or the
 * default file and its conf.d/ snippets when they exist); else /run/storeventd/control.sock.
 */
export function resolveSocketPath(opts: { socket?: string; config?: string }): string {
  if (opts.socket) return opts.socket;
  const main = opts.config ?? DEFAULT_CONFIG;
  if (!opts.config && !existsSync(main)) return DEFAULT_SOCKET;
  const files = [main];
  const snippets = join(main, "..", "conf.d");
  if (existsSync(snippets)) {
    for (const f of readdirSync(snippets).sort()) if (f.endsWith(".toml")) files.push(join(snippets, f));
  }
  let socket = DEFAULT_SOCKET;
  for (const f of files) {
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(readFileSync(f, "utf8"));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ControlError(`${f}: ${e.code === "ENOENT" ? "no such config file" : e.message.split("\n")[0]}`, "config");
    }
    const m = doc.main as Record<string, unknown> | undefined;
    if (m && typeof m.control_socket === "string") socket = m.control_socket;
  }
  return socket;
}

export class ControlClient {
  constructor(readonly socketPath: string) {}

  private async request(method: string, path: string, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`http://localhost${path}`, { method, unix: this.socketPath, signal } as RequestInit);
    } catch (err) {
      const e = err as { code?: string; name?: string; message: string };
      if (e.name === "AbortError") throw err;
      if (e.code === "EACCES" || e.code === "EPERM") {
        throw new ControlError(`permission denied on ${this.socketPath}: run as root or as a member of the socket's group`, "denied");
      }
      const why = e.code === "ENOENT" ? "no such socket" : e.code === "ECONNREFUSED" ? "connection refused" : e.code ?? e.message;
      throw new ControlError(`storeventd is not running (cannot connect to ${this.socketPath}: ${why})`, "unreachable");
    }
    if (!res.ok) {
      let body: { error?: string; detail?: string } = {};
      try { body = await res.json() as typeof body; } catch { /* not JSON */ }
      throw new ControlError(`${method} ${path.split("?")[0]}: ${body.detail ?? res.statusText} (${res.status}${body.error ? " " + body.error : ""})`, "http", res.status, body.error ?? "");
    }
    return res;
  }

  async get<T>(path: string): Promise<T> {
    const res = await this.request("GET", path);
    try {
      return await res.json() as T;
    } catch (err) {
      throw new ControlError(`GET ${path}: bad JSON from ${this.socketPath}: ${(err as Error).message}`, "protocol");
    }
  }

  status(): Promise<StatusDoc> {
    return this.get("/v1/status");
  }

  events(p: EventParams): Promise<StorageEvent[]> {
    return this.get(`/v1/events${eventSearch(p)}`);
  }

  devices(): Promise<unknown[]> {
    return this.get("/v1/devices");
  }

  /** What the daemon knows of one device (for `info DEV`); undefined when it knows nothing. */
  async device(name: string): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.get(`/v1/devices/${encodeURIComponent(name)}`);
    } catch (err) {
      if (err instanceof ControlError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * The most recent stored events of a device (newest last), for `info DEV`; [] when the daemon
   * runs without a store.
   */
  async deviceEvents(name: string, limit = 20): Promise<StorageEvent[]> {
    try {
      const newestFirst = await this.events({ dev: [name.replace(/^\/dev\//, "")], limit, order: "desc" });
      return newestFirst.reverse();
    } catch (err) {
      if (err instanceof ControlError && err.code === "no_store") return [];
      throw err;
    }
  }

  fleetHosts(): Promise<FleetHost[]> {
    return this.get("/v1/fleet/hosts");
  }

  fleetDrbd(): Promise<FleetResource[]> {
    return this.get("/v1/fleet/drbd");
  }

  drbdResources(): Promise<unknown[]> {
    return this.get("/v1/drbd/resources");
  }

  async reload(): Promise<ReloadResult> {
    try {
      return await (await this.request("POST", "/v1/reload")).json() as ReloadResult;
    } catch (err) {
      if (err instanceof ControlError && err.status === 422) throw new ControlError(`reload failed: ${err.message}`, "http", 422, err.code);
      throw err;
    }
  }

  /**
   * Follows live events (after a replay from `since`, if given). Yields each event; returns when the
   * daemon ends the stream (it stopped); throws ControlError when it cannot connect or the stream breaks.
   */
  async *follow(p: EventParams, signal?: AbortSignal): AsyncGenerator<StorageEvent> {
    const res = await this.request("GET", `/v1/events${eventSearch(p, true)}`, signal);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (err) {
          if ((err as Error).name === "AbortError" || signal?.aborted) return;
          const why = (err as { code?: string }).code ?? (err as Error).message;
          throw new ControlError(`the event stream from ${this.socketPath} broke (${why}); the daemon drops a follower that falls 4 MiB behind`, "protocol");
        }
        if (chunk.done) break;
        buf += decoder.decode(chunk.value, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line) yield JSON.parse(line) as StorageEvent;
        }
      }
      if (buf.trim()) throw new ControlError(`follow stream from ${this.socketPath} ended inside an event`, "protocol");
    } finally {
      reader.releaseLock();
      try { await res.body!.cancel(); } catch { /* closed */ }
    }
  }
}
