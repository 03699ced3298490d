// The control socket's front door. Bun.serve has no per-connection hook: it can neither count its
// connections nor close one that never speaks or drips a header a byte at a time (slowloris), and
// its idleTimeout would also cut quiet follow streams. The gate accepts on the public socket, caps
// the connections (a clear 503 beyond), closes those with no request in progress that stay silent
// or leave a header unfinished, and pipes everything else to Bun.serve on a private socket.
import net from "node:net";

export interface GateOptions {
  /** The public socket path (created by the caller's umask; the caller sets its mode). */
  path: string;
  /** Bun.serve's private socket. */
  inner: string;
  maxConnections: number;
  /** A connection with no request in progress and no byte either way for this long is closed. */
  idleMs: number;
  /** A request header must be complete this long after its first byte (or the connection's open). */
  headerMs: number;
}

export interface GateCounters {
  connections_open: number;
  connections_refused: number;
  connections_idle_closed: number;
  connections_header_timeout: number;
}

export interface Gate {
  readonly counters: GateCounters;
  /** Stops accepting; open connections end with their upstream (`force`: or a second later). */
  close(force?: boolean): void;
}

interface Conn {
  client: net.Socket;
  upstream: net.Socket;
  /** Last byte in either direction. */
  lastByte: number;
  /** When the unfinished header began (undefined: none pending). */
  headerSince: number | undefined;
  /** A whole header went up and no answer byte came back yet: a request is in progress. */
  inProgress: boolean;
  /** The last 3 bytes of client data, so "\r\n\r\n" is found across chunks. */
  tail: string;
}

const END = "\r\n\r\n";

function answer(status: string, code: string, detail: string): string {
  const body = JSON.stringify({ error: code, detail }) + "\n";
  return `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

export function startGate(opts: GateOptions): Promise<Gate> {
  const counters: GateCounters = { connections_open: 0, connections_refused: 0, connections_idle_closed: 0, connections_header_timeout: 0 };
  const conns = new Set<Conn>();
  const forget = (c: Conn) => {
    conns.delete(c);
    counters.connections_open = conns.size;
  };
  const drop = (c: Conn) => {
    forget(c);
    c.client.destroy();
    c.upstream.destroy();
  };
  const server = net.createServer((client) => {
    client.on("error", () => {});
    if (conns.size >= opts.maxConnections) {
      counters.connections_refused++;
      client.end(answer("503 Service Unavailable", "too_many_connections", `the control socket already has ${opts.maxConnections} connections open (its limit); retry later`));
      return;
    }
    const upstream = net.connect(opts.inner);
    const now = performance.now();
    const c: Conn = { client, upstream, lastByte: now, headerSince: now, inProgress: false, tail: "" };
    conns.add(c);
    counters.connections_open = conns.size;
    upstream.on("error", () => {}); // its close follows and ends the client gracefully
    client.on("data", (d: Buffer) => {
      const t = performance.now();
      c.lastByte = t;
      const s = c.tail + d.toString("latin1");
      if (s.lastIndexOf(END) >= 0) {
        c.inProgress = true;
        const rest = s.slice(s.lastIndexOf(END) + END.length);
        c.headerSince = rest.length ? t : undefined;
      } else {
        c.headerSince ??= t;
      }
      c.tail = s.slice(-3);
    });
    upstream.on("data", () => {
      c.lastByte = performance.now();
      c.inProgress = false;
    });
    // pipe() carries backpressure both ways (a 1 GB body, a slow follower)
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => drop(c));
    upstream.on("close", () => {
      // The answer is flushed before the client side is ended; what the client still sends (the
      // rest of a refused body) is read and dropped, so its end is not stuck behind it.
      forget(c);
      client.unpipe(upstream);
      client.resume();
      client.end();
      setTimeout(() => client.destroy(), 1000).unref?.();
    });
  });
  server.maxConnections = opts.maxConnections * 2; // a last guard; the cap above answers first
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const c of conns) {
      if (c.headerSince !== undefined && now - c.headerSince > opts.headerMs && !c.inProgress) {
        // bytes of a header arrived but not its end: slowloris, or silence since the open
        if (c.lastByte > c.headerSince) {
          counters.connections_header_timeout++;
          forget(c);
          c.client.unpipe(c.upstream);
          c.upstream.unpipe(c.client);
          c.upstream.destroy();
          c.client.end(answer("408 Request Timeout", "request_timeout", `the request header did not arrive whole within ${opts.headerMs / 1000} s`));
          setTimeout(() => c.client.destroy(), 1000).unref();
          continue;
        }
      }
      if (!c.inProgress && now - c.lastByte > opts.idleMs) {
        counters.connections_idle_closed++;
        drop(c);
      }
    }
  }, 1000);
  sweep.unref?.();
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.path, () => {
      server.off("error", reject);
      resolve({
        counters,
        close(force = false) {
          clearInterval(sweep);
          if (server.listening) server.close();
          // What is already on its way (a follower's last events) still gets out
          // (their upstream's close ends them); a second later whatever is left is cut
          if (force) for (const c of [...conns]) setTimeout(() => drop(c), 1000).unref?.();
        },
      });
    });
  });
}
