// The addon's layout (native/src/uevent_layout.cc via ueventLayout) and unpackLaid() must give
// exactly the record unpackUevent() gives for the same packed record (key order, raw text and
// SUBSYSTEM included), on every fixture, on records built to confuse it and on a generated mix;
// records it can't lay out (non-ASCII, a segment without '=') must be left untouched.
import { beforeAll, describe, expect, test } from "bun:test";
import { nativeAddon } from "../native.ts";
import { need } from "../../test/helpers/need.ts";
import { ueventCaptures } from "../../test/helpers/uevent-fixtures.ts";
import { decodeUeventFile, packedSubsystem, parseUeventMessage, splitRawCapture, UeventFormat, unpackUevent } from "./parse.ts";
import { laidSubsystem, nativeLayouter, unpackLaid, type Layouter } from "./layout.ts";

const addon = nativeAddon();
let layouter: Layouter;
beforeAll(() => {
  need({ "the addon's ueventLayout (npm install builds it)": Boolean(addon?.ueventLayout && addon.ueventNames) });
  layouter = nativeLayouter(addon)!;
});

/** Packed records back to back, as ueventParse returns them. */
function batch(packed: string[]): { bytes: Buffer; ends: Uint32Array; kinds: Uint8Array } {
  const parts = packed.map((p) => Buffer.from(p, "utf8"));
  const ends = new Uint32Array(parts.length);
  let at = 0;
  parts.forEach((p, i) => (ends[i] = at += p.length));
  return { bytes: Buffer.concat(parts), ends, kinds: new Uint8Array(parts.length).fill(UeventFormat.Kernel) };
}

/** Lays the batch out and checks each record against unpackUevent(); returns how many were laid out. */
function expectSame(packed: string[]): number {
  const b = batch(packed);
  const before = Buffer.from(b.bytes);
  const l = layouter.layout(b.bytes, b.ends, b.kinds);
  let laid = 0;
  let prev = 0;
  packed.forEach((p, i) => {
    const from = prev;
    prev = b.ends[i]!;
    const want = unpackUevent(p, "udev", "src");
    if (l.actions[i] === 0) {
      expect(b.bytes.subarray(from, prev).equals(before.subarray(from, prev))).toBe(true);
      return;
    }
    laid++;
    const got = unpackLaid(b.bytes.toString("latin1", from, prev), l, i, layouter.names, "udev", "src");
    expect(got).toEqual(want);
    expect(Object.keys(got.props)).toEqual(Object.keys(want.props));
    expect(laidSubsystem(b.bytes, from, prev, l, i, layouter.names)).toBe(packedSubsystem(p));
  });
  return laid;
}

function fixtureRecords(): string[] {
  const out: string[] = [];
  const dec = new TextDecoder();
  for (const { data } of ueventCaptures({ rawOnly: true })) {
    let prev = 0;
    for (const end of splitRawCapture(data)) {
      const p = parseUeventMessage(data.subarray(prev, end));
      prev = end;
      if (p.format !== UeventFormat.Bad) out.push(dec.decode(p.packed));
    }
  }
  return out;
}

