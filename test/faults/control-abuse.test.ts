// Scenario 7: control socket abuse. 1000 connections held open at once (half idle, half
// slowloris: a request header one byte at a time), a 1 GB request body, malformed HTTP and a user
// outside the socket's group; meanwhile `status` must keep answering within 100 ms.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rssMiB, sampler, section, startRun, status, stopDaemon } from "./index.ts";

const CONNS = 1000;
const dir = mkdtempSync(join(tmpdir(), "faults20-ctl-"));
chmodSync(dir, 0o755); // other users may reach the socket; its own mode decides
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sock = join(dir, "control.sock");
const cfg = join(dir, "c.toml");
writeFileSync(cfg, `[main]
state_dir = "${dir}/state"
control_socket = "${sock}"
shutdown_timeout = "2s"

[events]
type = "receiver"
plugin = "file"
path = "${dir}/events.ndjson"
`);

const connect = () => new Promise<net.Socket>((resolve, reject) => {
  const s = net.connect(sock);
  s.once("connect", () => resolve(s)).once("error", reject);
  s.on("error", () => {});
});

/** Sends raw bytes on a new connection; resolves with what came back until close (or timeout). */
function raw(bytes: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(sock);
    let buf = "";
    const t = setTimeout(() => (s.destroy(), resolve(buf)), timeoutMs);
    s.on("data", (d) => (buf += d.toString()));
    s.on("close", () => (clearTimeout(t), resolve(buf)));
    s.on("error", () => {});
    s.write(bytes);
  });
}

async function statusMs(): Promise<number> {
  const t0 = performance.now();
  await status(sock, 2000);
  return performance.now() - t0;
}

const rep = section({
  n: 7, title: "Control socket abuse",
  injects: `${CONNS} connections held open at once (half idle, half slowloris sending one header byte every 200 ms), a POST with a 1 GB body streamed as fast as the socket takes it (Content-Length, then chunked to /v1/reload), malformed HTTP, a connection from the user nobody`,
  holds: [
    "status answers within 100 ms (worst of the probes) during the crowd and during the 1 GB body",
    "the 1 GB body gets a 4xx (413) and RSS stays under 300 MiB; sent chunked (no length) to POST /v1/reload it gets 413 too and reloads nothing",
    "malformed HTTP gets 400",
    "nobody (not in the socket's group) cannot connect (EACCES: the socket is 0660, access control is the file system's)",
  ],
});

