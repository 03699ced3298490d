// Where the latency of bench/latency.bench.ts goes: joins the rig's stamps (written, seen at the
// file and at the follower), the daemon's stage trace (STOREVENTD_STAGE_TRACE, src/util/stage-trace.ts)
// and the plain C reader's stamps (bench/kmsg-wakeup.c) by record id, all CLOCK_MONOTONIC µs.
import type { Stamps } from "../test/helpers/latency-rig.ts";
import { percentiles } from "../test/helpers/latency-rig.ts";

/** Segments of the path, each from one stamp to the next (the C reader is a parallel baseline). */
const SEGMENTS: [name: string, from: string, to: string][] = [
  ["c_reader", "written", "c"],
  ["to_js", "written", "record"],
  ["parse_fold", "record", "deliver"],
  ["queue_file", "deliver", "take:fifo"],
  ["write_file", "take:fifo", "sent:fifo"],
  ["fifo_to_bench", "sent:fifo", "file"],
  ["follow", "deliver", "follow"],
  ["follow_to_bench", "follow", "monitor"],
  // The daemon's end of the file path (its write(2) to the FIFO returned), without the bench's read,
  // and what the daemon adds to a plain C reader woken by the same record.
  ["written_to_file", "written", "sent:fifo"],
  ["c_to_file", "c", "sent:fifo"],
];

/** "<µs>\t<stage>\t<raw>" (daemon) or "<µs>\t<raw>" (C reader) lines -> id -> stage -> µs. */
export function parseStamps(text: string, tag: string, into: Map<number, Record<string, number>>, stage?: string): void {
  for (const line of text.split("\n")) {
    const f = line.split("\t");
    const raw = stage ? f[1] : f[2];
    const m = raw && raw.includes(tag) ? /logical block (\d+),/.exec(raw) : null;
    if (!m) continue;
    const id = Number(m[1]);
    const rec = into.get(id) ?? {};
    const name = stage ?? f[1]!;
    rec[name] ??= Number(f[0]); // the first pass through a stage
    const seq = stage === "c" ? /^\d+,(\d+),/.exec(raw!) : null; // the kernel's record header
    if (seq) rec.seq = Number(seq[1]);
    into.set(id, rec);
  }
}

/** p50/p99/max per segment over `ids`, and the mean per segment over the slowest 1 % at the file. */
export function stageReport(prefix: string, stamps: Stamps[], ids: number[], stages: Map<number, Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  const at = (id: number): Record<string, number> => ({ ...stages.get(id), written: stamps[id]!.written, file: stamps[id]!.file, monitor: stamps[id]!.monitor });
  for (const [name, from, to] of SEGMENTS) {
    const ms = ids.map((id) => (at(id)[to]! - at(id)[from]!) / 1000).map((x) => (Number.isNaN(x) ? Infinity : x));
    const p = percentiles(ms);
    out[`${prefix}_${name}_p50_ms`] = p.p50;
    out[`${prefix}_${name}_p99_ms`] = p.p99;
    out[`${prefix}_${name}_max_ms`] = p.max;
  }
  // Records anyone else logged meanwhile (the kernel's seq counts them all): was "idle" idle?
  const seqd = ids.filter((id) => stages.get(id)?.seq !== undefined);
  if (seqd.length > 1) {
    const [a, b] = [seqd[0]!, seqd[seqd.length - 1]!];
    const others = stages.get(b)!.seq! - stages.get(a)!.seq! - (b - a);
    out[`${prefix}_other_kmsg_records_per_s`] = Math.round(others / ((stamps[b]!.written - stamps[a]!.written) / 1e6));
  }
  const slow = [...ids].sort((a, b) => (at(b).file! - at(b).written!) - (at(a).file! - at(a).written!)).slice(0, Math.max(1, Math.ceil(ids.length / 100)));
  for (const [name, from, to] of SEGMENTS) {
    const v = slow.map((id) => (at(id)[to]! - at(id)[from]!) / 1000).filter(Number.isFinite);
    out[`${prefix}_slowest1pct_${name}_mean_ms`] = Math.round((v.reduce((a, b) => a + b, 0) / Math.max(1, v.length)) * 1000) / 1000;
  }
  return out;
}

/** One row per record: each stamp in ms after it was written (LATENCY_KEEP=1 keeps it as joined.tsv). */
export function joinedTable(stamps: Stamps[], stages: Map<number, Record<string, number>>): string {
  const cols = [...new Set(["c", ...SEGMENTS.map((s) => s[2])])];
  const rows = stamps.map((s) => {
    const all: Record<string, number> = { ...stages.get(s.id), file: s.file, monitor: s.monitor };
    return [s.id, ...cols.map((c) => ((all[c]! - s.written) / 1000).toFixed(3))].join("\t");
  });
  return ["id", ...cols].join("\t") + "\n" + rows.join("\n") + "\n";
}
