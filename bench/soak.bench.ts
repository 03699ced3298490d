// `npm run bench -- soak`: memory over time. The compiled daemon runs every receiver this machine
// can serve locally while SOAK_RATE (default 2000) events/s of mixed input flow for SOAK_SECONDS
// (default 30): kernel lines from the parser fixtures written to /dev/kmsg as user records, real
// uevents from loop-device churn, and events2 changes from the fake drbdsetup (restarted every
// 500 ms, each run a full lifecycle). RSS, JS heap and fds are sampled every second; the figures are
// least-squares slopes over the samples after a warm-up (goal: indistinguishable from zero) and peaks.
// The heap is judged by its floor: the lowest heap_used per window (SOAK_WINDOW seconds, default 60)
// and that floor's slope, since a sample's heap mostly says where the collector happened to be.
// SOAK_HEAP_DIR=<dir>: the daemon writes JSC object counts per type there at the end of the warm-up
// and at the end (STOREVENTD_HEAP_STATS + SIGUSR2), and the bench prints the types that grew most.
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { acquireSysctls } from "../test/helpers/sysctl.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const RATE = Number(process.env.SOAK_RATE ?? 2000);
const WINDOW = Number(process.env.SOAK_WINDOW ?? 60);
const HEAP_DIR = process.env.SOAK_HEAP_DIR;

/** Kernel message texts (no record header) from every parser's fixture input. */
function kernelLines(): string[] {
  const out: string[] = [];
  const base = join(root, "plugins/parser");
  for (const p of readdirSync(base)) {
    let cases: string[] = [];
    try { cases = readdirSync(join(base, p, "testdata")); } catch { continue; }
    for (const c of cases) {
      let text = "";
      try { text = readFileSync(join(base, p, "testdata", c, "input.kmsg"), "utf8"); } catch { continue; }
      for (const l of text.split("\n")) {
        const m = /^\d+,\d+,\d+,[^;]*;(.+)$/.exec(l);
        if (m) out.push(m[1]!);
      }
    }
  }
  return out;
}

function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i]! - mx) * (ys[i]! - my); den += (xs[i]! - mx) ** 2; }
  return den ? num / den : 0;
}

/** The slope's standard error: |slope| under 2 of them is indistinguishable from zero here. */
function slopeError(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 3) return NaN;
  const b = slope(xs, ys);
  const mx = xs.reduce((a, c) => a + c, 0) / n;
  const my = ys.reduce((a, c) => a + c, 0) / n;
  let sse = 0;
  let den = 0;
  for (let i = 0; i < n; i++) { sse += (ys[i]! - my - b * (xs[i]! - mx)) ** 2; den += (xs[i]! - mx) ** 2; }
  return den ? Math.sqrt(sse / (n - 2) / den) : NaN;
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

