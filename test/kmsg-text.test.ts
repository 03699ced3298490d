// decodeKmsgText (replay --kmsg): raw /dev/kmsg records and the saved text forms of a kernel log.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeKmsgText, type KmsgTextStats } from "../src/kmsg/decode.ts";
import { runBin } from "./helpers/bin.ts";

function one(line: string) {
  const recs = [...decodeKmsgText(line, "replay")];
  expect(recs.length).toBe(1);
  return recs[0]!;
}

describe("decodeKmsgText()", () => {
  test("raw records keep their header fields and continuation props", () => {
    const text = "3,4120,8804563512,-;sd 2:0:0:1: [sdb] tag#3 Sense Key : Medium Error [current] \n SUBSYSTEM=scsi\n DEVICE=+scsi:2:0:0:1\n6,4121,8804563600,c;next\n";
    const recs = [...decodeKmsgText(text, "replay")];
    expect(recs.map((r) => [r.seq, r.priority, r.facility, r.ts_us, r.flags, r.msg, { ...r.props }])).toEqual([
      [4120, 3, 0, 8804563512, "-", "sd 2:0:0:1: [sdb] tag#3 Sense Key : Medium Error [current] ", { SUBSYSTEM: "scsi", DEVICE: "+scsi:2:0:0:1" }],
      [4121, 6, 0, 8804563600, "c", "next", {}],
    ]);
    expect(recs[0]!.source).toBe("replay");
    expect(recs[0]!.raw).toBe("3,4120,8804563512,-;sd 2:0:0:1: [sdb] tag#3 Sense Key : Medium Error [current] \n SUBSYSTEM=scsi\n DEVICE=+scsi:2:0:0:1");
  });

  test("dmesg: plain, -r (<prefix>), -x (facility:level) and -T (wall-clock) lines", () => {
    expect(one("[ 8804.563601] I/O error, dev sdb, sector 2048 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2"))
      .toMatchObject({ ts_us: 8804563601, priority: 6, facility: 0, msg: "I/O error, dev sdb, sector 2048 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2" });
    expect(one("<3>[    2.500000] md/raid1:md0: Disk failure on sdb1, disabling device.")).toMatchObject({ ts_us: 2500000, priority: 3, facility: 0 });
    expect(one("<12>[    2.5] user line")).toMatchObject({ ts_us: 2500000, priority: 4, facility: 1, msg: "user line" });
    expect(one("kern  :err   : [    3.000001] Buffer I/O error on dev sdb1, logical block 0, async page read"))
      .toMatchObject({ ts_us: 3000001, priority: 3, facility: 0, msg: "Buffer I/O error on dev sdb1, logical block 0, async page read" });
    expect(one("daemon:notice: no timestamp")).toMatchObject({ priority: 5, facility: 3, ts_us: 0, msg: "no timestamp" });
    const t = one("[Thu Nov 26 00:30:36 2026] EXT4-fs (loop0): Remounting filesystem read-only");
    expect(t.time_us).toBe(Date.parse("Thu Nov 26 00:30:36 2026") * 1000);
    expect(t.msg).toBe("EXT4-fs (loop0): Remounting filesystem read-only");
  });

  test("journal and syslog lines: kernel ones are facility 0, others user; wall-clock time", () => {
    const k = one("Nov 26 00:30:36 node-a kernel: [  123.456789] nvme nvme0: controller is down; will reset: CSTS=0x3");
    expect(k).toMatchObject({ facility: 0, ts_us: 123456789, msg: "nvme nvme0: controller is down; will reset: CSTS=0x3" });
    expect(k.time_us).toBe(Date.parse(`Nov 26 00:30:36 ${new Date().getFullYear()}`) * 1000);
    expect(one("2026-11-26T00:30:36.250000+00:00 node-a kernel: XFS (dm-3): Filesystem has been shut down due to log error (0x2)."))
      .toMatchObject({ facility: 0, time_us: Date.parse("2026-11-26T00:30:36Z") * 1000 + 250000, msg: "XFS (dm-3): Filesystem has been shut down due to log error (0x2)." });
    expect(one("Nov  6 00:30:36.123456 node-a multipathd[812]: sdb: mark as failed")).toMatchObject({ facility: 1, msg: "sdb: mark as failed" });
  });

  test("other lines are kernel messages numbered by position; bad raw records are counted", () => {
    const stats: KmsgTextStats = { records: 0, bad: 0 };
    const recs = [...decodeKmsgText("\nplain words\r\n6,1,2,zz;bad flags\n6,99999999999999999999,2,-;huge seq\n\n6,3,4,-;ok\n", "r", stats)];
    expect(recs.map((r) => [r.seq, r.msg])).toEqual([[0, "plain words"], [3, "ok"]]);
    expect(stats).toEqual({ records: 2, bad: 2 });
  });

  test("hostile lines: 10 MB, invalid UTF-8, NUL, escapes", () => {
    expect(one(`[    1.000000] ${"z".repeat(10 << 20)}`).msg.length).toBe(10 << 20);
    const bin = new TextDecoder().decode(Buffer.from([0x5b, 0x31, 0x2e, 0x30, 0x5d, 0x20, 0xff, 0x00, 0x41]));
    expect(one(bin).msg).toBe("\ufffd\u0000A");
    expect(one("[    1.000000] caf\\xc3\\xa9 \\x0a").msg).toBe("café \\x0a");
  });
});

describe("storeventd replay --kmsg (compiled binary)", () => {
  test("decodes raw, dmesg and journal lines; user records are skipped unless asked", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kmsg-replay-"));
    try {
      const file = join(dir, "k.log");
      writeFileSync(file, "6,1,2,-;raw kernel\n SUBSYSTEM=block\n12,2,3,-;raw user\n[    1.000000] dmesg\nNov 26 00:30:36 h kernel: journal\nNov 26 00:30:36 h sshd[1]: user\n6,4,5,?;bad\n");
      const a = await runBin(["replay", "--kmsg", file]);
      expect(a.code).toBe(0);
      expect(a.stderr).toMatch(/replay: 5 records, \d+ events, 2 skipped/);
      const b = await runBin(["replay", "--kmsg", file, "--accept-user-records"]);
      expect(b.stderr).toMatch(/replay: 5 records, \d+ events(,|$)/m);
      expect(b.stderr).not.toContain("skipped");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