describe("ueventLayout() + unpackLaid()", () => {
  test("the same records as unpackUevent() on every fixture message", () => {
    const recs = fixtureRecords();
    expect(recs.length).toBeGreaterThan(30);
    expect(expectSame(recs)).toBe(recs.length);
  });

  const laidCases: [string, string][] = [
    ["no properties", "add\0/devices/x"],
    ["empty DEVPATH", "add\0"],
    ["unknown action and keys", "frob\0/devices/x\0FOO=bar\0SUBSYSTEM=usb\0X=1"],
    ["empty values, the last one at the end", "change\0/devices/x\0SUBSYSTEM=\0DEVNAME=\0DEVTYPE="],
    ["a repeated key: the last value in the first key's place", "add\0/d\0SEQNUM=1\0SUBSYSTEM=usb\0SEQNUM=2\0SUBSYSTEM=block"],
    ["a value with = and coded-looking text", "add\0/d\0DEVLINKS=/a SUBSYSTEM=block\0SUBSYSTEM=a=b\0DEVTYPE=disk"],
    ["a known value under another key", "add\0/d\0DRIVER=block\0DEVTYPE=partition\0ACTION=remove"],
    ["a longer key is another key", "add\0/d\0SUBSYSTEMX=block\0XSUBSYSTEM=scsi\0SUBSYSTEM=nvme\0SUBSYSTEMS=usb"],
    ["an object's own names as keys", "add\0/d\0constructor=1\0toString=2\0__proto__=3\0hasOwnProperty=4"],
    ["a newline inside a value", "add\0/d\0SUBSYSTEM=block\0ID_MODEL=a\nb\0DEVNAME=sda"],
  ];
  for (const [what, packed] of laidCases) {
    test(`laid out like unpackUevent(): ${what}`, () => {
      expect(expectSame([packed])).toBe(1);
    });
  }

  const leftCases: [string, string][] = [
    ["non-ASCII value", "add\0/devices/x\0SUBSYSTEM=block\0ID_MODEL=Überdisk"],
    ["non-ASCII devpath", "add\0/devices/é\0SUBSYSTEM=block"],
    ["a segment without =", "add\0/devices/x\0SUBSYSTEM=block\0junk"],
    ["a segment with an empty key", "add\0/devices/x\0=v\0SUBSYSTEM=block"],
    ["action only", "add"],
  ];
  for (const [what, packed] of leftCases) {
    test(`left as it was: ${what}`, () => {
      expect(expectSame([packed])).toBe(0);
    });
  }

  test("bad and other kinds are never touched; laid and unlaid records mix in one batch", () => {
    const packed = ["add\0/d\0SUBSYSTEM=block", "udev magic mismatch", "add\0/é\0SUBSYSTEM=block", "remove\0/d\0SUBSYSTEM=scsi"];
    const b = batch(packed);
    b.kinds[1] = UeventFormat.Bad;
    const before = Buffer.from(b.bytes);
    const l = layouter.layout(b.bytes, b.ends, b.kinds);
    expect([...l.actions].map((a) => (a === 0 ? "-" : layouter.names.values[a - 1]))).toEqual(["add", "-", "-", "remove"]);
    expect(b.bytes.toString("utf8", b.ends[0], b.ends[3])).toBe(before.toString("utf8", b.ends[0], b.ends[2]) + "remove@/d\nSUBSYSTEM=scsi");
  });

  test("a generated mix of 20k records (kernel and udev properties) unpacks the same", () => {
    const actions = ["add", "change", "remove", "move", "online", "bind"];
    const subs = ["block", "scsi", "nvme", "usb", "net", "platform"];
    const recs: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const a = actions[i % actions.length]!;
      const props = [`ACTION=${a}`, `DEVPATH=/devices/x/${i}`, `SUBSYSTEM=${subs[(i >> 1) % subs.length]}`, `SEQNUM=${i}`];
      if (i % 3 === 0) props.push(`DEVTYPE=${i % 2 ? "disk" : "partition"}`, `MAJOR=8`, `MINOR=${i % 256}`, `DEVNAME=sd${i}`);
      if (i % 5 === 0) props.push(`DEVLINKS=/dev/disk/by-id/wwn-0x${i} /dev/disk/by-path/p${i}`, `ID_SERIAL=S${i}`, `X_UNKNOWN_${i % 7}=v`);
      if (i % 7 === 0) props.push(`SDEV_UA=POWER_ON_RESET_OCCURRED`);
      recs.push(`${a}\0/devices/x/${i}\0${props.join("\0")}`);
    }
    expect(expectSame(recs)).toBe(recs.length);
  });

  test("decodeUeventFile() with the layouter yields what it yields without, keep() sees the same SUBSYSTEMs", () => {
    need({ "the addon's ueventParse": Boolean(addon?.ueventParse) });
    const parse = addon!.ueventParse!.bind(addon);
    for (const { data } of ueventCaptures()) {
      const run = (l?: Layouter) => {
        const seen: (string | undefined)[] = [];
        const bad: string[] = [];
        const keep = (s: string | undefined) => (seen.push(s), s !== "usb");
        const recs = [...decodeUeventFile(data, "t", (r) => bad.push(r), parse, keep, l)];
        return { recs, seen, bad };
      };
      expect(run(layouter)).toEqual(run());
      expect(run({ ...layouter, parseLaid: undefined })).toEqual(run()); // ueventParse, then ueventLayout
    }
  });

  test("ueventParse(..., true) lays out in the same pass exactly what ueventLayout() lays out after it", () => {
    const msgs: Buffer[] = [];
    for (const { data } of ueventCaptures({ rawOnly: true })) {
      let prev = 0;
      for (const end of splitRawCapture(data)) msgs.push(data.subarray(prev, (prev = end)));
    }
    msgs.push(Buffer.from("add@/devices/\xc3\xa9\0SUBSYSTEM=block\0", "latin1"), Buffer.from("garbage"), Buffer.from("libudev\0short"));
    const ends = new Uint32Array(msgs.length);
    let at = 0;
    msgs.forEach((m, i) => (ends[i] = at += m.length));
    const input = Buffer.concat(msgs);
    const twoStep = addon!.ueventParse!(input, ends);
    const layout = addon!.ueventLayout!(twoStep.bytes, twoStep.ends, twoStep.kinds);
    const onePass = addon!.ueventParse!(input, ends, true);
    expect(onePass.bytes.equals(twoStep.bytes)).toBe(true);
    expect([...onePass.ends]).toEqual([...twoStep.ends]);
    expect([...onePass.kinds]).toEqual([...twoStep.kinds]);
    for (const k of ["props", "offs", "heads", "keys", "values", "actions"] as const) expect([...onePass.layout[k]]).toEqual([...layout[k]]);
    expect([...onePass.kinds].filter((k) => k === UeventFormat.Bad).length).toBe(2);
    expect(onePass.layout.actions.filter((a) => a !== 0).length).toBe(msgs.length - 3);
  });
});
