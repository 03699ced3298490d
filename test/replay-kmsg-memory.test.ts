// Memory-leak guard for `storeventd replay --kmsg` (compiled binary): the peak RSS of a 600k-record
// kernel log stays within a fixed bound of the peak of a 100k-record one. The input is streamed and
// nothing is collected, so six times the input must not mean more memory (before the streaming fix
// the peak grew by about 35 MiB per extra million records). Not a timing test.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replaySummary } from "./helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "kmsg15b-replay-mem-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Storage lines (each with its own device, so the fold does not hide them) among kernel noise.
const STORAGE = [
  (i: number) => `sd 2:0:0:${i % 64}: [sd${i % 26}] tag#${i % 32} FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK cmd_age=3s`,
  (i: number) => `I/O error, dev sd${i % 26}, sector ${i * 8} op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0`,
  (i: number) => `device-mapper: multipath: 253:${i % 16}: Failing path 8:${i % 240}.`,
  (i: number) => `EXT4-fs error (device dm-${i % 16}): ext4_find_entry:1455: inode #${i}: comm ls: reading directory lblock 0`,
];
const NOISE = [
  "usb 1-1: new high-speed USB device number 3 using xhci_hcd",
  "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
  "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
];

function writeLog(file: string, records: number): void {
  const fd = openSync(file, "w");
  let chunk = "";
  for (let i = 0; i < records; i++) {
    const msg = i % 10 === 0 ? STORAGE[(i / 10) % STORAGE.length]!(i) : `${NOISE[i % NOISE.length]} #${i}`;
    chunk += `${i % 10 === 0 ? 3 : 6},${i + 1},${1_000_000 + i * 137},-;${msg}\n`;
    if (chunk.length > 1 << 20) (writeSync(fd, chunk), (chunk = ""));
  }
  writeSync(fd, chunk);
  closeSync(fd);
}

/** Replays `file` (events to /dev/null) and returns the summary's peak RSS in MiB. */
async function peakMib(file: string, records: number): Promise<number> {
  const s = await replaySummary(["--kmsg", file, "--json", "--boot-time", "2026-01-01T00:00:00Z"]);
  expect(s.code).toBe(0);
  expect(s.summary).toBe(true);
  expect(s.records).toBe(records);
  expect(s.events).toBeGreaterThan(records / 100); // the storage lines became events
  return s.peakMib;
}

describe("storeventd replay --kmsg memory (compiled binary)", () => {
  test("peak RSS of 600k records is within 16 MiB of the peak of 100k records", async () => {
    const small = join(dir, "100k.kmsg");
    const large = join(dir, "600k.kmsg");
    writeLog(small, 100_000);
    writeLog(large, 600_000);
    const a = await peakMib(small, 100_000);
    const b = await peakMib(large, 600_000);
    expect(b - a).toBeLessThanOrEqual(16);
  }, 240_000);
});
