// `npm run bench -- kmsg-live`: can the compiled daemon's kmsg sender keep up with the real
// /dev/kmsg? A C writer (bench/kmsg-writer.c) writes KMSG_LIVE_RECORDS (default 1M) records paced at
// KMSG_LIVE_RATE records/s (default 200k; 0: as fast as it can) into /dev/kmsg (printk_devkmsg=on and the
// console loglevel at 1, both restored); the daemon runs the kmsg sender and every parser. Reported:
// the write rate reached, the rate the sender read at, and its overrun count (KMSG_OVERRUN events).
// The baseline is the plainest C reader (bench/kmsg-count.c) during a separate run of the same writer.
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { acquireSysctls } from "../test/helpers/sysctl.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const RECORDS = Number(process.env.KMSG_LIVE_RECORDS ?? 1_000_000);
const RATE = Number(process.env.KMSG_LIVE_RATE ?? 200_000);

function lines(tag: string): string[] {
  const noise = [
    "usb 1-1: new high-speed USB device number 3 using xhci_hcd",
    "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
    "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
    "x86/mm: Checked W+X mappings: passed, no W+X pages found.",
  ];
  const storage = [
    "sd 2:0:0:0: [sdb] tag#12 Sense Key : Medium Error [current]",
    "blk_update_request: I/O error, dev sdb, sector 2048 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
    "device-mapper: multipath: 253:3: Failing path 8:16.",
    "EXT4-fs (dm-0): mounted filesystem with ordered data mode. Quota mode: none.",
  ];
  const out: string[] = [];
  for (let i = 0; i < 100; i++) out.push(`${i % 10 === 0 ? storage[(i / 10) % storage.length] : noise[i % noise.length]} [${tag} ${i}]`);
  return out;
}

/** Compiles bench/<name>.c into dir (cc is there: the addon needs it). */
function cc(dir: string, name: string): string {
  const bin = join(dir, name);
  const r = Bun.spawnSync(["cc", "-O2", "-o", bin, join(import.meta.dir, `${name}.c`)], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`cc ${name}.c: ${r.stderr.toString()}`);
  return bin;
}

/** The C writer (bench/kmsg-writer.c): n records at `rate`/s, cycling through lines(tag). */
function runWriter(dir: string, tag: string, n: number, rate: number): Promise<{ records: number; seconds: number }> {
  const p = Bun.spawn([join(dir, "kmsg-writer"), String(n), String(rate)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  p.stdin.write(lines(tag).join("\n") + "\n");
  p.stdin.end();
  return (async () => {
    const [records, seconds] = (await new Response(p.stdout).text()).trim().split(" ").map(Number);
    if ((await p.exited) !== 0 || !records) throw new Error("kmsg-writer failed");
    return { records: records!, seconds: seconds! };
  })();
}

/** The baseline: the plain C read loop (bench/kmsg-count.c) during a separate run of the same writer. */
async function plainRead(dir: string, tag: string, n: number, rate: number) {
  const p = Bun.spawn([join(dir, "kmsg-count"), tag], { stdout: "pipe", stderr: "inherit" });
  const reader = p.stdout.getReader();
  const dec = new TextDecoder();
  let text = "";
  while (!text.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("kmsg-count did not start");
    text += dec.decode(value);
  }
  const w = await runWriter(dir, tag, n, rate);
  writeFileSync("/dev/kmsg", `${tag} end\n`);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value);
  }
  const [got, overruns, secs] = text.slice(text.indexOf("ready\n") + 6).trim().split(" ").map(Number);
  return { got: got!, overruns: overruns!, secs: secs!, wrote: w.records / w.seconds };
}

