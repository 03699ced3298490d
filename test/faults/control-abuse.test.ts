// Scenario 7: control socket abuse. 1000 connections held open at once (half idle, half
// slowloris: a request header one byte at a time), a 1 GB request body, malformed HTTP and a user
// outside the socket's group; meanwhile `status` must keep answering within 100 ms. The idle and
// slowloris connections are then closed by the daemon (its fds back to where they were), and
// connections beyond the cap get a clear 503. The crowd and the bodies come from child processes
// (control-crowd.ts, control-abuser.ts) so a late status probe is the daemon's delay, not this loop's.
import { afterAll, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { chmodSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONTROL_LIMITS } from "../../src/control/server.ts";
import { fdCount, rssMiB, sampler, section, startRun, status, stopDaemon } from "./index.ts";

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

/** The daemon's fd count once it is at most `target`, or after `ms` (monotonic) what it is then:
 * closed connections linger up to ANSWER_READ_MS + LINGER_MS (3 s) so their last answer gets out. */
async function fdsSettled(pid: number, target: number, ms = 6000): Promise<number> {
  const until = performance.now() + ms;
  let n = fdCount(pid);
  while (n > target && performance.now() < until) { await Bun.sleep(100); n = fdCount(pid); }
  return n;
}

/** What the daemon's fds are, for the report when a count is above its baseline. */
const fdList = (pid: number) => readdirSync(`/proc/${pid}/fd`).map((f) => { try { return readlinkSync(`/proc/${pid}/fd/${f}`); } catch { return "?"; } });

async function statusMs(): Promise<number> {
  const t0 = performance.now();
  await status(sock, 2000);
  return performance.now() - t0;
}

const rep = section({
  n: 7, title: "Control socket abuse",
  injects: `${CONNS} connections held open at once (half idle, half slowloris sending one header byte every 200 ms), a POST with a 1 GB body streamed as fast as the socket takes it, on past the answer until the daemon hangs up (Content-Length, then chunked to /v1/reload), malformed HTTP, a connection from the user nobody`,
  holds: [
    "status answers within 100 ms (worst of the probes) more than its worst of 10 probes without abuse, during the crowd and during the 1 GB body",
    "the 1 GB body gets a 4xx (413) and RSS stays under 300 MiB; sent chunked (no length) to POST /v1/reload it gets 413 too and reloads nothing",
    "malformed HTTP gets 400",
    "nobody (not in the socket's group) cannot connect (EACCES: the socket is 0660, access control is the file system's)",
    `the daemon closes the idle connections (silent ${CONTROL_LIMITS.idleMs / 1000} s) and the slowloris ones (header unfinished after ${CONTROL_LIMITS.headerMs / 1000} s: 408) by itself; its fds return to their count before the crowd`,
    `beyond ${CONTROL_LIMITS.maxConnections} connections a new one gets 503 too_many_connections; once they close, status answers again and the fds return to baseline`,
  ],
});

test("control socket abuse: crowd, slowloris, 1 GB body, malformed HTTP, non-member", async () => {
  await rep.run(async () => {
    const d = await startRun(cfg);
    const pid = d.proc.pid;
    const rss = sampler(() => rssMiB(pid), 50);
    const children: Subprocess[] = [];
    const capped: net.Socket[] = [];
    try {
      await status(sock, 2000);
      await Bun.sleep(200);
      // The same probe with no abuse: on a loaded machine scheduling alone can take tens of ms, and
      // what must hold is that abuse adds no more than 100 ms to it.
      const baseMs: number[] = [];
      for (let i = 0; i < 10; i++) { baseMs.push(await statusMs()); await Bun.sleep(50); }
      const bound = 100 + Math.max(...baseMs);
      rep.figures["status ms without abuse (worst of 10)"] = Math.max(...baseMs).toFixed(1);
      const fdsBefore = fdCount(pid);
      // The crowd comes from another process (as the 1 GB bodies below), so this loop only probes.
      const crowdProc = Bun.spawn([process.execPath, join(import.meta.dir, "control-crowd.ts"), sock, String(CONNS), String(CONTROL_LIMITS.idleMs + 16_500)], { stdout: "pipe", stderr: "inherit" });
      children.push(crowdProc);
      const lines = crowdProc.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!out.includes("\n")) { const r = await lines.read(); if (r.done) break; out += r.value; }
      expect(out).toMatch(/^open \d/);
      const crowdMs: number[] = [];
      for (let i = 0; i < 10; i++) { crowdMs.push(await statusMs()); await Bun.sleep(100); }
      const probesEnd = performance.timeOrigin + performance.now();
      // Nobody closes the crowd but the daemon: idle ones after idleMs, slowloris after headerMs.
      for (;;) { const r = await lines.read(); if (r.done) break; out += r.value; }
      const cr = JSON.parse(out.trim().split("\n").pop()!) as { t0: number; closedAt: (number | null)[]; answers: string[] };
      const alive = cr.closedAt.filter((x) => x === null || x > probesEnd).length;
      const answers408 = cr.answers;
      const closedIn = (odd: number) => cr.closedAt.flatMap((x, i) => (i % 2 === odd && x !== null ? [x - cr.t0] : []));
      const idleClosed = closedIn(0);
      const slowClosed = closedIn(1);
      const fdsAfterCrowd = await fdsSettled(pid, fdsBefore);
      const gateCounters = (await status(sock, 2000)).control as Record<string, number>;
      // The cap: connections beyond it are answered 503 and closed at once.
      const refusals: string[] = [];
      for (let i = 0; i < CONTROL_LIMITS.maxConnections + 16; i++) {
        const s = await connect();
        s.on("data", (b) => refusals.push(b.toString()));
        capped.push(s);
      }
      await Bun.sleep(300);
      const statusWhenFull = await raw("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n", 2000);
      for (const s of capped) s.destroy();
      await Bun.sleep(1500);
      const statusAfterCap = await statusMs();
      const fdsAfterCap = await fdsSettled(pid, fdsBefore);
      // The 1 GB bodies (Content-Length, then chunked to /v1/reload) come from another process,
      // so this loop only probes: a late probe is the daemon's delay, not this process's upload.
      const reloadsBefore = (d.stderr().match(/reloaded: /g) ?? []).length;
      const abuser = Bun.spawn([process.execPath, join(import.meta.dir, "control-abuser.ts"), sock, "1500"], { stdout: "pipe", stderr: "inherit" });
      children.push(abuser);
      const abuserOut = new Response(abuser.stdout).text();
      const probes: { at: number; ms: number }[] = [];
      const t0 = performance.now();
      while (abuser.exitCode === null && performance.now() - t0 < 90_000) {
        const at = performance.timeOrigin + performance.now();
        probes.push({ at, ms: await statusMs() });
        await Bun.sleep(50);
      }
      await Promise.race([abuser.exited, Bun.sleep(5000)]);
      if (abuser.exitCode === null) abuser.kill("SIGKILL");
      type Kind = { replies: string[]; mib: number; attempts: number; start: number; end: number };
      const ab = JSON.parse((await abuserOut).trim().split("\n").pop()!) as { length: Kind; chunked: Kind };
      // the probes while a body streamed in (between its first MiB and its end)
      const during = (k: Kind) => probes.filter((p) => p.at >= k.start && p.at <= k.end).map((p) => p.ms);
      const bigMs = probes.map((p) => p.ms);
      const lengthMs = during(ab.length);
      const chunkedMs = during(ab.chunked);
      const reloadsAfter = (d.stderr().match(/reloaded: /g) ?? []).length;
      const malformed = await raw("THIS IS NOT HTTP\r\n\r\n");
      const badLength = await raw("GET /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n");
      const nobody = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-sS", "--unix-socket", sock, "http://localhost/v1/status"], { stderr: "pipe" });
      const peak = Math.max(...rss.stop());
      const fdsAtEnd = await fdsSettled(pid, fdsBefore);
      const fdsNamed = fdsAtEnd > fdsBefore ? fdList(pid) : [];
      Object.assign(rep.figures, {
        "connections held": CONNS, "still open after probes": alive,
        "status ms during crowd (max)": Math.max(...crowdMs).toFixed(1),
        "1 GB body: attempts in 1.5 s, MiB of body sent in all (on past the answer until the daemon hung up)": `${ab.length.attempts}, ${ab.length.mib.toFixed(0)}`,
        "1 GB body: answers": [...new Set(ab.length.replies)].join(", "),
        "1 GB chunked body to /v1/reload: attempts, MiB sent": `${ab.chunked.attempts}, ${ab.chunked.mib.toFixed(0)}`,
        "1 GB chunked body: answers": [...new Set(ab.chunked.replies)].join(", "),
        "reloads done by the 1 GB requests": reloadsAfter - reloadsBefore,
        "status ms during the 1 GB bodies (max; probes)": bigMs.length ? `${Math.max(...bigMs).toFixed(1)} (${bigMs.length})` : "n/a",
        "status ms during the Content-Length body / the chunked body (max)": `${lengthMs.length ? Math.max(...lengthMs).toFixed(1) : "n/a"} / ${chunkedMs.length ? Math.max(...chunkedMs).toFixed(1) : "n/a"}`,
        "malformed HTTP answer": malformed.split("\r\n")[0] || "(none)",
        "negative Content-Length answer": badLength.split("\r\n")[0] || "(none)",
        "nobody": `curl exit ${nobody.exitCode}: ${nobody.stderr.toString().trim().slice(0, 120)}`,
        "peak RSS MiB": peak.toFixed(1),
        "daemon fds before the crowd / after it was closed / after the cap / at the end": `${fdsBefore} / ${fdsAfterCrowd} / ${fdsAfterCap} / ${fdsAtEnd}`,
        ...(fdsNamed.length ? { "daemon fds at the end (above baseline)": fdsNamed.join(" ") } : {}),
        "idle connections closed by the daemon (s, first-last)": idleClosed.length ? `${idleClosed.length}/${CONNS / 2} (${(Math.min(...idleClosed) / 1000).toFixed(1)}-${(Math.max(...idleClosed) / 1000).toFixed(1)})` : "0",
        "slowloris connections closed by the daemon (s, first-last)": slowClosed.length ? `${slowClosed.length}/${CONNS / 2} (${(Math.min(...slowClosed) / 1000).toFixed(1)}-${(Math.max(...slowClosed) / 1000).toFixed(1)})` : "0",
        "slowloris answers": [...new Set(answers408)].join(", ") || "(none)",
        "gate counters": `idle_closed ${gateCounters.connections_idle_closed}, header_timeout ${gateCounters.connections_header_timeout}`,
        [`connections beyond the cap (${CONTROL_LIMITS.maxConnections}) refused`]: refusals.length,
        "status when full": statusWhenFull.split("\r\n")[0] || "(none)",
        "status ms after the cap's connections closed": statusAfterCap.toFixed(1),
      });
      expect(d.proc.exitCode).toBeNull();
      expect(Math.max(...crowdMs)).toBeLessThan(bound);
      for (const r of ab.length.replies) expect(r).toMatch(/^HTTP\/1.1 4\d\d/);
      expect(lengthMs.length).toBeGreaterThan(0);
      expect(chunkedMs.length).toBeGreaterThan(0);
      expect(Math.max(...bigMs)).toBeLessThan(bound);
      for (const r of ab.chunked.replies) expect(r).toMatch(/^HTTP\/1.1 413/);
      expect(reloadsAfter - reloadsBefore).toBe(0);
      expect(peak).toBeLessThan(300);
      expect(malformed).toMatch(/^HTTP\/1.1 400/);
      expect(nobody.exitCode).toBe(7); // curl: could not connect
      expect(nobody.stderr.toString()).toMatch(/Permission denied|Couldn't connect/i);
      expect(await statusMs()).toBeLessThan(bound);
      expect(idleClosed.length).toBe(CONNS / 2);
      expect(slowClosed.length).toBe(CONNS / 2);
      expect(Math.min(...idleClosed)).toBeGreaterThanOrEqual(CONTROL_LIMITS.idleMs - 1000);
      expect(Math.max(...idleClosed)).toBeLessThan(CONTROL_LIMITS.idleMs + 5000);
      expect(Math.max(...slowClosed)).toBeLessThan(CONTROL_LIMITS.headerMs + 5000);
      expect(new Set(answers408)).toEqual(new Set(["HTTP/1.1 408 Request Timeout"]));
      expect(gateCounters.connections_idle_closed).toBeGreaterThanOrEqual(CONNS / 2);
      expect(gateCounters.connections_header_timeout).toBeGreaterThanOrEqual(CONNS / 2);
      expect(fdsAfterCrowd).toBeLessThanOrEqual(fdsBefore);
      expect(refusals).toHaveLength(16);
      for (const r of refusals) expect(r).toMatch(/^HTTP\/1\.1 503 [\s\S]*"error":"too_many_connections"/);
      expect(statusWhenFull).toMatch(/^HTTP\/1\.1 503 [\s\S]*too_many_connections/);
      expect(statusAfterCap).toBeLessThan(bound);
      expect(fdsAfterCap).toBeLessThanOrEqual(fdsBefore);
      expect(fdsAtEnd).toBeLessThanOrEqual(fdsBefore);
    } finally {
      for (const s of capped) s.destroy();
      for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
      await stopDaemon(d, 4000);
    }
  });
}, 180_000);
