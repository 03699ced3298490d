// `npm run bench -- start-ready`: start to READY and idle RSS of the compiled daemon. A python3
// helper plays systemd: it binds $NOTIFY_SOCKET, execs the daemon and takes CLOCK_MONOTONIC at the
// exec and at the READY=1 datagram (one clock, no pipe in between). Config: the kmsg and udev
// senders, every parser and the store, state in a temporary directory. The baseline is the same
// helper timing `storeventd version` from exec to exit (runtime start and module loading alone).
// Best of START_RUNS (default 5) runs each; idle RSS (VmRSS) is read 2 s after READY. Two series:
// the first start (an empty state directory: the store's database is created) and a restart (the
// state directory of the previous run kept), which is every start but the first.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const RUNS = Number(process.env.START_RUNS ?? 5);

// argv: mode ("ready" | "exit"), then the command. Prints "<ms> <idle VmRSS KiB>".
const HELPER = String.raw`
import os, socket, subprocess, sys, time
mode, cmd = sys.argv[1], sys.argv[2:]
path = "@kmsg15b-ready-%d" % os.getpid()
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:])
s.settimeout(10)
env = dict(os.environ, NOTIFY_SOCKET=path)
t0 = time.monotonic()
p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if mode == "exit":
    p.wait()
    print((time.monotonic() - t0) * 1000, 0)
    sys.exit(0)
while True:
    data = s.recv(65536).decode()
    if "READY=1" in data.split("\n"):
        ms = (time.monotonic() - t0) * 1000
        break
time.sleep(2)
rss = 0
for line in open("/proc/%d/status" % p.pid):
    if line.startswith("VmRSS:"):
        rss = int(line.split()[1])
p.terminate()
p.wait()
print(ms, rss)
`;

function run(helper: string, mode: "ready" | "exit", cmd: string[]): { ms: number; rssKiB: number } {
  const r = Bun.spawnSync(["python3", helper, mode, ...cmd], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`start-ready helper: ${r.stderr.toString()}`);
  const [ms, rss] = r.stdout.toString().trim().split(" ").map(Number);
  return { ms: ms!, rssKiB: rss! };
}

export default async function (): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), "kmsg15b-ready-"));
  try {
    const helper = join(dir, "helper.py");
    writeFileSync(helper, HELPER);
    const cfg = join(dir, "c.toml");
    writeFileSync(cfg, `[main]
state_dir = "${dir}/state"
control_socket = "${dir}/control.sock"
[kmsg]
type = "sender"
from = "end"
[udev]
type = "sender"
[store]
type = "receiver"
`);
    const bin = process.env.STOREVENTD_BIN ?? join(root, "dist/storeventd");
    const best = (mode: "ready" | "exit", cmd: string[], fresh = true) => {
      const runs = Array.from({ length: RUNS }, () => {
        if (fresh) rmSync(join(dir, "state"), { recursive: true, force: true });
        return run(helper, mode, cmd);
      });
      return { ms: Math.min(...runs.map((r) => r.ms)), rssKiB: Math.min(...runs.map((r) => r.rssKiB)), maxRssKiB: Math.max(...runs.map((r) => r.rssKiB)) };
    };
    const version = best("exit", [bin, "version"]);
    const ready = best("ready", [bin, "run", "-c", cfg]);
    const restart = best("ready", [bin, "run", "-c", cfg], false);
    return {
      version_exec_to_exit_ms: Number(version.ms.toFixed(1)),
      run_exec_to_ready_ms: Number(ready.ms.toFixed(1)),
      restart_exec_to_ready_ms: Number(restart.ms.toFixed(1)),
      "ratio ready / version": Number((ready.ms / version.ms).toFixed(2)),
      goal_ready_30ms: ready.ms <= 30 ? "met" : restart.ms <= 30 ? "met on restarts, not on the first start" : "not met",
      idle_rss_mib_min: Number((ready.rssKiB / 1024).toFixed(1)),
      idle_rss_mib_max: Number((ready.maxRssKiB / 1024).toFixed(1)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
