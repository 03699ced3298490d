// The issue-4 goal, end to end on the compiled binary: `storeventd replay --kmsg` over a 1M-line
// mixed kernel log (every parser fixture line, renumbered, among ordinary kernel noise), as lines/s
// and peak RSS, against plain line splitting of the same file in the same run.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

const ROOT = join(import.meta.dir, "..");
const BIN = join(ROOT, "dist/storeventd");
const LINES = Number(process.env.BENCH_KMSG_LINES ?? 1_000_000);

function storageLines(): string[] {
  const out: string[] = [];
  const parsers = join(ROOT, "plugins/parser");
  for (const p of readdirSync(parsers)) {
    const td = join(parsers, p, "testdata");
    if (!existsSync(td)) continue;
    for (const c of readdirSync(td)) {
      const f = join(td, c, "input.kmsg");
      if (c.startsWith("near-miss") || c.startsWith("hostile") || !existsSync(f)) continue;
      for (const l of readFileSync(f, "utf8").split("\n")) {
        const m = /^\d+,\d+,\d+,[-+c][^;]*;(.*)$/.exec(l);
        if (m && m[1]!.length < 400) out.push(m[1]!);
      }
    }
  }
  return out;
}

const NOISE = [
  "usb 1-1: new high-speed USB device number 3 using xhci_hcd",
  "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
  "audit: type=1400 audit(1700000000.123:42): apparmor=\"STATUS\" operation=\"profile_load\"",
  "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
  "systemd[1]: Started Journal Service.",
  "perf: interrupt took too long (2503 > 2500), lowering kernel.perf_event_max_sample_rate to 79750",
  "TCP: request_sock_TCP: Possible SYN flooding on port 22. Sending cookies.",
  "x86/mm: Checked W+X mappings: passed, no W+X pages found.",
];

export default async function () {
  if (!existsSync(BIN)) return { skipped: "dist/storeventd missing (npm run build)" };
  const dir = mkdtempSync(join(tmpdir(), "bench-replay-"));
  try {
    const storage = storageLines();
    const file = join(dir, "mixed.kmsg");
    const parts: string[] = [];
    let ts = 1_000_000;
    for (let i = 0; i < LINES; i++) {
      ts += 137;
      // ~10% storage lines, each with a distinct tail so the fold does not hide the work.
      const msg = i % 10 === 0 ? storage[(i / 10) % storage.length]! : `${NOISE[i % NOISE.length]} #${i}`;
      parts.push(`${i % 10 === 0 ? 3 : 6},${i + 1},${ts},-;${msg}`);
    }
    writeFileSync(file, parts.join("\n") + "\n");
    const size = statSync(file).size;

    let t0 = performance.now();
    const text = readFileSync(file, "utf8");
    let n = 0;
    for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) n++;
    const splitMs = performance.now() - t0;

    const timeOut = join(dir, "time.txt");
    t0 = performance.now();
    const r = Bun.spawnSync(["/usr/bin/time", "-f", "%M", "-o", timeOut, BIN, "replay", "--kmsg", file, "--json"], {
      stdout: Bun.file("/dev/null"), stderr: "pipe",
    });
    const replayMs = performance.now() - t0;
    const summary = r.stderr.toString().trim().split("\n").pop() ?? "";
    const peakKiB = Number(readFileSync(timeOut, "utf8").trim().split("\n").pop());
    return {
      lines: n,
      file_mib: Number((size / 1048576).toFixed(1)),
      replay_summary: summary,
      split_lines_per_s: Math.round(n / (splitMs / 1000)),
      replay_lines_per_s: Math.round(n / (replayMs / 1000)),
      ratio_replay_to_split: Number((splitMs / replayMs).toFixed(4)),
      replay_peak_rss_mib: Math.round(peakKiB / 1024),
      goal_300k_lines_per_s: n / (replayMs / 1000) >= 300_000 ? "met" : "not met",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
