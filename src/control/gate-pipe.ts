// One gated control connection's two halves (src/control/gate.ts): bytes both ways with
// backpressure (a side is paused while more than HIGH bytes wait for the other, and resumed when
// they drain), the upstream connected once a whole request header is in (a crowd of silent or
// slowloris connections costs one fd each), and an end that lets the answer out.
// Bun's socket.write() takes what the kernel takes now and no more: the rest waits here.
import type { Socket } from "bun";

export interface PipeHooks {
  /** An answer byte came from upstream. */
  fromUpstream(): void;
  upstreamClosed(): void;
}

const HIGH = 256 << 10;
/** Bun.serve answers a longer header 431. */
const MAX_HEADER = 16 << 10;
const HEAD = 64;

/** Whether s (at most HEAD bytes) is, or may still become, an HTTP/1.x request line. */
export function requestStart(s: string): boolean {
  const m = /^([A-Z]{0,16})(?: ([!-~]*)(?: ([^\n]*)(\n?))?)?/.exec(s)!;
  if (m[0].length < s.length && !m[4]) return false; // after a whole line: header fields, not judged here
  if (m[3] === undefined) return true; // a method, a target, or a part of one
  const version = m[3] + m[4];
  return m[1] !== "" && m[2] !== "" && ["HTTP/1.1\r\n", "HTTP/1.0\r\n"].some((v) => v.startsWith(version) || (m[4] && version.startsWith(v)));
}
/** Once upstream is gone, the client gets this long to take the rest of the answer. */
const LINGER_MS = 1000;
/** The gate's own answer (408) is left this long before the end: a slowloris client still
 * dripping when the socket ends got EPIPE from Bun's socket before it had read the answer. */
export const ANSWER_READ_MS = 2000;

class Outbox {
  private q: Buffer[] = [];
  bytes = 0;
  /** Writes what it can now and keeps a copy of the rest; false when the socket is gone. */
  send(s: Socket<unknown>, d: Buffer): boolean {
    if (this.q.length) return this.keep(d), true;
    const n = s.write(d);
    if (n < 0) return false;
    if (n < d.length) this.keep(d.subarray(n));
    return true;
  }
  /** After a drain: writes what waits; true when nothing is left. */
  flush(s: Socket<unknown>): boolean {
    while (this.q.length) {
      const d = this.q[0]!;
      const n = s.write(d);
      if (n <= 0) return false;
      this.bytes -= n;
      if (n < d.length) return (this.q[0] = d.subarray(n)), false;
      this.q.shift();
    }
    return true;
  }
  clear(): void {
    this.q = [];
    this.bytes = 0;
  }
  get empty(): boolean {
    return this.q.length === 0;
  }
  private keep(d: Buffer): void {
    this.q.push(Buffer.from(d));
    this.bytes += d.length;
  }
}

export class Pipe {
  private up: Socket<unknown> | undefined;
  private toUp = new Outbox();
  private toClient = new Outbox();
  private upGone = false;
  private clientGone = false;
  private linger: ReturnType<typeof setTimeout> | undefined;
  private answered = false;
  private connecting = false;
  /** The first bytes from the client, to tell a request's start from garbage. */
  private head = "";

  constructor(private client: Socket<unknown>, private inner: string, private hooks: PipeHooks) {}

  private connect(): void {
    this.connecting = true;
    Bun.connect<undefined>({
      unix: this.inner,
      socket: {
        open: (up) => {
          if (this.clientGone) return void up.terminate();
          this.up = up as Socket<unknown>;
          this.upDrained();
        },
        data: (_up, d) => {
          this.hooks.fromUpstream();
          this.toClientSend(d);
        },
        drain: () => this.upDrained(),
        close: () => this.upstreamGone(),
        error: () => {},
        connectError: () => this.upstreamGone(),
      },
    }).catch(() => this.upstreamGone());
  }

  /** `headerDone`: a whole request header has arrived. Until then nothing goes up while what came
   * looks like the start of a request (a slowloris crowd would otherwise cost the daemon a
   * connection and a write per byte); garbage goes up at once for Bun.serve's 400, as does a header
   * past Bun.serve's size limit for its 431. */
  toUpstream(d: Buffer, headerDone: boolean): void {
    if (this.upGone) return; // the answer is out or on its way: what the client still sends is dropped
    if (!this.up) this.toUp.send(DETACHED, d);
    else if (!this.toUp.send(this.up, d)) return this.upstreamGone();
    if (!this.connecting) {
      if (this.head.length < HEAD) this.head += d.toString("latin1", 0, HEAD - this.head.length);
      if (headerDone || this.toUp.bytes > MAX_HEADER || !requestStart(this.head)) this.connect();
    }
    if (this.toUp.bytes > HIGH) this.client.pause();
  }

  clientDrained(): void {
    if (!this.toClient.flush(this.client)) return;
    this.up?.resume();
    if (this.upGone) this.endClient();
  }

  clientClosed(): void {
    this.clientGone = true;
    this.toClient.clear();
    this.up?.terminate();
    if (this.linger) clearTimeout(this.linger);
  }

  /** Answers the client itself (a timeout) and closes both halves. */
  answerAndClose(text: string): void {
    this.answered = true;
    this.toClientSend(Buffer.from(text));
    this.up?.terminate();
    this.upstreamGone();
  }

  /** Closes both halves now. */
  cut(): void {
    this.client.terminate();
    this.clientClosed();
  }

  private toClientSend(d: Buffer): void {
    if (this.clientGone) return;
    if (!this.toClient.send(this.client, d)) return this.cut();
    if (this.toClient.bytes > HIGH) this.up?.pause();
  }

  private upDrained(): void {
    if (this.up && this.toUp.flush(this.up)) this.client.resume();
  }

  private upstreamGone(): void {
    if (this.upGone) return;
    this.upGone = true;
    this.up = undefined;
    this.toUp.clear();
    this.hooks.upstreamClosed();
    this.client.resume();
    if (this.toClient.empty) this.endClient();
  }

  private endClient(): void {
    if (this.clientGone || this.linger) return;
    const end = () => {
      this.client.end();
      this.linger = setTimeout(() => this.client.terminate(), LINGER_MS);
      this.linger.unref?.();
    };
    if (!this.answered) return end();
    this.linger = setTimeout(end, ANSWER_READ_MS);
    this.linger.unref?.();
  }
}

/** Where bytes wait before the upstream is connected: a write that takes nothing. */
const DETACHED = { write: () => 0 } as unknown as Socket<unknown>;
