// DRBD events2 throughput and memory. A generated `drbdsetup events2 --full` stream over 1000
// resources (2 peers on every other one) goes through: the TypeScript tokenizer (+ model), the native
// tokenizer (+ model, with its fast lane for statistics lines), the daemon's live pipeline in a fresh
// process ([drbd] sender reading a fake drbdsetup, [[umh]] whose rule never matches, then also
// [[prometheus]]), and the compiled binary's `replay --events2 --model`. Every rate is also given as a
// ratio to plain line splitting of the same bytes in this run (the machine is shared: ratios hold,
// absolute rates move). Flat memory: the live process's RSS after 200k, 2M and 20M lines.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeEvents2Batch, Events2Lane, tokenizeEvents2Line } from "../src/drbd/events2.ts";
import { applyFastLine } from "../src/drbd/fast.ts";
import { DrbdModel } from "../src/drbd/model.ts";
import { nativeAddon } from "../src/native.ts";
import { statisticsRound } from "../test/helpers/drbd-cluster.ts";
import { cluster, stream } from "./drbd-stream.ts";

const LINES = 200_000;
const root = join(import.meta.dir, "..");

function ms(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

interface Live {
  lines: number;
  secs: number;
  start_rss_kib: number;
  hwm_kib: number;
  [k: string]: number;
}

async function live(dir: string, lines: number, mode: "umh" | "prom"): Promise<Live> {
  const p = Bun.spawn([process.execPath, join(root, "test/drbd/live-child.ts"), dir, String(lines), mode], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return JSON.parse(out);
}

function replay(bin: string, file: string, lines: number, extra: string[] = []): { rate: number; mib: number } {
  const r = Bun.spawnSync(["/usr/bin/time", "-f", "%e %M", bin, "replay", "--quiet", "--events2", file, "--model", ...extra], { stdout: "ignore", stderr: "pipe" });
  const [secs, kib] = r.stderr.toString().trim().split("\n").at(-1)!.split(" ").map(Number);
  return { rate: Math.round(lines / secs!), mib: Math.round(kib! / 1024) };
}

export default async function () {
  const lines = [...stream(1000, LINES)];
  const buf = Buffer.from(lines.join("\n") + "\n");
  const dir = mkdtempSync(join(tmpdir(), "storeventd-drbd-bench-"));
  const file = join(dir, "stream");
  writeFileSync(file, buf);
  // Statistics rounds (what each `n` prints) for the long live runs, repeated by the fake drbdsetup.
  const rs = cluster(1000);
  const stats: string[] = [];
  for (let s = 1; s <= 20; s++) stats.push(...statisticsRound(rs, s));
  writeFileSync(join(dir, "stats"), stats.join("\n") + "\n");
  const out: Record<string, number | string> = { lines: LINES, resources: 1000, stream_mib: Number((buf.length / 1048576).toFixed(1)) };
  const rate = (t: number, n = LINES) => Math.round(n / (t / 1000));
  try {
    // Baseline: decode and split the same bytes into lines.
    let n = 0;
    const split = Math.min(...[0, 1, 2].map(() => ms(() => void (n += buf.toString("utf8").split("\n").length))));
    const splitRate = rate(split);
    out.baseline_split_lines_per_s = splitRate;
    const ratio = (r: number) => Number((r / splitRate).toFixed(3));

    const tsModel = new DrbdModel();
    const tsm = ms(() => {
      for (const l of buf.toString("utf8").split("\n")) {
        const r = tokenizeEvents2Line(l);
        if (r) tsModel.apply(r, () => {});
      }
    });
    out.ts_tokenize_model_lines_per_s = rate(tsm);
    out.ts_tokenize_model_ratio_to_split = ratio(rate(tsm));

    const addon = nativeAddon();
    if (addon?.Events2Tokenizer) {
      // As replay does: 1 MiB pieces, one tokenizer, the model's fast lane.
      const runNative = (fast: boolean) => {
        const model = new DrbdModel();
        const tk = new addon.Events2Tokenizer!();
        const lane = new Events2Lane();
        const apply = fast ? (nn: Float64Array, b: number, s: readonly string[]) => applyFastLine(model, nn, b, s) : null;
        let taken = 0;
        const t = ms(() => {
          for (let o = 0; o < buf.length;) {
            let end = Math.min(buf.length, o + (1 << 20));
            end = buf.lastIndexOf(10, end - 1) + 1;
            const [b, e, nums] = tk.tokenize(buf.subarray(o, end));
            taken += decodeEvents2Batch(b, e, nums, "drbd", (r) => model.apply(r, () => {}), () => {}, lane, apply);
            o = end;
          }
        });
        return { t, taken };
      };
      const full = runNative(false);
      out.native_tokenize_model_no_fast_lane_lines_per_s = rate(full.t);
      const fast = Math.min(...[0, 1, 2].map(() => runNative(true).t));
      out.native_tokenize_model_lines_per_s = rate(fast);
      out.native_tokenize_model_ratio_to_split = ratio(rate(fast));
      out.native_fast_lane_share = Number((runNative(true).taken / LINES).toFixed(3));
    }

    // Live: the daemon's pipeline in a fresh process (startup and drbdsetup's start included).
    const umh2m = await live(dir, LINES * 10, "umh");
    out.live_umh_lines_per_s = Math.round(umh2m.lines / umh2m.secs);
    out.live_umh_ratio_to_split = ratio(out.live_umh_lines_per_s);
    out.live_umh_peak_rss_mib_2m = Math.round(umh2m.hwm_kib / 1024);
    // CPU per line (all threads): what the rate would be with a core to itself.
    out.live_umh_cpu_ns_per_line = Math.round((umh2m.cpu_s! * 1e9) / umh2m.lines);
    const prom2m = await live(dir, LINES * 10, "prom");
    out.live_umh_prometheus_lines_per_s = Math.round(prom2m.lines / prom2m.secs);
    out.live_umh_prometheus_ratio_to_split = ratio(out.live_umh_prometheus_lines_per_s);
    out.live_umh_prometheus_peak_rss_mib_2m = Math.round(prom2m.hwm_kib / 1024);
    out.live_umh_prometheus_cpu_ns_per_line = Math.round((prom2m.cpu_s! * 1e9) / prom2m.lines);
    // Flat memory: one long run, RSS at 200k, 2M and 20M lines (BENCH_DRBD_LINES to shorten it).
    const long = await live(dir, Number(process.env.BENCH_DRBD_LINES ?? LINES * 100), "umh");
    out.live_rss_mib_after_start = Math.round(long.start_rss_kib / 1024);
    for (const k of Object.keys(long).filter((k) => k.startsWith("rss_kib_at_"))) {
      out[`live_rss_mib_at_${k.slice("rss_kib_at_".length)}`] = Math.round(long[k]! / 1024);
    }
    out.live_peak_rss_mib_long = Math.round(long.hwm_kib / 1024);
    out.live_long_lines_per_s = Math.round(long.lines / long.secs);

    // The compiled binary: replay --events2 --model (wall time and peak RSS from GNU time), on the
    // 200k stream and on 2M lines (the stream, then statistics rounds).
    const bin = join(root, "dist/storeventd");
    if (existsSync("/usr/bin/time") && existsSync(bin)) {
      const r = replay(bin, file, LINES);
      out.replay_binary_lines_per_s = r.rate;
      out.replay_binary_ratio_to_split = ratio(r.rate);
      out.replay_binary_peak_rss_mib = r.mib;
      const big = join(dir, "big");
      Bun.spawnSync(["sh", "-c", `cat stream > big; for i in $(seq 18); do cat stats >> big; done`], { cwd: dir });
      const bigLines = Number(Bun.spawnSync(["wc", "-l", big]).stdout.toString().trim().split(" ")[0]);
      const r2 = replay(bin, big, bigLines);
      out.replay_binary_2m_lines_per_s = r2.rate;
      out.replay_binary_2m_peak_rss_mib = r2.mib;
      out.replay_2m_to_live_2m = Number((r2.rate / (out.live_umh_lines_per_s as number)).toFixed(3));
      // With the config's receivers: umh whose rule never matches, and prometheus.
      const cfg = join(dir, "replay.toml");
      writeFileSync(cfg, `[main]\nhostname = "bench"\n[[umh]]\n[[umh.resource]]\ncommand = "/bin/true"\nresource-name = "no-such-resource"\n[[prometheus]]\naddress = "127.0.0.1:0"\n`);
      const r3 = replay(bin, file, LINES, ["-c", cfg, "--receivers"]);
      out.replay_binary_umh_prometheus_lines_per_s = r3.rate;
      out.replay_binary_umh_prometheus_peak_rss_mib = r3.mib;
    } else {
      out.replay_binary = "skipped: needs GNU time (apt-get install -y time) and dist/storeventd";
    }
    out._ = n > 0 ? "ok" : "?";
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
