// Bounded stop through the compiled binary: an `exec` receiver whose command never returns (it
// ignores SIGTERM) holds a send() forever; SIGTERM still ends the daemon within shutdown_timeout +
// 2 s, the stuck command's process group is killed, and no command is spawned after SIGTERM.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import { runBin, startDaemon } from "./helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "core-life-stop-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("SIGTERM with an exec receiver that never returns: exits within shutdown_timeout + 2 s, spawns nothing after", async () => {
  const spawns = join(dir, "spawns");
  const stuck = join(dir, "stuck.sh");
  // Ignores SIGTERM (and so do its sleeps): only SIGKILL of its group ends it.
  writeFileSync(stuck, `#!/bin/sh\ntrap '' TERM\necho "$$ $(date +%s%N)" >> ${spawns}\nwhile :; do sleep 1; done\n`, { mode: 0o755 });
  const cfg = join(dir, "run.toml");
  writeFileSync(cfg, `[main]
hostname = "n1"
state_dir = "${dir}/state"
control_socket = "${dir}/ctl.sock"
shutdown_timeout = "1s"
[script]
type = "receiver"
plugin = "exec"
command = ["${stuck}"]
parallel = 1
timeout = "1h"
queue = { batch = 1 }
`);
  const d = await startDaemon(["run", "-c", cfg], (s) => s.includes("started"));
  const lines = () => (existsSync(spawns) ? readFileSync(spawns, "utf8").trim().split("\n").filter(Boolean) : []);
  const end = performance.now() + 10_000;
  while (lines().length < 1 && performance.now() < end) await Bun.sleep(20);
  expect(lines()).toHaveLength(1); // DAEMON_STARTED's command, stuck
  // More events wait behind it: a reload's DAEMON_RELOADED (and DAEMON_STOPPING at stop).
  d.proc.kill("SIGHUP");
  await d.waitStderr((s) => s.includes("reloaded"));
  const t0 = performance.now();
  const sentAtNs = BigInt(Date.now()) * 1_000_000n;
  d.proc.kill("SIGTERM");
  const code = await d.proc.exited;
  const ms = performance.now() - t0;
  expect(ms).toBeLessThan(1000 + 2000);
  expect(code).toBe(0);
  expect(d.stderr()).toContain("did not drain within");
  // Still the one command from before SIGTERM; none started after.
  const spawned = lines();
  expect(spawned).toHaveLength(1);
  expect(BigInt(spawned[0]!.split(" ")[1]!)).toBeLessThan(sentAtNs);
  // Its process group was killed (SIGKILL: it ignores SIGTERM).
  const pid = Number(spawned[0]!.split(" ")[0]);
  const gone = performance.now() + 2000;
  while (alive(pid) && performance.now() < gone) await Bun.sleep(20);
  expect(alive(pid)).toBe(false);
}, 30_000);

test("a receiver that cannot start at start-up: the daemon says which and exits, the others closed", async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
  const port = (busy.address() as net.AddressInfo).port;
  const cfg = join(dir, "fail.toml");
  writeFileSync(cfg, `[main]
hostname = "n1"
state_dir = "${dir}/state-fail"
control_socket = "${dir}/ctl-fail.sock"
[f]
type = "receiver"
plugin = "file"
path = "${dir}/fail.ndjson"
[[prometheus]]
address = "127.0.0.1:${port}"
`);
  try {
    const t0 = performance.now();
    const r = await runBin(["run", "-c", cfg], { timeoutMs: 20_000 });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`[prometheus[0]] cannot start`);
    expect(r.stderr).toContain(`${cfg}:9`);
  } finally {
    busy.close();
  }
});
