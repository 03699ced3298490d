// One AgentX session with the master agent over TCP, kept alive: connect, Open, Register, answer
// requests; on any loss (master down at start, restart, Close, a broken stream, unanswered ping)
// reconnect with backoff. drbd-reactor instead gives up when the master is down at its start.
import type * as net from "node:net";
import { dnsLib, netLib } from "../../../src/plugin-kit/builtins.ts";
import type { Logger } from "../../../src/plugin-api.ts";
import { Backoff } from "../../../src/plugin-kit/backoff.ts";
import {
  AgentxError, CLOSE_REASON, decodeHeader, decodePdu, encodeClose, encodeOpen, encodePing, encodeRegister, encodeResponse, ERR,
  type Header, type Oid, PDU, type Pdu, PduFramer, type VarBind,
} from "./pdu.ts";

export interface SessionOptions {
  host: string;
  port: number;
  /** Open's default timeout in seconds: how long the master waits for our answers. */
  timeout: number;
  subtree: Oid;
  descr: string;
  log: Logger;
  /** Answers a Get, GetNext or GetBulk with its varbinds. */
  answer(pdu: Extract<Pdu, { ranges: unknown }>): VarBind[];
  count(name: string): void;
  /** How often we ping the master; an unanswered ping by the next one drops the connection. */
  pingMs?: number;
  /** Open and Register must be answered within this. */
  handshakeMs?: number;
  backoff?: { minTimeout: number; maxTimeout: number };
}

type State = "idle" | "connecting" | "opening" | "registering" | "registered" | "closed";

export class AgentxSession {
  private state: State = "idle";
  private sock: net.Socket | null = null;
  private abort = new AbortController();
  private packetId = 0;
  private waiting = new Map<number, "open" | "register" | "ping">();
  private sessionId = 0;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  private loop: Promise<void> | null = null;
  private failing = false;
  connects = 0;
  sessions = 0;
  lastError = "";