test("control socket abuse: crowd, slowloris, 1 GB body, malformed HTTP, non-member", async () => {
  await rep.run(async () => {
    const d = await startRun(cfg);
    const pid = d.proc.pid;
    const rss = sampler(() => rssMiB(pid), 50);
    const crowd: net.Socket[] = [];
    try {
      for (let i = 0; i < CONNS; i++) crowd.push(await connect());
      const slow = crowd.filter((_, i) => i % 2 === 1);
      const header = "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(200);
      let pos = 0;
      const drip = setInterval(() => { for (const s of slow) s.write(header[pos % header.length]!); pos++; }, 200);
      const crowdMs: number[] = [];
      try {
        for (let i = 0; i < 10; i++) { crowdMs.push(await statusMs()); await Bun.sleep(100); }
      } finally {
        clearInterval(drip);
      }
      const alive = crowd.filter((s) => !s.destroyed).length;
      // 1 GB body on a route that takes a body
      const big = net.connect(sock);
      let bigReply = "";
      big.on("data", (x) => (bigReply += x.toString()));
      big.on("error", () => {});
      const GB = 1 << 30;
      big.write(`POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: ${GB}\r\n\r\n`);
      // a server that answers on the header alone (Content-Length) closes before the body: the
      // client's next write would get EPIPE and lose the answer, so give it a moment first
      for (let i = 0; i < 10 && !bigReply && !big.destroyed; i++) await Bun.sleep(50);
      const chunk = Buffer.alloc(1 << 20);
      let sent = 0;
      const bigMs: number[] = [];
      const t0 = performance.now();
      const pump = (async () => {
        while (sent < GB && !big.destroyed && !bigReply) {
          if (!big.write(chunk)) await new Promise((r) => { big.once("drain", r); big.once("close", r); });
          sent += chunk.length;
        }
      })();
      while (sent < GB && !big.destroyed && !bigReply && performance.now() - t0 < 60_000) {
        bigMs.push(await statusMs());
        await Bun.sleep(50);
      }
      await Promise.race([pump, Bun.sleep(2000)]);
      big.destroy();
      // the same 1 GB as a chunked body (no length for a size limit to catch) to POST /v1/reload
      const reloadsBefore = (d.stderr().match(/reloaded: /g) ?? []).length;
      const ch = net.connect(sock);
      let chReply = "";
      ch.on("data", (x) => (chReply += x.toString()));
      ch.on("error", () => {});
      ch.write("POST /v1/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (let i = 0; i < 10 && !chReply && !ch.destroyed; i++) await Bun.sleep(50);
      const piece = Buffer.concat([Buffer.from((1 << 20).toString(16) + "\r\n"), Buffer.alloc(1 << 20, 97), Buffer.from("\r\n")]);
      let chSent = 0;
      const t1 = performance.now();
      while (chSent < 1024 && !ch.destroyed && !chReply && performance.now() - t1 < 20_000) {
        if (!ch.write(piece)) await new Promise((r) => { ch.once("drain", r); ch.once("close", r); });
        chSent++;
        if (chSent % 64 === 0) bigMs.push(await statusMs());
      }
      await Bun.sleep(200);
      ch.destroy();
      const reloadsAfter = (d.stderr().match(/reloaded: /g) ?? []).length;
      const malformed = await raw("THIS IS NOT HTTP\r\n\r\n");
      const badLength = await raw("GET /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n");
      const nobody = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-sS", "--unix-socket", sock, "http://localhost/v1/status"], { stderr: "pipe" });
      const peak = Math.max(...rss.stop());
      Object.assign(rep.figures, {
        "connections held": CONNS, "still open after probes": alive,
        "status ms during crowd (max)": Math.max(...crowdMs).toFixed(1),
        "1 GB body: MiB of body sent before the answer": (sent / 2 ** 20).toFixed(0),
        "1 GB body: answer": bigReply.split("\r\n")[0] || "(none; connection closed)",
        "1 GB chunked body to /v1/reload: MiB sent before the answer": chSent, "1 GB chunked body: answer": chReply.split("\r\n")[0] || "(none; connection closed)",
        "reloads done by the chunked request": reloadsAfter - reloadsBefore,
        "status ms during the 1 GB bodies (max)": bigMs.length ? Math.max(...bigMs).toFixed(1) : "n/a",
        "malformed HTTP answer": malformed.split("\r\n")[0] || "(none)",
        "negative Content-Length answer": badLength.split("\r\n")[0] || "(none)",
        "nobody": `curl exit ${nobody.exitCode}: ${nobody.stderr.toString().trim().slice(0, 120)}`,
        "peak RSS MiB": peak.toFixed(1),
      });
      expect(d.proc.exitCode).toBeNull();
      expect(Math.max(...crowdMs)).toBeLessThan(100);
      expect(bigReply).toMatch(/^HTTP\/1.1 4\d\d/);
      expect(bigMs.length ? Math.max(...bigMs) : 0).toBeLessThan(100);
      expect(chReply).toMatch(/^HTTP\/1.1 413/);
      expect(reloadsAfter - reloadsBefore).toBe(0);
      expect(peak).toBeLessThan(300);
      expect(malformed).toMatch(/^HTTP\/1.1 400/);
      expect(nobody.exitCode).toBe(7); // curl: could not connect
      expect(nobody.stderr.toString()).toMatch(/Permission denied|Couldn't connect/i);
      expect(await statusMs()).toBeLessThan(100);
    } finally {
      for (const s of crowd) s.destroy();
      await stopDaemon(d, 4000);
    }
  });
}, 120_000);
