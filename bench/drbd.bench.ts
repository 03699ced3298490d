// DRBD events2 throughput and memory. A generated 200k-line `drbdsetup events2 --full` stream over
// 1000 resources goes through: the TypeScript tokenizer (+ model), the native tokenizer (+ model),
// the live drbd sender reading a fake drbdsetup on PATH (native reader thread -> model, with a umh
// receiver whose rules never match and a prometheus receiver scraped at the end), and the compiled
// binary's `replay --events2 --model`. Every rate is also given as a ratio to plain line splitting
// of the same bytes in this run. Flat memory: peak RSS of a fresh process after 200k and 2M lines.
import { DRBD_MODEL_SERVICE } from "../src/drbd/service.ts";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { decodeEvents2Batch, tokenizeEvents2Line } from "../src/drbd/events2.ts";
import { DrbdModel } from "../src/drbd/model.ts";
import { nativeAddon } from "../src/native.ts";
import type { Events2Record } from "../src/records.ts";
import sender from "../plugins/sender/drbd/index.ts";
import umh from "../plugins/receiver/umh/index.ts";
import prometheus from "../plugins/receiver/prometheus/index.ts";
import { makeContext } from "../test/helpers/context.ts";
import { stream } from "./drbd-stream.ts";

const LINES = 200_000;
const root = join(import.meta.dir, "..");

