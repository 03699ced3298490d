// AgentxSession against a scripted master on 127.0.0.1: the handshake bytes, answers to each
// request type, and every way a session ends (Close, a bad stream, a refused Open, an unanswered
// ping, our own close) followed by a reconnect.
import { afterEach, describe, expect, test } from "bun:test";
import net from "node:net";
import {
  decodePdu, encodeClose, encodeMasterResponse, encodeRequest, ERR, FLAG, type HeaderFields, PDU, type Pdu,
  PduFramer, VT,
} from "./pdu.ts";
import { AgentxSession } from "./session.ts";
import { makeContext } from "../../../test/helpers/context.ts";
import { waitFor } from "../../../test/helpers/wait.ts";

const SUBTREE = [1, 3, 6, 1, 4, 1, 23302];

/** One subagent connection as the master sees it: the PDUs it got, in order. */
class Conn {
  got: Pdu[] = [];
  raw: Uint8Array[] = [];
  closed = false;
  private framer = new PduFramer();
  constructor(readonly sock: net.Socket) {
    sock.on("data", (b: Buffer) => {
      for (const p of this.framer.push(new Uint8Array(b))) {
        this.raw.push(p);
        this.got.push(decodePdu(p));
      }
    });
    sock.on("close", () => (this.closed = true));
  }
  async next(type: number, i = 0): Promise<Pdu> {
    return waitFor(() => this.got.filter((p) => p.type === type)[i], 5000, `PDU type ${type} #${i}`);
  }
  send(b: Uint8Array): void {
    this.sock.write(b);
  }
  /** Answers Open (session 42) and Register like a master that accepts. */
  async accept(): Promise<void> {
    const open = await this.next(PDU.Open);
    this.send(encodeMasterResponse({ type: PDU.Response, sessionId: 42, packetId: open.header.packetId }, 0));
    const reg = await this.next(PDU.Register);
    this.send(encodeMasterResponse({ type: PDU.Response, sessionId: 42, packetId: reg.header.packetId }, 0));
  }
}

