// The journal sender's path: entries/s from journal entries through the parsers (goal >= 50k/s), by
// the journalctl-fallback decoding (export text) and by the addon's sd-journal reader over a real
// journal written by a journald of the bench's own; and the latency from `logger` to a receiver
// through the binary (goal p99 < 50 ms). The baseline is plain line splitting of the same export
// text in the same run. Needs root, systemd-journald, logger, and dist/storeventd.
// Run: bun bench/journal.bench.ts  (or bench/run.ts journal)
import { readdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import type { AnyPluginDef, EventDraft, JournalRecord, Parser } from "../src/plugin-api.ts";
import { makeContext } from "../test/helpers/context.ts";
import { PRIORITIES, readJournalFixture } from "../test/helpers/journal-fixtures.ts";
import { startJournalNamespace } from "../test/helpers/journald.ts";
import { BIN } from "../test/helpers/bin.ts";
import { DEFAULT_DAEMONS, ExportDecoder, entryDaemon, journalRecord, RECORD_FIELDS } from "../src/journal/decode.ts";
import { openJournalReader } from "../src/journal/reader.ts";
import { nativeAddon } from "../src/native.ts";
import dm from "../plugins/parser/dm/index.ts";
import mdraid from "../plugins/parser/mdraid/index.ts";
import iscsi from "../plugins/parser/iscsi/index.ts";
import lvm from "../plugins/parser/lvm/index.ts";
import smart from "../plugins/parser/smart/index.ts";

const root = join(import.meta.dir, "..");
const FIXTURES = ["smart", "lvm", "mdraid", "iscsi", "dm"].flatMap((p) => {
  const dir = join(root, "plugins/parser", p, "testdata");
  return readdirSync(dir).filter((f) => f.endsWith(".journal")).flatMap((f) => readJournalFixture(join(dir, f)));
});
/** The daemons' everyday lines that are no event (the bulk of what the sender reads). */
const NOISE: [string, number, string][] = [
  ["multipathd", 6, "sdb: add path (uevent)"], ["multipathd", 6, "mpatha: load table [0 2097152 multipath 1 queue_if_no_path 0 1 1 service-time 0 1 1 8:16 1]"],
  ["smartd", 6, "Device: /dev/sda [SAT], opened"], ["smartd", 6, "Device: /dev/sda [SAT], SMART Usage Attribute: 194 Temperature_Celsius changed from 70 to 69"],
  ["dmeventd", 6, "Monitoring thin pool vg0-pool0-tpool."], ["iscsid", 6, "iSCSI daemon with pid=812 started!"], ["mdadm", 6, "mdadm: NewArray event detected on md device /dev/md0"],
];

/** n entries: 1 in 5 a fixture line (an event), the rest noise. */
function entries(n: number): { daemon: string; priority: number; msg: string }[] {
  const out = [];
  for (let i = 0; i < n; i++) {
    if (i % 5 === 4) out.push(FIXTURES[(i / 5) % FIXTURES.length | 0]!);
    else {
      const [daemon, priority, msg] = NOISE[i % NOISE.length]!;
      out.push({ daemon, priority, msg });
    }
  }
  return out;
}

function exportText(list: ReturnType<typeof entries>): string {
  return list.map((e, i) => `__CURSOR=s=bench;i=${i.toString(16)}\n__REALTIME_TIMESTAMP=${1767225600000000 + i}\nPRIORITY=${e.priority}\n` +
    `_TRANSPORT=syslog\nSYSLOG_IDENTIFIER=${e.daemon}\n_PID=4242\nMESSAGE=${e.msg}\n\n`).join("");
}

async function parsers(): Promise<Parser[]> {
  const out: Parser[] = [];
  for (const def of [dm, mdraid, iscsi, lvm, smart] as unknown as AnyPluginDef[]) {
    const { ctx } = makeContext();
    out.push((await def.create(v.parse(def.schema, {}), ctx)) as Parser);
  }
  return out;
}

function feed(ps: Parser[], recs: JournalRecord[], emit: (d: EventDraft) => void): void {
  for (const r of recs) for (const p of ps) p.parse(r, emit);
}

async function latency(ns: string, dir: string, samples: number): Promise<number[]> {
  const cfg = join(dir, "lat.toml");
  writeFileSync(cfg, `[main]\nhostname = "bench"\nstate_dir = "${join(dir, "state")}"\ncontrol_socket = "${join(dir, "ctl.sock")}"\n` +
    `[journal]\ntype = "sender"\nnamespace = "${ns}"\nfrom = "end"\n[out]\ntype = "receiver"\nplugin = "stdout"\nformat = "json"\n`);
  const proc = Bun.spawn([BIN, "run", "-c", cfg], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const seen = new Map<string, number>();
  let err = "";
  void (async () => { for await (const c of proc.stderr) err += new TextDecoder().decode(c); })();
  void (async () => {
    let buf = "";
    for await (const c of proc.stdout) {
      const now = performance.now();
      buf += new TextDecoder().decode(c);
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const m = /\/dev\/lat(\d+)/.exec(buf.slice(0, nl));
        if (m) seen.set(m[1]!, now);
        buf = buf.slice(nl + 1);
      }
    }
  })();
  for (let i = 0; i < 200 && !err.includes("following the journal"); i++) await Bun.sleep(25);
  await Bun.sleep(300);
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    Bun.spawnSync(["logger", "-u", `/run/systemd/journal.${ns}/dev-log`, "-t", "smartd", "-p", "daemon.crit", "--",
      `Device: /dev/lat${i} [SAT], 8 Currently unreadable (pending) sectors`]);
    for (let w = 0; w < 400 && !seen.has(String(i)); w++) await Bun.sleep(1);
    const t = seen.get(String(i));
    if (t !== undefined) out.push(t - t0);
  }
  proc.kill("SIGTERM");
  await proc.exited;
  return out;
}

