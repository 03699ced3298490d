// Scenario 6: reload storm. 100 SIGHUPs in 10 s, the config file alternating between a valid
// config (a marker file receiver whose path changes each time) and an invalid one; a prometheus
// receiver that never changes holds a keep-alive HTTP connection across the storm.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../helpers/receiver.ts";
import { waitFor } from "../helpers/wait.ts";
import { children, fdCount, instance, rssMiB, section, startRun, status, stopDaemon } from "./index.ts";

const HUPS = 100;
const dir = mkdtempSync(join(tmpdir(), "faults20-reload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sock = join(dir, "control.sock");
const cfg = join(dir, "c.toml");

const config = (port: number, k: number, valid: boolean) => `[main]
state_dir = "${dir}/state"
control_socket = "${sock}"
shutdown_timeout = "2s"

[prom]
type = "receiver"
plugin = "prometheus"
address = "127.0.0.1:${port}"

[marker]
type = "receiver"
plugin = "file"
path = "${dir}/marker-${k}.ndjson"
${valid ? "" : `no_such_key = ${k}\n`}`;

/** One HTTP/1.1 keep-alive connection: get() sends a request and resolves with the status line. */
async function keepAlive(port: number) {
  const s = net.connect(port, "127.0.0.1");
  await new Promise<void>((r, j) => s.once("connect", r).once("error", j));
  let closed = false;
  s.on("close", () => (closed = true));
  return {
    closed: () => closed,
    get: () => new Promise<string>((resolve, reject) => {
      let buf = "";
      const on = (d: Buffer) => {
        buf += d.toString();
        const m = /content-length: (\d+)\r\n/i.exec(buf);
        const end = buf.indexOf("\r\n\r\n");
        if (m && end >= 0 && buf.length >= end + 4 + Number(m[1])) {
          s.off("data", on);
          resolve(buf.split("\r\n")[0]!);
        }
      };
      s.on("data", on);
      s.once("error", reject);
      s.write(`GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
    }),
    end: () => s.destroy(),
  };
}

const rep = section({
  n: 6, title: "Reload storm",
  injects: `${HUPS} SIGHUPs in 10 s; before each the config file is rewritten, alternating valid (marker receiver path marker-<k>) and invalid (an unknown key)`,
  holds: [
    "no leak: RSS grows < 30 MiB, fds and child processes back to their count before the storm",
    "no service bounced: the unchanged prometheus receiver answers on a keep-alive connection opened before the storm",
    "the last valid config runs: the marker receiver writes to the path of the last valid config",
  ],
});
rep.note("Timers are not visible from outside the process; the fd and child counts stand in for them.");

test(`reload storm: ${HUPS} SIGHUPs, valid and invalid alternating`, async () => {
  await rep.run(async () => {
    const port = await freePort();
    writeFileSync(cfg, config(port, 0, true));
    const d = await startRun(cfg);
    const pid = d.proc.pid;
    const conn = await keepAlive(port);
    try {
      expect(await conn.get()).toMatch(/^HTTP\/1.1 200/);
      await Bun.sleep(500);
      const before = { rss: rssMiB(pid), fds: fdCount(pid), kids: children(pid).length };
      let lastValid = 0;
      const t0 = performance.now();
      for (let k = 1; k <= HUPS; k++) {
        const valid = k % 2 === 1;
        writeFileSync(cfg, config(port, k, valid));
        if (valid) lastValid = k;
        d.proc.kill("SIGHUP");
        await Bun.sleep(100);
      }
      rep.figures["storm seconds"] = ((performance.now() - t0) / 1000).toFixed(1);
      const want = join(dir, `marker-${lastValid}.ndjson`);
      const got = await waitFor(async () => {
        const p = String(instance(await status(sock), "marker").extra?.path);
        return p === want && p;
      }, 10_000, `the marker receiver on marker-${lastValid}`).catch(async () => String(instance(await status(sock), "marker").extra?.path));
      await Bun.sleep(1000);
      const after = { rss: rssMiB(pid), fds: fdCount(pid), kids: children(pid).length };
      const reloaded = (d.stderr().match(/reloaded: /g) ?? []).length;
      const rejected = (d.stderr().match(/reload failed/g) ?? []).length;
      Object.assign(rep.figures, {
        "RSS before MiB": before.rss.toFixed(1), "RSS after MiB": after.rss.toFixed(1),
        "fds before": before.fds, "fds after": after.fds, "children before": before.kids, "children after": after.kids,
        "reloads applied": reloaded, "reloads rejected": rejected, "marker path after": got.replace(dir + "/", ""), "last valid": `marker-${lastValid}.ndjson`,
      });
      expect(d.proc.exitCode).toBeNull();
      expect(conn.closed()).toBe(false);
      expect(await conn.get()).toMatch(/^HTTP\/1.1 200/);
      expect(got).toBe(want);
      expect(after.rss - before.rss).toBeLessThan(30);
      expect(after.fds).toBeLessThanOrEqual(before.fds);
      expect(after.kids).toBeLessThanOrEqual(before.kids);
    } finally {
      conn.end();
      await stopDaemon(d, 4000);
    }
  });
}, 60_000);
