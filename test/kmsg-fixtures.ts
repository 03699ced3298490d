// Shared by the kmsg decoder tests: the fixture cases, a comparable view of decoded records, and a
// generated stream of realistic records.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { nativeAddon, type NativeAddon } from "../src/native.ts";
import { KMSG_STATUS_NAMES, unpackKmsgBatch, type KmsgDecoded } from "../src/kmsg/record.ts";

export const TESTDATA = join(import.meta.dir, "../plugins/sender/kmsg/testdata");

export function fixtureCases(): { name: string; dir: string; input: Buffer }[] {
  return readdirSync(TESTDATA, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => ({ name: d.name, dir: join(TESTDATA, d.name), input: readFileSync(join(TESTDATA, d.name, "input.kmsg")) }));
}

/** One decoded record as a plain object (the snapshot line and the differential unit). */
export function view(d: KmsgDecoded): Record<string, unknown> {
  const r = d.record;
  return {
    status: KMSG_STATUS_NAMES[d.status] ?? d.status, bad_props: d.badProps, lost_before: d.lostBefore,
    priority: r.priority, facility: r.facility, seq: r.seq, ts_us: r.ts_us, flags: r.flags, msg: r.msg,
    props: { ...r.props }, raw: r.raw,
  };
}

export function nativeKmsg(): NativeAddon {
  const addon = nativeAddon();
  if (!addon || typeof addon.kmsgDecode !== "function") throw new Error("the addon with kmsgDecode is required");
  return addon;
}

export function decodeNative(input: Buffer | string): KmsgDecoded[] {
  const { bytes, ends, nums } = nativeKmsg().kmsgDecode(input);
  const out: KmsgDecoded[] = [];
  unpackKmsgBatch(bytes, ends, nums, "kmsg", (d) => out.push(d));
  return out;
}

// Kernel-style messages (format strings from drivers/scsi/scsi_logging.c, block/blk-core.c,
// drivers/md/raid1.c, fs/ext4/super.c, drivers/nvme/host/core.c) with their continuation props.
const SAMPLES: [string, string[]][] = [
  ["sd 2:0:0:%d: [sd%c] tag#%d Sense Key : Medium Error [current] ", [" SUBSYSTEM=scsi", " DEVICE=+scsi:2:0:0:%d"]],
  ["I/O error, dev sd%c, sector %d op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2", []],
  ["md/raid1:md%d: Disk failure on sd%c1, disabling device.\\x0amd/raid1:md0: Operation continuing on 1 devices.", []],
  ["EXT4-fs error (device loop%d): ext4_lookup:1855: inode #%d: comm ls: iget: bad extra_isize 65535", []],
  ["nvme nvme%d: I/O tag %d (1142) opcode 0x2 (I/O Cmd) QID 3 timeout, reset controller", [" SUBSYSTEM=nvme", " DEVICE=c244:%d"]],
  ["caf\\xc3\\xa9 \\xe2\\x82\\xac \\x09tab \\x5cbackslash \\xc3\\x28 bad %d", [" NAME=v\\xc3\\xa9%d"]],
];

/** n raw records (text with continuation lines), deterministic for a seed. */
export function generateStream(n: number, seed = 1): string {
  let x = seed >>> 0;
  const rnd = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const parts: string[] = [];
  let ts = 1_000_000;
  for (let seq = 0; seq < n; seq++) {
    const [fmt, props] = SAMPLES[Math.floor(rnd() * SAMPLES.length)]!;
    const fill = (s: string) => s.replace(/%d/g, () => String(Math.floor(rnd() * 4096))).replace(/%c/g, () => "abcdefgh"[Math.floor(rnd() * 8)]!);
    ts += Math.floor(rnd() * 5000);
    const prefix = rnd() < 0.05 ? 14 : Math.floor(rnd() * 8);
    parts.push(`${prefix},${seq},${ts},${rnd() < 0.1 ? "c" : "-"};${fill(fmt)}\n${props.map((p) => fill(p) + "\n").join("")}`);
  }
  return parts.join("");
}
