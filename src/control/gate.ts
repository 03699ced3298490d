// The control socket's front door. Bun.serve has no per-connection hook: it can neither count its
// connections nor close one that never speaks or drips a header a byte at a time (slowloris), and
// its idleTimeout would also cut quiet follow streams. The gate accepts on the public socket, caps
// the connections (a clear 503 beyond), closes those with no request in progress that stay silent
// or leave a header unfinished, and pipes everything else to Bun.serve on a private socket.
// (Bun.listen, not node:net: its native accept loop keeps up with a crowd connecting at once.)
import type { Socket, UnixSocketListener } from "bun";
import { ANSWER_READ_MS, Pipe } from "./gate-pipe.ts";

export interface GateOptions {
  /** The public socket path (created by the caller's umask; the caller sets its mode). */
  path: string;
  /** Bun.serve's private socket. */
  inner: string;
  /** Called before a connection is piped (idempotent): starts Bun.serve on `inner` at the first
   * one. A throw refuses the connection with a 503 that says why. */
  upstream?: () => void;
  maxConnections: number;
  /** A connection with no request in progress and no byte either way for this long is closed. */
  idleMs: number;
  /** A request header must be complete this long after its first byte. */
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
  client: Socket<Conn>;
  pipe: Pipe;
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
/** Refused connections left open to read their 503 at once; beyond, they are ended at once. */
const MAX_REFUSING = 256;

function answer(status: string, code: string, detail: string): string {
  const body = JSON.stringify({ error: code, detail }) + "\n";
  return `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

export function startGate(opts: GateOptions): Gate {
  const counters: GateCounters = { connections_open: 0, connections_refused: 0, connections_idle_closed: 0, connections_header_timeout: 0 };
  const conns = new Set<Conn>();
  const refusing = new Set<Socket<Conn | undefined>>();
  const forget = (c: Conn) => {
    conns.delete(c);
    counters.connections_open = conns.size;
  };
  const seen = (c: Conn, d: Buffer) => {
    const t = performance.now();
    c.lastByte = t;
    const s = c.tail + d.toString("latin1", Math.max(0, d.length - 4096));
    const end = s.lastIndexOf(END);
    if (end >= 0) {
      c.inProgress = true;
      c.headerSince = end + END.length < s.length ? t : undefined;
    } else {
      c.headerSince ??= t;
    }
    c.tail = s.slice(-3);
  };
  const server: UnixSocketListener<Conn | undefined> = Bun.listen<Conn | undefined>({
    unix: opts.path,
    socket: {
      open(client) {
        if (conns.size >= opts.maxConnections) {
          counters.connections_refused++;
          const full = answer("503 Service Unavailable", "too_many_connections", `the control socket already has ${opts.maxConnections} connections open (its limit); retry later`);
          if (refusing.size >= MAX_REFUSING) return void client.end(full);
          // as with a 408, the answer is left to be read before the end (a bounded number of them)
          client.write(full);
          refusing.add(client);
          setTimeout(() => {
            client.end();
            setTimeout(() => (refusing.delete(client), client.terminate()), 1000).unref?.();
          }, ANSWER_READ_MS).unref?.();
          return;
        }
        try {
          opts.upstream?.();
        } catch (e) {
          counters.connections_refused++;
          return void client.end(answer("503 Service Unavailable", "control_unavailable", `the control API cannot start: ${(e as Error).message}`));
        }
        const c: Conn = { client: client as Socket<Conn>, pipe: undefined as unknown as Pipe, lastByte: performance.now(), headerSince: undefined, inProgress: false, tail: "" };
        c.pipe = new Pipe(client as Socket<unknown>, opts.inner, {
          fromUpstream: () => {
            c.lastByte = performance.now();
            c.inProgress = false;
          },
          upstreamClosed: () => forget(c),
        });
        client.data = c;
        conns.add(c);
        counters.connections_open = conns.size;
      },
      data(client, d) {
        const c = client.data;
        if (!c) return;
        seen(c, d);
        c.pipe.toUpstream(d, c.inProgress);
      },
      drain(client) {
        client.data?.pipe.clientDrained();
      },
      close(client) {
        const c = client.data;
        if (!c) return void refusing.delete(client);
        forget(c);
        c.pipe.clientClosed();
      },
      error() {},
    },
  });
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const c of conns) {
      if (c.inProgress) continue;
      if (c.headerSince !== undefined && now - c.headerSince > opts.headerMs) {
        // a header begun and not finished: slowloris, or a client that stopped mid-request
        counters.connections_header_timeout++;
        forget(c);
        c.pipe.answerAndClose(answer("408 Request Timeout", "request_timeout", `the request header did not arrive whole within ${opts.headerMs / 1000} s`));
      } else if (now - c.lastByte > opts.idleMs) {
        counters.connections_idle_closed++;
        forget(c);
        c.pipe.cut();
      }
    }
  }, 1000);
  sweep.unref?.();
  let listening = true;
  return {
    counters,
    close(force = false) {
      clearInterval(sweep);
      if (listening) server.stop(false);
      listening = false;
      // What is already on its way (a follower's last events) still gets out (their upstream's
      // close ends them); a second later whatever is left is cut.
      if (force) for (const c of [...conns]) setTimeout(() => { forget(c); c.pipe.cut(); }, 1000).unref?.();
    },
  };
}