function ms(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

async function child(lines: number, mode: string): Promise<{ hwm_kib: number }> {
  const p = Bun.spawn([process.execPath, join(import.meta.dir, "drbd-rss.ts"), String(lines), mode], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return JSON.parse(out);
}

export default async function () {
  const lines = [...stream(1000, LINES)];
  const buf = Buffer.from(lines.join("\n") + "\n");
  const dir = mkdtempSync(join(tmpdir(), "storeventd-drbd-bench-"));
  const file = join(dir, "stream");
  writeFileSync(file, buf);
  const out: Record<string, number | string> = { lines: LINES, resources: 1000, stream_mib: Number((buf.length / 1048576).toFixed(1)) };
  const rate = (t: number) => Math.round(LINES / (t / 1000));
  try {
    // Baseline: decode and split the same bytes into lines.
    let n = 0;
    const split = Math.min(...[0, 1, 2].map(() => ms(() => void (n += buf.toString("utf8").split("\n").length))));
    out.baseline_split_lines_per_s = rate(split);

    const ts = ms(() => {
      for (const l of lines) tokenizeEvents2Line(l);
    });
    out.ts_tokenize_lines_per_s = rate(ts);
    const tsModel = new DrbdModel();
    let events = 0;
    const tsm = ms(() => {
      for (const l of buf.toString("utf8").split("\n")) {
        const r = tokenizeEvents2Line(l);
        if (r) tsModel.apply(r, () => void events++);
      }
    });
    out.ts_tokenize_model_lines_per_s = rate(tsm);
    out.ts_tokenize_model_ratio_to_split = Number((split / tsm).toFixed(3));
    out.events = events;

    const addon = nativeAddon();
    if (addon?.events2Tokenize) {
      const nat = ms(() => {
        const [b, e, u] = addon.events2Tokenize!(buf);
        decodeEvents2Batch(b, e, u, "drbd", () => {}, () => {});
      });
      out.native_tokenize_decode_lines_per_s = rate(nat);
      const natOnly = ms(() => void addon.events2Tokenize!(buf));
      out.native_tokenize_only_lines_per_s = rate(natOnly);
      const nModel = new DrbdModel();
      const natm = ms(() => {
        const [b, e, u] = addon.events2Tokenize!(buf);
        decodeEvents2Batch(b, e, u, "drbd", (r) => nModel.apply(r, () => {}), () => {});
      });
      out.native_tokenize_model_lines_per_s = rate(natm);
      out.native_tokenize_model_ratio_to_split = Number((split / natm).toFixed(3));
    }

    // Live: the sender with the fake drbdsetup printing the stream, into the model, with umh + prometheus.
    const fake = join(dir, "fake");
    Bun.spawnSync(["mkdir", "-p", fake]);
    writeFileSync(join(fake, "stream"), buf);
    process.env.FAKE_DRBDSETUP_DIR = fake;
    const model = new DrbdModel();
    let got = 0;
    const { ctx, abort } = makeContext({
      instance: "drbd", emit: (r) => {
        got++;
        model.apply(r as Events2Record, () => {});
      },
    });
    ctx.services.provide(DRBD_MODEL_SERVICE, model);
    const u = await umh.create(v.parse(umh.schema, { resource: [{ command: "/bin/true", "resource-name": "no-such-resource" }] }), ctx);
    const prom = await prometheus.create(v.parse(prometheus.schema, { address: "127.0.0.1:0", enums: true }), ctx);
    const s = await sender.create(v.parse(sender.schema, { path: join(root, "test/drbd/bin/drbdsetup") }), ctx);
    const t0 = performance.now();
    const run = s.run();
    while (got < LINES) await Bun.sleep(1);
    const live = performance.now() - t0;
    out.live_sender_model_umh_lines_per_s = rate(live);
    out.live_ratio_to_split = Number((split / live).toFixed(3));
    const t1 = performance.now();
    const metrics = await (await fetch(`http://127.0.0.1:${(prom.status!() as { port: number }).port}/metrics`)).text();
    out.prometheus_scrape_ms = Math.round(performance.now() - t1);
    out.prometheus_scrape_kib = Math.round(metrics.length / 1024);
    out.bench_process_rss_mib = Math.round(process.memoryUsage().rss / 1048576); // holds the stream and 3 models
    abort.abort();
    await run;
    await u.close?.();
    await prom.close?.();

    // The compiled binary: replay --events2 --model (wall time and peak RSS from GNU time).
    const bin = join(root, "dist/storeventd");
    if (existsSync("/usr/bin/time") && existsSync(bin)) {
      const r = Bun.spawnSync(["/usr/bin/time", "-f", "%e %M", bin, "replay", "--events2", file, "--model"], { stdout: "ignore", stderr: "pipe" });
      const [secs, kib] = r.stderr.toString().trim().split("\n").at(-1)!.split(" ").map(Number);
      out.replay_binary_lines_per_s = Math.round(LINES / secs!);
      out.replay_binary_ratio_to_split = Number((split / 1000 / secs!).toFixed(3));
      out.replay_binary_peak_rss_mib = Math.round(kib! / 1024);
      // The same with the config's receivers: umh whose rule never matches, and prometheus.
      const cfg = join(dir, "replay.toml");
      writeFileSync(cfg, `[main]\nhostname = "bench"\n[[umh]]\n[[umh.resource]]\ncommand = "/bin/true"\nresource-name = "no-such-resource"\n[[prometheus]]\naddress = "127.0.0.1:0"\n`);
      const rr = Bun.spawnSync(["/usr/bin/time", "-f", "%e %M", bin, "replay", "--events2", file, "--model", "-c", cfg, "--receivers"], { stdout: "ignore", stderr: "pipe" });
      const [secs2, kib2] = rr.stderr.toString().trim().split("\n").at(-1)!.split(" ").map(Number);
      out.replay_binary_umh_prometheus_lines_per_s = Math.round(LINES / secs2!);
      out.replay_binary_umh_prometheus_peak_rss_mib = Math.round(kib2! / 1024);
    } else {
      out.replay_binary = "skipped: needs GNU time (apt-get install -y time) and dist/storeventd";
    }

    // Flat memory: peak RSS of fresh processes streaming 200k and 2M lines (the stream is generated
    // on the fly, not held), and of one that reads none (the runtime's own share).
    const base = await child(0, "ts");
    const ts200k = await child(LINES, "ts");
    const ts2m = await child(LINES * 10, "ts");
    const nat200k = await child(LINES, "native");
    const nat2m = await child(LINES * 10, "native");
    out.rss_peak_mib_runtime_only = Math.round(base.hwm_kib / 1024);
    out.rss_peak_mib_ts_200k = Math.round(ts200k.hwm_kib / 1024);
    out.rss_peak_mib_ts_2m = Math.round(ts2m.hwm_kib / 1024);
    out.rss_peak_mib_native_200k = Math.round(nat200k.hwm_kib / 1024);
    out.rss_peak_mib_native_2m = Math.round(nat2m.hwm_kib / 1024);
    out.rss_growth_ratio_2m_to_200k = Number((ts2m.hwm_kib / ts200k.hwm_kib).toFixed(3));
    out._ = n > 0 ? "ok" : "?";
  } finally {
    rmSync(dir, { recursive: true, force: true });
    delete process.env.FAKE_DRBDSETUP_DIR;
  }
  return out;
}