const pct = (a: number[], p: number) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))] ?? NaN;

export default async function bench(n = Number(process.env.BENCH_JOURNAL_ENTRIES ?? 200_000)): Promise<Record<string, number | string>> {
  const list = entries(n);
  const text = new TextEncoder().encode(exportText(list));
  const out: Record<string, number | string> = { entries: n };

  let t0 = performance.now();
  let lines = 0;
  for (const l of new TextDecoder().decode(text).split("\n")) if (l.length) lines++;
  const baseMs = performance.now() - t0;
  out.baseline_split_entries_per_s = Math.round(n / (baseMs / 1000));

  // journalctl fallback: export text -> records -> parsers.
  let ps = await parsers();
  let events = 0;
  const daemons = new Set<string>(DEFAULT_DAEMONS);
  t0 = performance.now();
  const dec = new ExportDecoder(RECORD_FIELDS);
  const recs: JournalRecord[] = [];
  for (let i = 0; i < text.length; i += 65536) {
    for (const f of dec.push(text.subarray(i, i + 65536))) {
      const d = entryDaemon(f, daemons);
      if (d) recs.push(journalRecord(f, d, "journal"));
    }
    feed(ps, recs, () => void events++);
    recs.length = 0;
  }
  for (const p of ps) p.flush?.(() => void events++, true);
  const tsMs = performance.now() - t0;
  out.journalctl_path_entries_per_s = Math.round(n / (tsMs / 1000));
  out.journalctl_path_events = events;
  out.journalctl_path_vs_baseline = Number((baseMs / tsMs).toFixed(3));

  // sd-journal: a real journal written by journald, read by the addon's reader thread.
  const addon = nativeAddon();
  const jd = await startJournalNamespace("j21bench", "[Journal]\nRateLimitIntervalSec=0\nRateLimitBurst=0\n");
  const dir = mkdtempSync(join(tmpdir(), "journal21-bench-"));
  try {
    const byDaemon = new Map<string, string[]>();
    for (const e of list) {
      const k = `${e.daemon}\t${e.priority}`;
      if (!byDaemon.has(k)) byDaemon.set(k, []);
      byDaemon.get(k)!.push(e.msg);
    }
    for (const [k, msgs] of byDaemon) {
      const [daemon, prio] = k.split("\t");
      const f = join(dir, "lines");
      writeFileSync(f, msgs.join("\n") + "\n");
      Bun.spawnSync(["logger", "-u", `/run/systemd/journal.${jd.ns}/dev-log`, "-t", daemon!, "-p", `daemon.${PRIORITIES[Number(prio)]}`, "-f", f]);
    }
    const stored = (await jd.entries(["-n", "1", "-r"], 1)).length; // journald has flushed something
    void stored;
    for (let i = 0; i < 100; i++) {
      const c = Bun.spawnSync(["journalctl", `--namespace=${jd.ns}`, "--all", "-q", "-o", "cat"]).stdout.toString().split("\n").length - 1;
      if (c >= n) break;
      await Bun.sleep(100);
    }
    if (addon && typeof addon.JournalReader === "function") {
      ps = await parsers();
      events = 0;
      let got = 0;
      t0 = performance.now();
      await new Promise<void>((resolve) => {
        const h = openJournalReader(addon, { daemons: [...DEFAULT_DAEMONS], namespace: jd.ns, directory: "", cursor: "", sinceUs: 1, source: "journal" }, (batch) => {
          got += batch.length;
          feed(ps, batch, () => void events++);
          if (got >= n) {
            h.close();
            resolve();
          }
        });
      });
      const nMs = performance.now() - t0;
      out.sd_journal_path_entries_per_s = Math.round(n / (nMs / 1000));
      out.sd_journal_path_vs_baseline = Number((baseMs / nMs).toFixed(3));
    } else out.sd_journal_path_entries_per_s = "addon without libsystemd";

    const lat = await latency(jd.ns, dir, Number(process.env.BENCH_JOURNAL_SAMPLES ?? 200));
    out.latency_samples = lat.length;
    out.latency_p50_ms = Number(pct(lat, 0.5).toFixed(2));
    out.latency_p99_ms = Number(pct(lat, 0.99).toFixed(2));
    out.latency_max_ms = Number(Math.max(...lat).toFixed(2));
  } finally {
    await jd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const slowest = Math.min(Number(out.journalctl_path_entries_per_s), Number(out.sd_journal_path_entries_per_s) || Infinity);
  out.goal_50k_per_s = slowest >= 50_000 ? "met" : "missed";
  out.goal_p99_50ms = Number(out.latency_p99_ms) < 50 ? "met" : "missed";
  return out;
}

if (import.meta.main) console.log(await bench());
