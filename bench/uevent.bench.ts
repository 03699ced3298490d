// uevent throughput: a 1M-message raw capture file through parse + classify + inventory update
// (as `replay --uevent` and the live sender do), with the native parser and with the TypeScript
// twin, as ratios to plain splitting of the same file at NULs (the baseline in this run). Rates are
// the best of 3 runs; CPU ns/uevent is this process's CPU time in that run.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { nativeAddon } from "../src/native.ts";
import { decodeUeventFile } from "../src/uevent/parse.ts";
import { nativeLayouter } from "../src/uevent/layout.ts";
import { replayClassifier } from "../plugins/sender/udev/classify.ts";

const N = 1_000_000;

/** Writes the capture in 64k-message slices (never the whole text as one string). */
function writeCapture(file: string): void {
  const actions = ["add", "change", "change", "change", "remove"];
  const extra = ["", "DISK_MEDIA_CHANGE=1\0", "RESIZE=1\0", ""];
  const fd = openSync(file, "w");
  for (let base = 0; base < N; base += 65536) {
    let chunk = "";
    for (let i = base; i < Math.min(N, base + 65536); i++) {
      const a = actions[i % actions.length]!;
      const n = (i >> 3) % 256;
      const dev = `/devices/virtual/block/loop${n}`;
      chunk += `${a}@${dev}\0ACTION=${a}\0DEVPATH=${dev}\0SUBSYSTEM=block\0${extra[i % extra.length]}MAJOR=7\0MINOR=${n}\0` +
        `DEVNAME=loop${n}\0DEVTYPE=disk\0DISKSEQ=${i >> 4}\0SEQNUM=${i + 1}\0`;
    }
    writeSync(fd, chunk);
  }
  closeSync(fd);
}

const rssMib = () => {
  Bun.gc(true);
  return Math.round(process.memoryUsage().rss / 1048576);
};

/** Best of 3 (the machine is shared): wall time and this process's CPU time of the fastest run. */
function timed(f: () => number): { ms: number; cpuMs: number; n: number } {
  let best = { ms: Infinity, cpuMs: 0, n: 0 };
  for (let i = 0; i < 3; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const n = f();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (ms < best.ms) best = { ms, cpuMs: (c.user + c.system) / 1000, n };
  }
  return best;
}

export default async function () {
  const dir = mkdtempSync(join(tmpdir(), "storeventd-bench-uevent-"));
  const file = join(dir, "capture.uevent");
  writeCapture(file);
  const data = readFileSync(file);
  rmSync(dir, { recursive: true, force: true });
  const rssData = rssMib();

  const split = timed(() => data.toString("latin1").split("\0").length);
  const rssSplit = rssMib();
  const run = (parseMany?: Parameters<typeof decodeUeventFile>[3], layouter?: Parameters<typeof decodeUeventFile>[5]) => timed(() => {
    const c = replayClassifier();
    let events = 0;
    let records = 0;
    for (const rec of decodeUeventFile(data, "udev", () => {}, parseMany, undefined, layouter)) {
      records++;
      events += c.handle(rec).drafts.length;
    }
    if (events < records / 2) throw new Error("bench: too few events");
    return records;
  });
  const addon = nativeAddon();
  const nat = addon?.ueventParse ? run(addon.ueventParse.bind(addon), nativeLayouter(addon)) : undefined;
  const rssNative = rssMib();
  const ts = run();
  const perS = (t: { ms: number; n: number }) => Math.round(t.n / (t.ms / 1000));
  const cpuNs = (t: { cpuMs: number; n: number }) => Math.round((t.cpuMs * 1e6) / t.n);
  return {
    records: N,
    file_mib: Math.round(data.length / 1048576),
    baseline_split_records_per_s: Math.round(N / (split.ms / 1000)),
    native_parse_inventory_per_s: nat ? perS(nat) : "no addon",
    ts_parse_inventory_per_s: perS(ts),
    native_cpu_ns_per_uevent: nat ? cpuNs(nat) : "no addon",
    ts_cpu_ns_per_uevent: cpuNs(ts),
    load_average_1m: Number(loadavg()[0]!.toFixed(2)),
    ratio_native_to_split: nat ? Number((split.ms / nat.ms).toFixed(3)) : "no addon",
    ratio_ts_to_split: Number((split.ms / ts.ms).toFixed(3)),
    rss_mib_file_loaded: rssData,
    rss_mib_after_split: rssSplit,
    rss_mib_after_native_pass: rssNative,
    rss_mib_after_ts_pass: rssMib(),
  };
}
