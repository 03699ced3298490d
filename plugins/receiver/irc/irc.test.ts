// irc receiver: against a real ngircd started by the test (plain and TLS), with a second, small IRC
// client in the channel that reads the lines: order and text, flood control, PING/PONG, nick
// collisions, reconnect after the server is killed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { checkSampleAndReadme, freePort, until, waitForPort, makeEvent, receiverContext, schemaErrors } from "../../../test/helpers/receiver.ts";
import plugin, { IrcReceiver } from "./index.ts";
import { TokenBucket, eventLine } from "./line.ts";
import { need } from "../../../test/helpers/need.ts";

const dir = import.meta.dir;
const ngircd = Bun.which("ngircd") ?? Bun.which("ngircd", { PATH: "/usr/sbin:/usr/bin" });
const tmp = mkdtempSync(join(tmpdir(), "sevd-irc-"));

let port = 0;
let tlsPort = 0;
let server: ReturnType<typeof Bun.spawn> | undefined;
const cert = join(tmp, "cert.pem");
const key = join(tmp, "key.pem");

async function startServer(): Promise<void> {
  const conf = join(tmp, "ngircd.conf");
  writeFileSync(conf, readFileSync(join(dir, "testdata/ngircd.conf.in"), "utf8")
    .replaceAll("@PORT@", String(port)).replaceAll("@TLSPORT@", String(tlsPort)).replaceAll("@CERT@", cert).replaceAll("@KEY@", key));
  server = Bun.spawn([ngircd!, "-n", "-f", conf], { stdout: "ignore", stderr: "ignore" });
  await waitForPort(port, "ngircd");
}

async function killServer(): Promise<void> {
  server?.kill("SIGKILL");
  await server?.exited;
  server = undefined;
}