  constructor(private o: SessionOptions) {}

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ ...(this.o.backoff ?? { minTimeout: 500, maxTimeout: 10_000 }), signal: this.abort.signal });
    while (!this.abort.signal.aborted) {
      // Every address of the name in turn, as drbd-reactor's TcpStream::connect does (localhost
      // may be ::1 and 127.0.0.1 while snmpd listens on one of them).
      let registered = false;
      for (const addr of await this.addresses()) {
        if (this.abort.signal.aborted) break;
        const r = await this.connectOnce(addr);
        registered ||= r.registered;
        if (r.connected || this.abort.signal.aborted) break;
      }
      if (registered) backoff.reset();
      if (this.abort.signal.aborted) break;
      if (!(await backoff.next())) break;
    }
  }

  private async addresses(): Promise<string[]> {
    if (netLib().isIP(this.o.host)) return [this.o.host];
    try {
      const all = await dnsLib().lookup(this.o.host, { all: true });
      return all.length ? [...new Set(all.map((a) => a.address))] : [this.o.host];
    } catch {
      return [this.o.host]; // the connect attempt reports the resolver's error
    }
  }

  /** One connection's life; resolves when it is gone: did it connect, did it get registered. */
  private connectOnce(addr: string): Promise<{ connected: boolean; registered: boolean }> {
    return new Promise((resolve) => {
      let registered = false;
      let connected = false;
      this.state = "connecting";
      this.connects++;
      const framer = new PduFramer();
      const sock = netLib().createConnection({ host: addr, port: this.o.port });
      this.sock = sock;
      sock.setNoDelay(true);
      // Connect, Open and Register must all be done by then (a black-holed SYN included).
      this.handshakeTimer = setTimeout(() => this.drop(connected ? "no answer to Open/Register" : "connect timed out"), this.o.handshakeMs ?? 10_000);
      sock.on("connect", () => {
        connected = true;
        this.state = "opening";
        this.send(encodeOpen({ type: PDU.Open, packetId: this.track("open") }, this.o.timeout, this.o.subtree, this.o.descr));
      });
      sock.on("data", (chunk: Buffer) => {
        let pdus: Uint8Array[];
        try {
          pdus = framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        } catch (e) {
          // No way to find the next PDU in the stream: close the session and start over.
          this.send(encodeClose({ type: PDU.Close, sessionId: this.sessionId }, CLOSE_REASON.ParseError));
          this.drop(`bad PDU from the master: ${(e as Error).message}`);
          return;
        }
        for (const bytes of pdus) {
          if (this.handle(bytes)) registered = true;
          if (sock.destroyed) return;
        }
      });
      sock.on("error", (e) => {
        this.lastError = e.message;
      });
      sock.on("close", () => {
        this.clearTimers();
        this.waiting.clear();
        if (this.sock === sock) this.sock = null;
        if (this.state !== "closed") {
          const why = this.lastError || "connection closed";
          if (registered) this.o.log.warn(`agentx: lost the master agent at ${this.where()}: ${why}; reconnecting`);
          else if (!this.failing) this.o.log.warn(`agentx: cannot register with the master agent at ${this.where()}: ${why}; retrying with backoff`);
          else this.o.log.debug(`agentx: still no master agent at ${this.where()}: ${why}`);
          this.failing = !registered;
          this.state = "idle";
        }
        this.lastError = "";
        resolve({ connected, registered });
      });
    });
  }

  private where(): string {
    return this.o.host.includes(":") ? `[${this.o.host}]:${this.o.port}` : `${this.o.host}:${this.o.port}`;
  }

  private track(what: "open" | "register" | "ping"): number {
    this.packetId = (this.packetId + 1) >>> 0;
    this.waiting.set(this.packetId, what);
    return this.packetId;
  }

  private send(bytes: Uint8Array): void {
    if (this.sock && !this.sock.destroyed) this.sock.write(bytes);
  }

  private drop(why: string): void {
    this.lastError = why;
    this.sock?.destroy();
  }

  private clearTimers(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.pingTimer = this.handshakeTimer = null;
  }

  /** One whole PDU from the master; true when it completed our registration. */
  private handle(bytes: Uint8Array): boolean {
    let pdu: Pdu;
    try {
      pdu = decodePdu(bytes);
    } catch (e) {
      // The header was fine (the framer checked it), the payload not: answer parseError (RFC 2741 7.1).
      this.o.count("parse_errors");
      this.o.log.once("agentx-parse", `agentx: unreadable PDU from the master: ${(e as AgentxError).message}`);
      this.send(encodeResponse(decodeHeader(bytes), ERR.ParseError, 0, []));
      return false;
    }
    const h = pdu.header;
    switch (pdu.type) {
      case PDU.Response:
        return "error" in pdu ? this.onResponse(h, pdu.error) : false;
      case PDU.Get: case PDU.GetNext: case PDU.GetBulk: {
        this.o.count("requests");
        let vbs: VarBind[];
        try {
          vbs = this.o.answer(pdu as Extract<Pdu, { ranges: unknown }>);
        } catch (e) {
          this.o.log.once("agentx-answer", `agentx: cannot answer: ${(e as Error).message}`);
          this.send(encodeResponse(h, ERR.GenErr, 1, []));
          return false;
        }
        this.send(encodeResponse(h, ERR.NoError, 0, vbs));
        return false;
      }
      case PDU.Close:
        this.o.log.info(`agentx: the master agent closed the session (reason ${"reason" in pdu ? pdu.reason : "?"})`);
        this.drop("closed by the master");
        return false;
      case PDU.TestSet:
        this.send(encodeResponse(h, ERR.NotWritable, 1, [])); // the MIB is read-only
        return false;
      case PDU.CleanupSet:
        return false; // no response (RFC 2741 7.2.4.4)
      default:
        this.send(encodeResponse(h, ERR.ProcessingError, 0, []));
        return false;
    }
  }

  private onResponse(h: Header, error: number): boolean {
    const what = this.waiting.get(h.packetId);
    if (!what) return false;
    this.waiting.delete(h.packetId);
    if (what === "ping") {
      if (error !== ERR.NoError) this.drop(`the master no longer knows our session (ping: error ${error})`);
      return false;
    }
    if (error !== ERR.NoError) {
      this.drop(`${what === "open" ? "Open" : "Register"} refused by the master (error ${error})`);
      return false;
    }
    if (what === "open") {
      this.sessionId = h.sessionId;
      this.state = "registering";
      this.send(encodeRegister({ type: PDU.Register, sessionId: this.sessionId, packetId: this.track("register") }, this.o.subtree));
      return false;
    }
    this.state = "registered";
    this.sessions++;
    this.failing = false;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.o.log.info(`agentx: registered ${this.o.subtree.join(".")} with the master agent at ${this.where()} (session ${this.sessionId})`);
    this.pingTimer = setInterval(() => {
      if ([...this.waiting.values()].includes("ping")) return this.drop("no answer to ping");
      this.send(encodePing({ type: PDU.Ping, sessionId: this.sessionId, packetId: this.track("ping") }));
    }, this.o.pingMs ?? 15_000);
    return true;
  }

  /** Closes the session (Close "shutdown" first, so the master drops our registration now). */
  async close(): Promise<void> {
    const was = this.state;
    this.state = "closed";
    this.abort.abort();
    this.clearTimers();
    const sock = this.sock;
    if (sock && !sock.destroyed) {
      if (was === "registered") sock.end(encodeClose({ type: PDU.Close, sessionId: this.sessionId }, CLOSE_REASON.Shutdown));
      else sock.destroy();
      await new Promise<void>((r) => {
        if (sock.closed) r();
        else sock.once("close", () => r());
        setTimeout(() => {
          sock.destroy();
          r();
        }, 1000).unref?.();
      });
    }
    await this.loop;
  }

  status(): Record<string, unknown> {
    return { state: this.state, session_id: this.sessionId, connects: this.connects, sessions: this.sessions };
  }
}