export default async function soak(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), "faults20-soak-"));
  const fake = join(dir, "fake");
  mkdirSync(fake);
  writeFileSync(join(fake, "stream"), readFileSync(join(root, "test/drbd/streams/lifecycle.events2")));
  writeFileSync(join(fake, "die-after"), "79");
  const sock = join(dir, "control.sock");
  const port = await freePort();
  const mport = await freePort();
  writeFileSync(join(dir, "c.toml"), `[main]
state_dir = "${dir}/state"
control_socket = "${sock}"
shutdown_timeout = "2s"
[kmsg]
type = "sender"
accept_user_records = true
[udev]
type = "sender"
[drbd]
type = "sender"
path = "${join(root, "test/drbd/bin/drbdsetup")}"
restart-min = "500ms"
[events]
type = "receiver"
plugin = "file"
path = "${dir}/events.ndjson"
fsync = "never"
[store]
type = "receiver"
[prom]
type = "receiver"
plugin = "prometheus"
address = "127.0.0.1:${port}"
[mc]
type = "receiver"
plugin = "multicast"
group = "239.0.0.77:${mport}"
ttl = 1
interface = "127.0.0.1"
loopback = true
[hook]
type = "receiver"
plugin = "exec"
command = ["sh", "-c", "cat >/dev/null"]
batch = true
[[debugger]]
`);
  const restore = acquireSysctls({ "kernel.printk_devkmsg": "on", "kernel.printk": "1 4 1 7" });
  const bin = process.env.STOREVENTD_BIN ?? join(root, "dist/storeventd");
  const heapEnv = HEAP_DIR ? { STOREVENTD_HEAP_STATS: join(HEAP_DIR, "heap") } : {};
  if (HEAP_DIR) mkdirSync(HEAP_DIR, { recursive: true });
  const d = Bun.spawn([bin, "run", "-c", join(dir, "c.toml")], { env: { ...process.env, ...heapEnv, FAKE_DRBDSETUP_DIR: fake }, stdout: "ignore", stderr: Bun.file(join(dir, "stderr")) });
  // an interrupted soak still restores the sysctls and stops its daemon
  const onSignal = () => { restore(); d.kill("SIGKILL"); rmSync(dir, { recursive: true, force: true }); process.exit(130); };
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  const backing = join(dir, "loop.img");
  writeFileSync(backing, Buffer.alloc(1 << 20));
  const lines = kernelLines();
  const samples: { t: number; rss: number; heap: number; fds: number }[] = [];
  const warmUp = Math.min(10, SECONDS / 5);
  let written = 0;
  let churns = 0;
  try {
    for (let i = 0; i < 100; i++) { try { await fetch("http://localhost/v1/status", { unix: sock } as RequestInit); break; } catch { await Bun.sleep(100); } }
    const fd = openSync("/dev/kmsg", "w");
    const t0 = performance.now();
    let nextSample = 0;
    let churning = false;
    let snapped = !HEAP_DIR;
    try {
      for (let tick = 0; performance.now() - t0 < SECONDS * 1000; tick++) {
        // ~90% kernel lines, the rest uevents (a loop attach+detach is ~8 of them) and events2
        for (let i = 0; i < (RATE * 0.9) / 10; i++) writeSync(fd, `${lines[written++ % lines.length]} [soak ${written}]\n`);
        if (!churning && tick % 2 === 0) {
          churning = true;
          void (async () => {
            const a = Bun.spawn(["losetup", "--find", "--show", backing], { stdout: "pipe", stderr: "ignore" });
            const dev = (await new Response(a.stdout).text()).trim();
            if (dev) await Bun.spawn(["losetup", "-d", dev]).exited;
            churns++;
            churning = false;
          })();
        }
        const el = performance.now() - t0;
        if (!snapped && el >= warmUp * 1000) { snapped = true; d.kill("SIGUSR2"); }
        if (el >= nextSample) {
          nextSample += 1000;
          try {
            const st = await fetch("http://localhost/v1/status", { unix: sock } as RequestInit).then((r) => r.json()) as { memory: { rss: number; heap_used: number } };
            samples.push({ t: el / 1000, rss: st.memory.rss / 2 ** 20, heap: st.memory.heap_used / 2 ** 20, fds: readdirSync(`/proc/${d.pid}/fd`).length });
          } catch {}
        }
        const next = t0 + (tick + 1) * 100;
        await Bun.sleep(Math.max(0, next - performance.now()));
      }
    } finally {
      closeSync(fd);
    }
    if (HEAP_DIR) { d.kill("SIGUSR2"); await Bun.sleep(3000); }
  } finally {
    restore();
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    d.kill("SIGTERM");
    const t = setTimeout(() => d.kill("SIGKILL"), 5000);
    await d.exited;
    clearTimeout(t);
  }
  const stderr = readFileSync(join(dir, "stderr"), "utf8");
  rmSync(dir, { recursive: true, force: true });
  const warm = samples.filter((s) => s.t >= warmUp);
  const ts = warm.map((s) => s.t / 60);
  // the heap's floor per window, and the slopes over the last 20 minutes (or the last two thirds)
  const floors: { t: number; heap: number; rss: number }[] = [];
  for (let w = 0; w * WINDOW < SECONDS; w++) {
    const inW = warm.filter((s) => s.t >= w * WINDOW && s.t < (w + 1) * WINDOW);
    if (inW.length) floors.push({ t: (w + 0.5) * WINDOW / 60, heap: Math.min(...inW.map((s) => s.heap)), rss: Math.min(...inW.map((s) => s.rss)) });
  }
  const lateFrom = SECONDS >= 1800 ? SECONDS - 1200 : SECONDS / 3;
  const late = warm.filter((s) => s.t >= lateFrom);
  const lateFloors = floors.filter((f) => f.t * 60 >= lateFrom);
  if (process.env.SOAK_SAMPLES) writeFileSync(process.env.SOAK_SAMPLES, samples.map((s) => `${s.t.toFixed(1)} ${s.rss.toFixed(2)} ${s.heap.toFixed(2)} ${s.fds}`).join("\n") + "\n");
  return {
    seconds: SECONDS, kernel_lines_per_s: Math.round(written / SECONDS), loop_churns: churns, samples: samples.length,
    "rss_slope_MiB/min": Number(slope(ts, warm.map((s) => s.rss)).toFixed(3)),
    "heap_slope_MiB/min": Number(slope(ts, warm.map((s) => s.heap)).toFixed(3)),
    "fds_slope_per_min": Number(slope(ts, warm.map((s) => s.fds)).toFixed(3)),
    [`late_from_s`]: Math.round(lateFrom),
    "late_rss_slope_MiB/min": Number(slope(late.map((s) => s.t / 60), late.map((s) => s.rss)).toFixed(3)),
    "late_heap_floor_slope_MiB/min": Number(slope(lateFloors.map((f) => f.t), lateFloors.map((f) => f.heap)).toFixed(3)),
    "late_heap_floor_slope_stderr": Number(slopeError(lateFloors.map((f) => f.t), lateFloors.map((f) => f.heap)).toFixed(3)),
    "late_rss_floor_slope_MiB/min": Number(slope(lateFloors.map((f) => f.t), lateFloors.map((f) => f.rss)).toFixed(3)),
    "late_rss_floor_slope_stderr": Number(slopeError(lateFloors.map((f) => f.t), lateFloors.map((f) => f.rss)).toFixed(3)),
    "late_fds_slope_per_min": Number(slope(late.map((s) => s.t / 60), late.map((s) => s.fds)).toFixed(3)),
    heap_floor_per_window_MiB: floors.map((f) => f.heap.toFixed(0)).join(" "),
    rss_floor_per_window_MiB: floors.map((f) => f.rss.toFixed(0)).join(" "),
    rss_peak_MiB: Number(Math.max(...samples.map((s) => s.rss)).toFixed(1)),
    heap_peak_MiB: Number(Math.max(...samples.map((s) => s.heap)).toFixed(1)),
    fds_peak: Math.max(...samples.map((s) => s.fds)),
    rss_first_last_MiB: `${warm[0]?.rss.toFixed(1)} -> ${warm.at(-1)?.rss.toFixed(1)}`,
    daemon_errors_logged: (stderr.match(/^error:/gm) ?? []).length,
    ...(samples.length ? {} : { daemon_stderr: stderr.slice(0, 600) }),
    ...(HEAP_DIR ? { heap_types_grown: heapGrowth(HEAP_DIR) } : {}),
  };
}

/** The object types whose count grew most between the daemon's first and last heap stats. */
function heapGrowth(dir: string): string {
  const files = readdirSync(dir).filter((f) => /^heap\.\d+\.json$/.test(f)).sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
  if (files.length < 2) return `(only ${files.length} heap stats file)`;
  const read = (f: string) => (JSON.parse(readFileSync(join(dir, f), "utf8")) as { objectTypeCounts: Record<string, number> }).objectTypeCounts;
  const a = read(files[0]!);
  const b = read(files.at(-1)!);
  return Object.keys({ ...a, ...b }).map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)] as const)
    .sort((x, y) => y[1] - x[1]).slice(0, 12).map(([k, n]) => `${k} ${n > 0 ? "+" : ""}${n}`).join(", ");
}
