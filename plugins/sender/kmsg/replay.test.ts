// `replay --kmsg` input is the kmsg sender's contribution: pieces of whole records, decoded as
// the saved forms of a kernel log (raw records with continuation lines, dmesg lines).
import { describe, expect, test } from "bun:test";
import plugin from "./index.ts";

const LOG =
  "3,10,5000,-;sd 2:0:0:0: [sdb] tag#1 Sense Key : Medium Error [current]\n" +
  " SUBSYSTEM=scsi\n" +
  " DEVICE=+scsi:2:0:0:0\n" +
  "6,11,6000,-;usb 1-1: new high-speed USB device number 3 using xhci_hcd\n" +
  "[   12.345678] EXT4-fs (sda1): mounted filesystem\n";

describe("kmsg sender replay contribution", () => {
  const replay = plugin.replay!;

  test("declares the --kmsg input, streamed by a cut that keeps continuation lines with their record", () => {
    expect(replay.input).toBe("kmsg");
    const b = new TextEncoder().encode(LOG);
    const afterFirstLine = LOG.indexOf("\n") + 1;
    // Cutting right after the first line would separate " SUBSYSTEM=scsi" from its record.
    expect(replay.cut!(b, afterFirstLine + 3)).toBe(0);
    expect(replay.cut!(b, b.length)).toBe(LOG.indexOf("[   12"));
  });

  test("decode() gives each record of a piece in order, with no sender events", () => {
    const out = [...replay.decode!(new TextEncoder().encode(LOG), null, () => {})];
    expect(out.map(({ rec }) => rec.kind === "kmsg" && [rec.seq, rec.ts_us, rec.priority, rec.msg])).toEqual([
      [10, 5000, 3, "sd 2:0:0:0: [sdb] tag#1 Sense Key : Medium Error [current]"],
      [11, 6000, 6, "usb 1-1: new high-speed USB device number 3 using xhci_hcd"],
      [2, 12_345_678, 6, "EXT4-fs (sda1): mounted filesystem"],
    ]);
    const first = out[0]!.rec;
    expect(first.kind === "kmsg" && { ...first.props }).toEqual({ SUBSYSTEM: "scsi", DEVICE: "+scsi:2:0:0:0" });
    expect(out.every(({ rec, drafts }) => rec.source === "kmsg" && drafts.length === 0)).toBe(true);
  });
});
