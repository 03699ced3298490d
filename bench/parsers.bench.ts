// Throughput of the kernel-log parsers (scsi, block, nvme, ata, iscsi) on a generated 1M-line mixed
// kernel log, against plain line splitting of the same text in the same run.
// Run: bun bench/parsers.bench.ts  (or through bench/run.ts, which calls the default export).
import { readFileSync, readdirSync } from "node:fs";
import * as v from "valibot";
import { join } from "node:path";
import type { AnyPluginDef, EventDraft, KmsgRecord, Parser } from "../src/plugin-api.ts";
import { readKmsgFixture } from "../test/helpers/parser-fixtures.ts";
import { makeContext } from "../test/helpers/context.ts";
import scsi from "../plugins/parser/scsi/index.ts";
import block from "../plugins/parser/block/index.ts";
import nvme from "../plugins/parser/nvme/index.ts";
import ata from "../plugins/parser/ata/index.ts";
import iscsi from "../plugins/parser/iscsi/index.ts";

const PLUGINS: AnyPluginDef[] = [scsi, block, nvme, ata, iscsi] as unknown as AnyPluginDef[];

/** Everyday kernel chatter that none of these parsers owns (the bulk of a real log). */
const NOISE = [
  "e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: None",
  'audit: type=1400 audit(1700000000.123:456): apparmor="DENIED" operation="open" profile="snap.x" name="/proc/1/cmdline" pid=1234 comm="x"',
  "EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.",
  "usb 1-1: new high-speed USB device number 3 using xhci_hcd",
  "IPv4: martian source 10.0.0.255 from 10.0.0.1, on dev eth0",
  "[UFW BLOCK] IN=eth0 OUT= MAC=aa:bb:cc:dd:ee:ff SRC=192.0.2.1 DST=192.0.2.2 LEN=40 TOS=0x00 PREC=0x00 TTL=244 ID=54321 PROTO=TCP SPT=44444 DPT=22 WINDOW=1024 RES=0x00 SYN URGP=0",
  "systemd[1]: Started Session 42 of User root.",
  "device-mapper: uevent: version 1.0.3",
  "sd 2:0:0:1: [sdb] 20971520 512-byte logical blocks: (10.7 GB/10.0 GiB)",
  "ata3.00: configured for UDMA/133",
  "nvme nvme0: 8/0/0 default/read/poll queues",
  "scsi host2: ahci",
  "xhci_hcd 0000:00:14.0: xHCI Host Controller",
  "perf: interrupt took too long (2500 > 2495), lowering kernel.perf_event_max_sample_rate to 79750",
  "loop0: detected capacity change from 0 to 8",
];

function fixtureMessages(): string[] {
  const out: string[] = [];
  for (const p of ["scsi", "block", "nvme", "ata", "iscsi"]) {
    const dir = join(import.meta.dir, "../plugins/parser", p, "testdata");
    for (const c of readdirSync(dir)) {
      if (c.startsWith("near-miss")) continue;
      for (const r of readKmsgFixture(readFileSync(join(dir, c, "input.kmsg"), "utf8"))) out.push(r.msg);
    }
  }
  return out;
}

/** 1M records in /dev/kmsg format: ~90% noise, ~10% storage lines from the fixtures, in order. */
export function generateLog(lines = 1_000_000): string {
  const storage = fixtureMessages();
  const parts: string[] = [];
  let s = 0;
  for (let i = 0; i < lines; i++) {
    const msg = i % 10 === 9 ? storage[s++ % storage.length]! : NOISE[(i * 7) % NOISE.length]!;
    parts.push(`6,${i},${i * 1000},-;${msg.replace(/\n/g, "\\x0a")}`);
  }
  return parts.join("\n") + "\n";
}

async function parsers(): Promise<Parser[]> {
  const out: Parser[] = [];
  for (const def of PLUGINS) {
    const { ctx } = makeContext();
    out.push((await def.create(v.parse(def.schema, {}), ctx)) as Parser);
  }
  return out;
}

function ms(t0: number): number {
  return performance.now() - t0;
}

export default async function bench(lines = Number(process.env.BENCH_LINES ?? 1_000_000)): Promise<Record<string, number>> {
  const text = generateLog(lines);

  // Baseline: plain line splitting (what any reader of the log must do).
  let t0 = performance.now();
  let n = 0;
  for (const l of text.split("\n")) if (l.length) n++;
  const splitMs = ms(t0);

  // Decode to records (the replay path; the shared decoder once it lands, else the test reader).
  t0 = performance.now();
  const recs: KmsgRecord[] = readKmsgFixture(text);
  const decodeMs = ms(t0);

  // Classify every record through all five parsers.
  const ps = await parsers();
  let events = 0;
  const emit = (_d: EventDraft) => void events++;
  t0 = performance.now();
  for (const r of recs) for (const p of ps) p.parse(r, emit);
  for (const p of ps) p.flush?.(emit, true);
  const parseMs = ms(t0);
  const classified = events;

  // Each parser alone, to see where the time goes.
  const each: Record<string, number> = {};
  for (const [i, p] of ps.entries()) {
    t0 = performance.now();
    for (const r of recs) p.parse(r, emit);
    p.flush?.(emit, true);
    each[`${PLUGINS[i]!.name}_alone_lines_per_s`] = Math.round(n / (ms(t0) / 1000));
  }

  const result = {
    lines: n,
    events: classified,
    split_lines_per_s: Math.round(n / (splitMs / 1000)),
    decode_lines_per_s: Math.round(n / (decodeMs / 1000)),
    classify_lines_per_s: Math.round(n / (parseMs / 1000)),
    split_plus_decode_plus_classify_lines_per_s: Math.round(n / ((splitMs + decodeMs + parseMs) / 1000)),
    classify_vs_split_time_ratio: Number((parseMs / splitMs).toFixed(2)),
    ...each,
    rss_mb: Math.round(process.memoryUsage().rss / 1048576),
  };
  return result;
}

if (import.meta.main) console.log(JSON.stringify(await bench(), null, 2));
