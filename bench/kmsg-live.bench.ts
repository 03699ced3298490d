// `npm run bench -- kmsg-live`: can the compiled daemon's kmsg sender keep up with the real
// /dev/kmsg? A writer process writes KMSG_LIVE_RECORDS (default 1M) records as fast as it can, or
// paced at KMSG_LIVE_RATE records/s (default 200k), into /dev/kmsg (printk_devkmsg=on and the
// console loglevel at 1, both restored); the daemon runs the kmsg sender and every parser. Reported:
// the write rate reached, the rate the sender read at, and its overrun count (KMSG_OVERRUN events).
// The baseline is a plain nonblocking read(2) loop on /dev/kmsg in this process during a separate
// run of the same writer.
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { acquireSysctls } from "../test/helpers/sysctl.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const RECORDS = Number(process.env.KMSG_LIVE_RECORDS ?? 1_000_000);
const RATE = Number(process.env.KMSG_LIVE_RATE ?? 200_000);

// The writer: one fd, one write(2) per record (that is how /dev/kmsg takes records), storage lines
// among noise, paced in 1 ms steps. Prints "<records> <seconds>" when done.
const WRITER = `
import { openSync, writeSync } from "node:fs";
const [n, rate] = [Number(process.argv[2]), Number(process.argv[3])];
const lines = JSON.parse(await Bun.stdin.text());
const fd = openSync("/dev/kmsg", "w");
const bufs = lines.map((l) => Buffer.from(l + "\\n"));
const t0 = performance.now();
let i = 0;
while (i < n) {
  const due = Math.min(n, rate > 0 ? Math.ceil(((performance.now() - t0) / 1000) * rate) + 1 : n);
  for (; i < due; i++) writeSync(fd, bufs[i % bufs.length]);
  if (rate > 0 && i < n) await Bun.sleep(1);
}
console.log(i, (performance.now() - t0) / 1000);
`;

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

async function runWriter(dir: string, tag: string, n: number, rate: number): Promise<{ records: number; seconds: number; done: Promise<void> }> {
  const file = join(dir, "writer.ts");
  writeFileSync(file, WRITER);
  const p = Bun.spawn([process.execPath, file, String(n), String(rate)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  p.stdin.write(JSON.stringify(lines(tag)));
  p.stdin.end();
  const res = { records: 0, seconds: 0, done: Promise.resolve() };
  res.done = (async () => {
    const [r, s] = (await new Response(p.stdout).text()).trim().split(" ").map(Number);
    res.records = r!;
    res.seconds = s!;
  })();
  return res;
}

/** The baseline: a plain read loop that counts records carrying `tag` and EPIPE overruns. */
async function plainRead(dir: string, tag: string, n: number, rate: number) {
  const fd = openSync("/dev/kmsg", constants.O_RDONLY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(8192);
  const needle = Buffer.from(tag);
  // from the end of the ring
  for (;;) { try { if (readSync(fd, buf, 0, buf.length, null) <= 0) break; } catch (e) { if ((e as NodeJS.ErrnoException).code === "EAGAIN") break; } }
  const w = await runWriter(dir, tag, n, rate);
  let got = 0;
  let overruns = 0;
  let finished = false;
  void w.done.then(() => (finished = true));
  const t0 = performance.now();
  let lastSeen = performance.now();
  while (got < n) {
    let len = 0;
    try {
      len = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EPIPE") { overruns++; continue; }
      if (code !== "EAGAIN") throw e;
    }
    if (len > 0 && buf.subarray(0, len).indexOf(needle) >= 0) {
      got++;
      lastSeen = performance.now();
      continue;
    }
    // Done when the writer is and none of its records came for 500 ms (others' records may).
    if (finished && performance.now() - lastSeen > 500) break;
    if (len <= 0 || got % 1024 === 0) await Bun.sleep(0);
  }
  const secs = (lastSeen - t0) / 1000;
  await w.done;
  closeSync(fd);
  return { got, overruns, secs, wrote: w.records / w.seconds };
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
    const w = await runWriter(dir, tag, n, rate);
    const t0 = performance.now();
    await w.done;
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