/** The test's own IRC client: joins the channel and records every PRIVMSG with its arrival time. */
class Watcher {
  got: { text: string; from: string; at: number }[] = [];
  private sock!: net.Socket;
  async join(channel: string, nick = "watcher"): Promise<void> {
    this.sock = net.connect({ host: "127.0.0.1", port });
    let buf = "";
    await new Promise<void>((resolve, reject) => {
      this.sock.on("error", reject);
      this.sock.on("data", (d) => {
        buf += d.toString();
        let i: number;
        while ((i = buf.indexOf("\r\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (line.startsWith("PING")) this.sock.write("PONG" + line.slice(4) + "\r\n");
          const m = /^:(\S+?)!\S+ PRIVMSG (\S+) :(.*)$/.exec(line);
          if (m && m[2] === channel) this.got.push({ from: m[1]!, text: m[3]!, at: performance.now() });
          if (/^:\S+ 001 /.test(line)) this.sock.write(`JOIN ${channel}\r\n`);
          if (line.startsWith(`:${nick}!`) && line.includes(" JOIN ")) resolve();
        }
      });
      this.sock.write(`NICK ${nick}\r\nUSER w 0 * :watcher\r\n`);
    });
  }
  async waitFor(n: number, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (this.got.length < n && Date.now() < end) await Bun.sleep(20);
  }
  raw(line: string): void {
    this.sock.write(line + "\r\n");
  }
  close(): void {
    this.sock.destroy();
  }
}

async function make(opts: Record<string, unknown>) {
  const { ctx, rec, abort } = receiverContext();
  const r = (await plugin.create(v.parse(plugin.schema, { server: `127.0.0.1:${port}`, nick: "sevd", channel: "#storage", ...opts }), ctx)) as IrcReceiver;
  r.start();
  return { r, counts: rec.counts, abort };
}

describe("irc units", () => {
  test("eventLine() is one line with severity, host, type, device; cut at max bytes", () => {
    const e = makeEvent({ msg: "path failed\r\nsecond\0line" });
    expect(eventLine(e, 400).text).toBe("[ERROR] node-a DM_MPATH_PATH_DOWN sdc: path failed second line");
    const long = eventLine(makeEvent({ msg: "é".repeat(500) }), 100);
    expect(long.truncated).toBe(true);
    expect(Buffer.byteLength(long.text)).toBeLessThanOrEqual(100);
    expect(long.text.endsWith("…")).toBe(true);
    expect(eventLine(e, 400, true).text.startsWith("\x0304[ERROR]\x0f ")).toBe(true);
  });

  test("TokenBucket gives burst tokens, then one per interval", () => {
    const b = new TokenBucket(3, 1000, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.wait(0)).toBe(1000);
    expect(b.take(999)).toBe(false);
    expect(b.take(1000)).toBe(true);
    expect(b.take(10_000)).toBe(true); // refilled to burst, not beyond
    expect(b.take(10_000)).toBe(true);
    expect(b.take(10_000)).toBe(true);
    expect(b.take(10_000)).toBe(false);
  });

  test("sample.toml validates and equals the README's Configuration block", () => {
    checkSampleAndReadme(plugin, dir);
  });

  test("config errors: bad server, nick, channel, missing ca_file, reconnect bounds", async () => {
    const base = { server: "irc.example.org", nick: "sevd", channel: "#s" };
    expect(schemaErrors(plugin, base)).toEqual([]);
    expect(schemaErrors(plugin, { ...base, server: "irc example" })[0]).toContain("HOST[:PORT]");
    expect(schemaErrors(plugin, { ...base, nick: "9lives" })[0]).toContain("nickname");
    expect(schemaErrors(plugin, { ...base, nick: "a b" })[0]).toContain("nickname");
    expect(schemaErrors(plugin, { ...base, channel: "storage" })[0]).toContain("channel");
    expect(schemaErrors(plugin, { ...base, channel: "#a,#b" })[0]).toContain("channel");
    expect(schemaErrors(plugin, { server: "x" })[0]).toContain("nick");
    const { ctx } = receiverContext();
    const create = (o: Record<string, unknown>) => Promise.resolve().then(() => plugin.create(v.parse(plugin.schema, { ...base, ...o }), ctx));
    await expect(create({ ca_file: join(tmp, "absent.pem") })).rejects.toThrow("ca_file");
    await expect(create({ reconnect_min: "5m", reconnect_max: "1m" })).rejects.toThrow("reconnect_min");
  });
});

describe("irc receiver against a real ngircd", () => {
  beforeAll(() => need({ ngircd: ngircd !== null }));
  beforeAll(async () => {
    [port, tlsPort] = [await freePort(), await freePort()];
    const p = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]);
    expect(p.exitCode).toBe(0);
    chmodSync(tmp, 0o755);
    chmodSync(key, 0o644); // ngircd drops to "nobody" before reading it
    await startServer();
  });
  afterAll(async () => {
    await killServer();
    rmSync(tmp, { recursive: true, force: true });
  });

  test("lines arrive in order, with the burst first and then one per rate interval", async () => {
    const w = new Watcher();
    await w.join("#storage");
    const { r, counts } = await make({ burst: 3, rate: "400ms" });
    await until(() => r.status().state === "joined");
    const events = Array.from({ length: 7 }, (_, i) => makeEvent({ msg: `event ${i} $(x) ; "q"` }));
    const t0 = performance.now();
    r.send(events);
    await w.waitFor(7);
    expect(w.got.map((g) => g.text)).toEqual(events.map((e) => eventLine(e, 400).text));
    expect(w.got.every((g) => g.from === "sevd")).toBe(true);
    const gaps = w.got.map((g) => g.at - t0);
    // Burst of 3 right away; the 4th waits for a token (~400 ms), the 7th for four (~1600 ms).
    expect(gaps[2]!).toBeLessThan(400);
    expect(gaps[3]!).toBeGreaterThanOrEqual(350);
    expect(gaps[6]!).toBeGreaterThanOrEqual(1550);
    console.log(`irc: first line after ${gaps[0]!.toFixed(1)} ms; 7 lines (burst 3, 1/400ms) in ${gaps[6]!.toFixed(0)} ms`);
    expect(counts.get("sent")).toBe(7);
    await r.close();
    w.close();
  }, 20_000);

  test("answers the server's PING: still the same connection after several ping timeouts", async () => {
    const { r, counts } = await make({ nick: "pinger" });
    await until(() => r.status().state === "joined");
    await Bun.sleep(5000); // PingTimeout = 2, PongTimeout = 2: a client that does not answer is gone by now
    expect(r.status().state).toBe("joined");
    expect(counts.get("connects")).toBe(1);
    expect(counts.get("reconnects")).toBeUndefined();
    await r.close();
  }, 15_000);

  test("kicked: joins again after reconnect_min and keeps posting", async () => {
    const w = new Watcher();
    await w.join("#kick"); // first in the channel: operator
    const { r, counts } = await make({ nick: "kickme", channel: "#kick", reconnect_min: "300ms" });
    await until(() => r.status().state === "joined");
    w.raw("KICK #kick kickme :testing");
    await until(() => r.status().state !== "joined", 3000);
    expect(counts.get("kicks")).toBe(1);
    await until(() => r.status().state === "joined", 5000);
    const e = makeEvent({ msg: "back after a kick" });
    r.send([e]);
    await w.waitFor(1);
    expect(w.got.map((g) => g.text)).toEqual([eventLine(e, 400).text]);
    expect(counts.get("connects")).toBe(1); // same connection
    await r.close();
    w.close();
  });

  test("a nick in use gets _ appended", async () => {
    const w = new Watcher();
    await w.join("#storage", "taken");
    const { r } = await make({ nick: "taken" });
    await until(() => r.status().state === "joined");
    expect(r.status().nick).toBe("taken_");
    await r.close();
    w.close();
  });

  test("TLS with ca_file", async () => {
    const w = new Watcher();
    await w.join("#tls");
    const { r } = await make({ server: `localhost:${tlsPort}`, tls: true, ca_file: cert, channel: "#tls", nick: "sevdtls" });
    const e = makeEvent();
    r.send([e]);
    await w.waitFor(1);
    expect(w.got.map((g) => g.text)).toEqual([eventLine(e, 400).text]);
    await r.close();
    w.close();
  });

  test("server killed: lines queue, the receiver reconnects with backoff and delivers them", async () => {
    const { r, counts } = await make({ nick: "phoenix", channel: "#re", reconnect_min: "1s", reconnect_max: "4s" });
    await until(() => r.status().state === "joined");
    await killServer();
    await until(() => r.status().state !== "joined");
    const events = [makeEvent({ msg: "while down 1" }), makeEvent({ msg: "while down 2" })];
    r.send(events);
    expect(r.status().queued).toBe(2);
    await startServer();
    const w = new Watcher();
    await w.join("#re");
    await w.waitFor(2);
    expect(w.got.map((g) => g.text)).toEqual(events.map((e) => eventLine(e, 400).text));
    expect(counts.get("connects")).toBe(2);
    expect(counts.get("reconnects")).toBeGreaterThanOrEqual(1);
    await r.close();
    w.close();
  }, 20_000);

  test("close() sends what the rate allows within its grace, then QUITs", async () => {
    const w = new Watcher();
    await w.join("#bye");
    const { r } = await make({ nick: "leaver", channel: "#bye", burst: 1, rate: "200ms" });
    await until(() => r.status().state === "joined");
    const events = Array.from({ length: 4 }, (_, i) => makeEvent({ msg: `last words ${i}` }));
    r.send(events);
    expect(r.status().queued).toBe(3);
    await r.close(2000);
    await w.waitFor(4, 3000);
    expect(w.got.map((g) => g.text)).toEqual(events.map((e) => eventLine(e, 400).text));
    expect(r.status().state).toBe("closed");
    w.close();
  });

  test("TLS: an untrusted certificate is refused (no ca_file) and retried", async () => {
    const { r, counts } = await make({ server: `127.0.0.1:${tlsPort}`, tls: true, nick: "untrusting", reconnect_min: "100ms", reconnect_max: "200ms" });
    await until(() => (counts.get("connect_errors") ?? 0) >= 2, 5000);
    expect(r.status().state).not.toBe("joined");
    expect(String(r.status().last_error)).toMatch(/certificate|self.signed|verify/i);
    await r.close(0);
  });

  test("queue_max bounds the waiting lines; the oldest are dropped and counted", async () => {
    const { r, counts } = await make({ server: `127.0.0.1:${await freePort()}`, queue_max: 3, nick: "nobody1" });
    r.send(Array.from({ length: 5 }, () => makeEvent()));
    expect(r.status().queued).toBe(3);
    expect(counts.get("dropped")).toBe(2);
    await r.close(0);
  });
});
