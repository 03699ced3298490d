// Throughput of the dm, mdraid and fs parsers on a generated mixed kernel log (default 1M records,
// BENCH_LINES to change), against plain line splitting of the same text in the same run.
// Run: bun bench/run.ts parsers-dm-md-fs  (or bun bench/parsers-dm-md-fs.bench.ts)
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import type { AnyPluginDef, EventDraft, KmsgRecord, Parser } from "../src/plugin-api.ts";
import { makeContext } from "../test/helpers/context.ts";
import { readKmsgFixture } from "../test/helpers/parser-fixtures.ts";
import dm from "../plugins/parser/dm/index.ts";
import mdraid from "../plugins/parser/mdraid/index.ts";
import fs from "../plugins/parser/fs/index.ts";

const PLUGINS = [dm, mdraid, fs] as unknown as AnyPluginDef[];

/** Everyday kernel chatter none of these parsers owns, several sharing their first letters. */
const NOISE = [
  "e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: None",
  'audit: type=1400 audit(1700000000.123:456): apparmor="DENIED" operation="open" profile="snap.x" name="/proc/1/cmdline" pid=1234 comm="x"',
  "EXT4-fs (sda1): re-mounted 0a988bc9-ac6e-4db7-9084-57ba6ac05353.",
  "XFS (sdb): Failed to read root inode 0x80, error 117",
  "BTRFS info (device sdc): using crc32c (crc32c-lib) checksum algorithm",
  "device-mapper: uevent: version 1.0.3",
  "md: bind<sdb1>",
  "usb 1-1: new high-speed USB device number 3 using xhci_hcd",
  "sd 2:0:0:1: [sdb] 20971520 512-byte logical blocks: (10.7 GB/10.0 GiB)",
  "IPv4: martian source 10.0.0.255 from 10.0.0.1, on dev eth0",
  "[UFW BLOCK] IN=eth0 OUT= MAC=aa:bb:cc:dd:ee:ff SRC=192.0.2.1 DST=192.0.2.2 LEN=40 TOS=0x00 PREC=0x00 TTL=244 ID=54321 PROTO=TCP SPT=44444 DPT=22 WINDOW=1024 RES=0x00 SYN URGP=0",
  "nvme nvme0: 8/0/0 default/read/poll queues",
  "loop0: detected capacity change from 0 to 8",
  "perf: interrupt took too long (2500 > 2495), lowering kernel.perf_event_max_sample_rate to 79750",
];

function fixtureMessages(): string[] {
  const out: string[] = [];
  for (const p of ["dm", "mdraid", "fs"]) {
    const dir = join(import.meta.dir, "../plugins/parser", p, "testdata");
    for (const c of readdirSync(dir)) {
      const file = join(dir, c, "input.kmsg");
      if (c.startsWith("near-miss") || !existsSync(file)) continue;
      for (const r of readKmsgFixture(readFileSync(file, "utf8"))) out.push(r.msg);
    }
  }
  return out;
}

/** /dev/kmsg records: ~90% noise, ~10% dm/md/fs lines from the fixtures. */
export function generateLog(lines: number): string {
  const storage = fixtureMessages();
  const parts: string[] = [];
  let s = 0;
  for (let i = 0; i < lines; i++) {
    const msg = i % 10 === 9 ? storage[s++ % storage.length]! : NOISE[(i * 7) % NOISE.length]!;
    parts.push(`6,${i},${i * 1000},-;${msg}`);
  }
  return parts.join("\n") + "\n";
}

export default async function bench(lines = Number(process.env.BENCH_LINES ?? 1_000_000)): Promise<Record<string, number>> {
  const text = generateLog(lines);
  let t0 = performance.now();
  let n = 0;
  for (const l of text.split("\n")) if (l.length) n++;
  const splitMs = performance.now() - t0;

  t0 = performance.now();
  const recs: KmsgRecord[] = readKmsgFixture(text);
  const decodeMs = performance.now() - t0;

  const parsers: Parser[] = [];
  for (const def of PLUGINS) {
    const { ctx } = makeContext();
    const config = def.name === "fs" ? { mountinfo: "/nonexistent" } : {};
    parsers.push((await def.create(v.parse(def.schema, config), ctx)) as Parser);
  }
  let events = 0;
  const emit = (_d: EventDraft) => void events++;
  t0 = performance.now();
  for (const r of recs) for (const p of parsers) p.parse(r, emit);
  for (const p of parsers) p.flush?.(emit, true);
  const parseMs = performance.now() - t0;

  return {
    lines: n,
    events,
    split_lines_per_s: Math.round(n / (splitMs / 1000)),
    decode_lines_per_s: Math.round(n / (decodeMs / 1000)),
    classify_lines_per_s: Math.round(n / (parseMs / 1000)),
    classify_vs_split_time_ratio: Number((parseMs / splitMs).toFixed(2)),
    rss_mib: Math.round(process.memoryUsage().rss / 1048576),
  };
}

if (import.meta.main) console.log(JSON.stringify(await bench(), null, 2));