/** Writes one marker record and returns its seq (read back from an fd opened at the ring's end). */
function markerSeq(text: string): number {
  const fd = openSync("/dev/kmsg", constants.O_RDONLY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(8192);
  try {
    for (;;) { try { if (readSync(fd, buf, 0, buf.length, null) <= 0) break; } catch (e) { if ((e as NodeJS.ErrnoException).code === "EAGAIN") break; } }
    writeFileSync("/dev/kmsg", text + "\n");
    for (;;) {
      let n = 0;
      try { n = readSync(fd, buf, 0, buf.length, null); } catch (e) { if ((e as NodeJS.ErrnoException).code === "EAGAIN") { Bun.sleepSync(1); continue; } if ((e as NodeJS.ErrnoException).code === "EPIPE") continue; throw e; }
      const rec = buf.toString("utf8", 0, n);
      if (rec.includes(text)) return Number(rec.split(",")[1]);
    }
  } finally {
    closeSync(fd);
  }
}

type Status = { instances: { name: string; counters: Record<string, number>; extra?: Record<string, unknown> }[] };

async function daemonRead(dir: string, tag: string, n: number, rate: number) {
  const sock = join(dir, "control.sock");
  writeFileSync(join(dir, "c.toml"), `[main]
state_dir = "${dir}/state"
control_socket = "${sock}"
[kmsg]
type = "sender"
from = "end"
accept_user_records = true
`);
  const bin = process.env.STOREVENTD_BIN ?? join(root, "dist/storeventd");
  const d = Bun.spawn([bin, "run", "-c", join(dir, "c.toml")], { stdout: "ignore", stderr: Bun.file(join(dir, "stderr")) });
  const status = async () => {
    const st = (await fetch("http://localhost/v1/status", { unix: sock } as RequestInit).then((r) => r.json())) as Status;
    const k = st.instances.find((i) => i.name === "kmsg")!;
    return { ...(k.extra ?? {}), ...k.counters } as Record<string, number>;
  };
  try {
    let before: Record<string, number> | undefined;
    for (let i = 0; i < 100 && !before; i++) before = await status().catch(() => Bun.sleep(100).then(() => undefined));
    if (!before) throw new Error(`the daemon did not start: ${readFileSync(join(dir, "stderr"), "utf8")}`);
    const t0 = performance.now();
    const w = await runWriter(dir, tag, n, rate);
    const end = markerSeq(`${tag} end`);
    let now = before;
    // until the sender's cursor passes the marker (other programs may keep writing meanwhile)
    for (let i = 0; ; i++) {
      now = await status();
      if ((now.cursor_seq ?? 0) >= end) break;
      if (i > 6000) throw new Error(`the sender never reached seq ${end}: ${JSON.stringify(now)}`);
      await Bun.sleep(10);
    }
    const secs = (performance.now() - t0) / 1000;
    const rss = Number(readFileSync(`/proc/${d.pid}/status`, "utf8").match(/^VmHWM:\s+(\d+)/m)?.[1] ?? 0) / 1024;
    const diff = (k: string) => (now[k] ?? 0) - (before![k] ?? 0);
    return { read: diff("records"), overruns: diff("overruns"), lost: diff("lost"), secs, wrote: w.records / w.seconds, peakRss: rss };
  } finally {
    d.kill("SIGTERM");
    await d.exited;
  }
}

export default async function (): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), "kmsg15b-live-"));
  // no ratelimit on user writes; nothing but emergencies on the console (printing is slow)
  const restore = acquireSysctls({ "kernel.printk_devkmsg": "on", "kernel.printk": `1 ${readFileSync("/proc/sys/kernel/printk", "utf8").trim().split(/\s+/).slice(1).join(" ")}` });
  const onSignal = () => { restore(); rmSync(dir, { recursive: true, force: true }); process.exit(130); };
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    const tag = `kmsg15b-live-${process.pid}`;
    cc(dir, "kmsg-writer");
    cc(dir, "kmsg-count");
    const base = await plainRead(dir, `${tag}-plain`, RECORDS, RATE);
    const dmn = await daemonRead(dir, `${tag}-daemon`, RECORDS, RATE);
    return {
      records: RECORDS,
      target_rate: RATE,
      plain_writer_records_per_s: Math.round(base.wrote),
      plain_read_records: base.got,
      plain_read_records_per_s: Math.round(base.got / base.secs),
      plain_read_overruns: base.overruns,
      daemon_writer_records_per_s: Math.round(dmn.wrote),
      daemon_read_records: dmn.read,
      daemon_read_records_per_s: Math.round(dmn.read / dmn.secs),
      daemon_overruns: dmn.overruns,
      daemon_lost_records: dmn.lost,
      daemon_peak_rss_mib: Math.round(dmn.peakRss),
      "ratio daemon_read / plain_read": Number((dmn.read / dmn.secs / (base.got / base.secs)).toFixed(3)),
      kept_up_without_overrun: dmn.overruns === 0 && dmn.wrote >= RATE * 0.95 ? "yes" : dmn.overruns ? "no (overrun)" : "writer below target",
    };
  } finally {
    restore();
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    rmSync(dir, { recursive: true, force: true });
  }
}