class FakeMaster {
  conns: Conn[] = [];
  private server = net.createServer((s) => this.conns.push(new Conn(s)));
  port = 0;
  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  conn(i: number): Promise<Conn> {
    return waitFor(() => this.conns[i], 5000, `connection #${i}`);
  }
  async stop(): Promise<void> {
    for (const c of this.conns) c.sock.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

let master: FakeMaster;
let session: AgentxSession | null = null;
afterEach(async () => {
  await session?.close();
  session = null;
  await master?.stop();
});

async function setup(opts: { pingMs?: number; handshakeMs?: number; host?: string } = {}) {
  master = new FakeMaster();
  await master.listen();
  const { ctx, rec } = makeContext();
  const asked: Pdu[] = [];
  session = new AgentxSession({
    host: opts.host ?? "127.0.0.1", port: master.port, timeout: 60, subtree: SUBTREE, descr: "DRBD by storeventd::agentx",
    log: ctx.log, count: (n) => ctx.count(n), backoff: { minTimeout: 20, maxTimeout: 50 }, ...opts,
    answer: (p) => {
      asked.push(p);
      return p.ranges.map((r) => ({ name: [...r.start, 1], type: VT.Integer, value: 7 }));
    },
  });
  session.start();
  return { rec, asked, s: session };
}

const get = (h: HeaderFields, oid = [...SUBTREE, 1]) => encodeRequest({ sessionId: 42, ...h }, [{ start: oid, include: false, end: [] }]);

describe("AgentxSession", () => {
  test("Open carries timeout, id and description; Register the subtree at priority 127 in the session", async () => {
    const { s } = await setup();
    const c = await master.conn(0);
    const open = await c.next(PDU.Open);
    const raw = encodeMasterResponse({ type: PDU.Response, sessionId: 42, packetId: open.header.packetId }, 0);
    expect(open.header.flags & FLAG.NetworkByteOrder).toBe(FLAG.NetworkByteOrder);
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
    const descr = Buffer.from("DRBD by storeventd::agentx").toString("hex"); // 26 bytes, padded to 28
    expect(hex(c.raw[0]!.subarray(20))).toBe("3c000000" + "02040000" + "00000001" + "00005b06" + "0000001a" + descr + "0000");
    c.send(raw);
    const reg = await c.next(PDU.Register);
    expect(reg.header.sessionId).toBe(42);
    expect(hex(c.raw[1]!.subarray(20))).toBe("007f0000" + "02040000" + "00000001" + "00005b06");
    c.send(encodeMasterResponse({ type: PDU.Response, sessionId: 42, packetId: reg.header.packetId }, 0));
    await waitFor(() => s.status().state === "registered", 5000, "registered");
    expect(s.status()).toMatchObject({ session_id: 42, connects: 1, sessions: 1 });
  });

  test("answers Get/GetNext/GetBulk with the request's ids; TestSet notWritable; CleanupSet nothing; others processingError", async () => {
    const { s, asked } = await setup();
    const c = await master.conn(0);
    await c.accept();
    await waitFor(() => s.status().state === "registered", 5000, "registered");
    c.send(get({ type: PDU.GetNext, transactionId: 5, packetId: 6 }));
    const r1 = await c.next(PDU.Response);
    expect(r1).toMatchObject({ error: 0, header: { sessionId: 42, transactionId: 5, packetId: 6 } });
    expect("varbinds" in r1 && r1.varbinds).toEqual([{ name: [...SUBTREE, 1, 1], type: VT.Integer, value: 7 }]);
    c.send(encodeRequest({ type: PDU.GetBulk, sessionId: 42, packetId: 7 }, [{ start: SUBTREE, include: false, end: [] }], { nonRepeaters: 0, maxRepetitions: 3 }));
    expect(await c.next(PDU.Response, 1)).toMatchObject({ error: 0, header: { packetId: 7 } });
    expect(asked.map((p) => p.type)).toEqual([PDU.GetNext, PDU.GetBulk]);
    c.send(get({ type: PDU.TestSet, packetId: 8 }));
    expect(await c.next(PDU.Response, 2)).toMatchObject({ error: ERR.NotWritable, index: 1, header: { packetId: 8 } });
    c.send(encodeRequest({ type: PDU.CleanupSet, sessionId: 42, packetId: 9 }, []));
    c.send(encodeRequest({ type: PDU.Notify, sessionId: 42, packetId: 10 }, []));
    // The next answer is the Notify's: CleanupSet got none (RFC 2741 7.2.4.4).
    expect(await c.next(PDU.Response, 3)).toMatchObject({ error: ERR.ProcessingError, header: { packetId: 10 } });
    expect(s.status().state).toBe("registered");
  });

  test("a PDU with a bad payload is answered with parseError and the session stays", async () => {
    const { s, rec } = await setup();
    const c = await master.conn(0);
    await c.accept();
    await waitFor(() => s.status().state === "registered", 5000, "registered");
    const bad = get({ type: PDU.Get, packetId: 11 });
    bad[20] = 200; // 200 sub-identifiers in a 16-byte OID
    c.send(bad);
    expect(await c.next(PDU.Response)).toMatchObject({ error: ERR.ParseError, header: { packetId: 11 } });
    c.send(get({ type: PDU.Get, packetId: 12 }));
    expect(await c.next(PDU.Response, 1)).toMatchObject({ error: 0, header: { packetId: 12 } });
    expect(rec.counts.get("parse_errors")).toBe(1);
    expect(master.conns).toHaveLength(1);
  });

  test("a bad header (version 2) closes the session with parseError and reconnects", async () => {
    const { s } = await setup();
    const c = await master.conn(0);
    await c.accept();
    await waitFor(() => s.status().state === "registered", 5000, "registered");
    const bad = get({ type: PDU.Get, packetId: 13 });
    bad[0] = 2;
    c.send(bad);
    expect(await c.next(PDU.Close)).toMatchObject({ reason: 2 });
    const c2 = await master.conn(1);
    await c2.accept();
    await waitFor(() => s.status().sessions === 2, 5000, "second session");
  });

  test("Close from the master, or a master gone, ends in a new session", async () => {
    const { s, rec } = await setup();
    const c = await master.conn(0);
    await c.accept();
    await waitFor(() => s.status().state === "registered", 5000, "registered");
    c.send(encodeClose({ type: PDU.Close, sessionId: 42 }, 6));
    const c2 = await master.conn(1);
    await c2.accept();
    await waitFor(() => s.status().sessions === 2, 5000, "second session");
    c2.sock.destroy();
    const c3 = await master.conn(2);
    await c3.accept();
    await waitFor(() => s.status().sessions === 3, 5000, "third session");
    expect(rec.logs.some((l) => l.includes("closed the session (reason 6)"))).toBe(true);
  });

  test("a refused Open (openFailed) is retried with backoff, warned about once", async () => {
    const { s, rec } = await setup();
    for (const i of [0, 1, 2]) {
      const c = await master.conn(i);
      const open = await c.next(PDU.Open);
      c.send(encodeMasterResponse({ type: PDU.Response, packetId: open.header.packetId }, ERR.OpenFailed));
    }
    const c = await master.conn(3);
    await c.accept();
    await waitFor(() => s.status().state === "registered", 5000, "registered");
    expect(rec.logs.filter((l) => l.startsWith("warn:"))).toEqual([
      "warn: agentx: cannot register with the master agent at 127.0.0.1:" + master.port + ": Open refused by the master (error 256); retrying with backoff",
    ]);
  });

  test("pings the master; an unanswered or refused ping drops the connection; a silent handshake too", async () => {
    const { s } = await setup({ pingMs: 50, handshakeMs: 300 });
    const c = await master.conn(0);
    await c.accept();
    const ping = await c.next(PDU.Ping);
    expect(ping.header.sessionId).toBe(42);
    c.send(encodeMasterResponse({ type: PDU.Response, sessionId: 42, packetId: ping.header.packetId }, 0));
    await c.next(PDU.Ping, 1); // not answered: the one after it drops the connection
    await waitFor(() => c.closed, 5000, "drop");
    const c2 = await master.conn(1);
    await c2.next(PDU.Open); // no answer: the handshake timer drops it
    await waitFor(() => c2.closed, 5000, "handshake drop");
    const c3 = await master.conn(2);
    await c3.accept();
    await waitFor(() => s.status().sessions === 2, 5000, "second session");
    const p3 = await c3.next(PDU.Ping); // answered with notOpen: the master forgot us
    c3.send(encodeMasterResponse({ type: PDU.Response, sessionId: 42, packetId: p3.header.packetId }, ERR.NotOpen));
    await waitFor(() => c3.closed, 5000, "drop after notOpen");
    await (await master.conn(3)).accept();
    await waitFor(() => s.status().sessions === 3, 5000, "third session");
  });

  test("a host name is resolved (drbd-reactor's default is localhost:705)", async () => {
    const { s } = await setup({ host: "localhost" });
    await (await master.conn(0)).accept();
    await waitFor(() => s.status().state === "registered", 5000, "registered");
  });

  test("close() sends Close (shutdown) and stops reconnecting", async () => {
    const { s } = await setup();
    const c = await master.conn(0);
    await c.accept();
    await waitFor(() => s.status().state === "registered", 5000, "registered");
    await s.close();
    expect(await c.next(PDU.Close)).toMatchObject({ reason: 5, header: { sessionId: 42 } });
    await Bun.sleep(200);
    expect(master.conns).toHaveLength(1);
    expect(s.status().state).toBe("closed");
  });
});
