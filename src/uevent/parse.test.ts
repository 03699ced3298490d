// The uevent parser: native (native/src/uevent_parse.cc via ueventParse) and the TypeScript twin
// must produce identical packed records on every fixture, on hostile input and on a generated
// 1M-message stream; plus the recorded-input decoder used by `replay --uevent`.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { nativeAddon } from "../native.ts";
import { need } from "../../test/helpers/need.ts";
import { decodeUeventFile, parseUeventMessage, rawOfPacked, splitRawCapture, UeventFormat, unpackUevent } from "./parse.ts";

const FIXTURES = join(import.meta.dir, "../../plugins/sender/udev/testdata");
const addon = nativeAddon();
const enc = new TextEncoder();

function kernelMsg(action: string, devpath: string, props: string[]): Uint8Array {
  return enc.encode(`${action}@${devpath}\0${props.map((p) => p + "\0").join("")}`);
}

/** A message as udevd sends it (device-monitor.c): 40-byte header, then the properties. */
function udevMsg(props: string[], opts: { magic?: number; off?: number; len?: number } = {}): Uint8Array {
  const body = enc.encode(props.map((p) => p + "\0").join(""));
  const out = new Uint8Array(40 + body.length);
  out.set(enc.encode("libudev\0"), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, opts.magic ?? 0xfeedcafe, false);
  dv.setUint32(12, 40, true);
  dv.setUint32(16, opts.off ?? 40, true);
  dv.setUint32(20, opts.len ?? body.length, true);
  out.set(body, 40);
  return out;
}

/** The TS twin over many messages, in the addon's output shape. */
function tsParseMany(msgs: Uint8Array[]): { bytes: Buffer; kinds: number[]; ends: number[] } {
  const parts: Uint8Array[] = [];
  const kinds: number[] = [];
  const ends: number[] = [];
  let size = 0;
  for (const m of msgs) {
    const p = parseUeventMessage(m);
    const out = p.format === UeventFormat.Bad ? enc.encode(p.reason) : p.packed;
    parts.push(out);
    size += out.length;
    kinds.push(p.format);
    ends.push(size);
  }
  return { bytes: Buffer.concat(parts), kinds, ends };
}

function nativeParseMany(msgs: Uint8Array[]) {
  const ends = new Uint32Array(msgs.length);
  let at = 0;
  msgs.forEach((m, i) => (ends[i] = at += m.length));
  const res = addon!.ueventParse!(Buffer.concat(msgs), ends);
  return { bytes: res.bytes, kinds: [...res.kinds], ends: [...res.ends] };
}

function expectSame(msgs: Uint8Array[]): void {
  const ts = tsParseMany(msgs);
  const nat = nativeParseMany(msgs);
  expect(nat.kinds).toEqual(ts.kinds);
  expect(nat.ends).toEqual(ts.ends);
  expect(nat.bytes.equals(ts.bytes)).toBe(true);
}

function fixtureMessages(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const name of readdirSync(FIXTURES)) {
    const data = readFileSync(join(FIXTURES, name, "input.uevent"));
    if (data.indexOf(0) < 0) continue; // udevadm text
    let prev = 0;
    for (const end of splitRawCapture(data)) {
      out.push(data.subarray(prev, end));
      prev = end;
    }
  }
  return out;
}

const HOSTILE: [string, Uint8Array][] = [
  ["empty", new Uint8Array(0)],
  ["header only, no NUL", enc.encode("add@/devices/virtual/block/loop0")],
  ["no @", kernelMsg("add", "", ["ACTION=add"]).subarray(1)],
  ["action with a digit", kernelMsg("add1", "/devices/x", ["A=1"])],
  ["upper-case action", kernelMsg("ADD", "/devices/x", ["A=1"])],
  ["devpath not absolute", enc.encode("add@devices/x\0ACTION=add\0")],
  ["action longer than 32", kernelMsg("a".repeat(33), "/devices/x", ["A=1"])],
  ["action of 32", kernelMsg("a".repeat(32), "/devices/x", ["A=1"])],
  ["segments without = and with empty key", kernelMsg("change", "/devices/x", ["NOEQUALS", "=value", "K=", "K2=v=w"])],
  ["double NULs", enc.encode("change@/devices/x\0\0\0ACTION=change\0\0SEQNUM=1")],
  ["invalid UTF-8", new Uint8Array([...enc.encode("change@/devices/x\0DEVNAME=\xff"), 0xff, 0xfe, 0xc3, 0x28, 0, ...enc.encode("SEQNUM=2\0")])],
  ["10 MB value", kernelMsg("change", "/devices/x", ["BIG=" + "x".repeat(10 << 20), "SEQNUM=3"])],
  ["udev", udevMsg(["ACTION=add", "DEVPATH=/devices/virtual/block/loop0", "SUBSYSTEM=block", "DEVLINKS=/dev/disk/by-id/a /dev/b", "SEQNUM=9"])],
  ["udev bad magic", udevMsg(["ACTION=add", "DEVPATH=/d"], { magic: 0xcafefeed })],
  ["udev offset past the end", udevMsg(["ACTION=add", "DEVPATH=/d"], { off: 4096 })],
  ["udev offset inside the header", udevMsg(["ACTION=add", "DEVPATH=/d"], { off: 8 })],
  ["udev length past the end", udevMsg(["ACTION=add", "DEVPATH=/d", "X=1"], { len: 1 << 30 })],
  ["udev length cuts DEVPATH", udevMsg(["ACTION=add", "DEVPATH=/d"], { len: 11 })],
  ["udev without DEVPATH", udevMsg(["ACTION=add", "SUBSYSTEM=block"])],
  ["udev empty ACTION", udevMsg(["ACTION=", "DEVPATH=/d"])],
  ["udev header truncated", udevMsg(["ACTION=add"]).subarray(0, 30)],
  ["libudev prefix only", enc.encode("libudev\0")],
];

describe("parseUeventMessage()", () => {
  test("kernel format -> ACTION, DEVPATH, then the KEY=VALUE segments", () => {
    const p = parseUeventMessage(kernelMsg("change", "/devices/virtual/block/loop0", ["ACTION=change", "NOPE", "DISK_MEDIA_CHANGE=1"]));
    expect(p.format).toBe(UeventFormat.Kernel);
    if (p.format === UeventFormat.Bad) return;
    expect(new TextDecoder().decode(p.packed).split("\0")).toEqual([
      "change", "/devices/virtual/block/loop0", "ACTION=change", "DISK_MEDIA_CHANGE=1",
    ]);
  });

  test("libudev format -> ACTION and DEVPATH from the properties", () => {
    const p = parseUeventMessage(udevMsg(["SEQNUM=4", "ACTION=remove", "DEVPATH=/devices/virtual/block/md0"]));
    expect(p.format).toBe(UeventFormat.Udev);
    if (p.format === UeventFormat.Bad) return;
    expect(new TextDecoder().decode(p.packed).split("\0").slice(0, 3)).toEqual(["remove", "/devices/virtual/block/md0", "SEQNUM=4"]);
  });

  test("hostile input is bad or parsed, never thrown", () => {
    const verdicts = HOSTILE.map(([name, m]) => [name, parseUeventMessage(m).format]);
    expect(Object.fromEntries(verdicts)).toEqual({
      "empty": 3, "header only, no NUL": 3, "no @": 3, "action with a digit": 3, "upper-case action": 3,
      "devpath not absolute": 3, "action longer than 32": 3, "action of 32": 1, "segments without = and with empty key": 1,
      "double NULs": 1, "invalid UTF-8": 1, "10 MB value": 1, "udev": 2, "udev bad magic": 3,
      "udev offset past the end": 3, "udev offset inside the header": 3, "udev length past the end": 2,
      "udev length cuts DEVPATH": 3, "udev without DEVPATH": 3, "udev empty ACTION": 3, "udev header truncated": 3,
      "libudev prefix only": 3,
    });
  });
});

describe("native vs TypeScript parser", () => {
  beforeAll(() => need({ "the addon's ueventParse (npm install builds it)": Boolean(addon?.ueventParse) }));
  test("identical on every fixture message", () => {
    const msgs = fixtureMessages();
    expect(msgs.length).toBeGreaterThan(40);
    expectSame(msgs);
  });

  test("identical on hostile input", () => {
    for (const [, m] of HOSTILE) expectSame([m]);
    expectSame(HOSTILE.map(([, m]) => m));
  });

  test("identical on a generated stream of 1M messages (valid, udev, mutated)", () => {
    let seed = 0x9e3779b9;
    const rnd = (n: number) => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const actions = ["add", "remove", "change", "move", "online", "offline", "bind"];
    const keys = ["SUBSYSTEM=block", "DEVTYPE=disk", "DEVTYPE=partition", "DISK_MEDIA_CHANGE=1", "RESIZE=1", "SDEV_UA=POWER_ON_RESET_OCCURRED", "NVME_AEN=0x020001", "DM_ACTION=PATH_FAILED", "X"];
    const total = 1_000_000;
    let checked = 0;
    for (let chunk = 0; chunk < 10; chunk++) {
      const msgs: Uint8Array[] = [];
      for (let i = 0; i < total / 10; i++) {
        const a = actions[rnd(actions.length)]!;
        const dev = `loop${rnd(64)}`;
        const props = [`ACTION=${a}`, `DEVPATH=/devices/virtual/block/${dev}`, keys[rnd(keys.length)]!, `DEVNAME=${dev}`, `SEQNUM=${i}`];
        let m = rnd(8) === 0 ? udevMsg(props) : kernelMsg(a, `/devices/virtual/block/${dev}`, props);
        const mut = rnd(16);
        if (mut === 0) m = m.subarray(0, rnd(m.length + 1)); // truncated
        else if (mut === 1) { m = m.slice(); m[rnd(m.length)] = rnd(256); } // a random byte
        else if (mut === 2) { m = m.slice(); m[rnd(m.length)] = 0; } // a stray NUL
        msgs.push(m);
      }
      expectSame(msgs);
      checked += msgs.length;
    }
    expect(checked).toBe(total);
  }, 60_000);
});

describe("decodeUeventFile()", () => {
  test("a raw capture splits into its messages, separators between them are tolerated", () => {
    const a = kernelMsg("add", "/devices/virtual/block/loop5", ["ACTION=add", "SUBSYSTEM=block", "SEQNUM=1"]);
    const b = udevMsg(["ACTION=change", "DEVPATH=/devices/virtual/block/loop5", "SUBSYSTEM=block", "SEQNUM=2"]);
    const c = kernelMsg("remove", "/devices/virtual/block/loop5", ["ACTION=remove", "SEQNUM=3"]);
    const data = Buffer.concat([a, enc.encode("\n"), b, c, enc.encode("\n\n")]);
    for (const parseMany of [undefined, addon?.ueventParse]) {
      const bad: string[] = [];
      const recs = [...decodeUeventFile(data, "t", (r) => bad.push(r), parseMany)];
      expect(recs.map((r) => `${r.origin} ${r.action} ${r.props.SEQNUM}`)).toEqual(["kernel add 1", "udev change 2", "kernel remove 3"]);
      expect(bad).toEqual([]);
      expect(recs[0]!.raw).toBe("add@/devices/virtual/block/loop5\nACTION=add\nSUBSYSTEM=block\nSEQNUM=1");
    }
  });

  test("udevadm monitor text: KERNEL and UDEV blocks; chatter and bad lines skipped", () => {
    const text = [
      "monitor will print the received events for:", "KERNEL - the kernel uevent", "",
      "KERNEL[100.5] change   /devices/virtual/block/loop1 (block)", "ACTION=change", "DEVPATH=/devices/virtual/block/loop1",
      "SUBSYSTEM=block", "garbage line", "SEQNUM=7", "",
      "UDEV  [100.6] change   /devices/virtual/block/loop1 (block)", "ACTION=change", "SEQNUM=7", "",
    ].join("\n");
    const bad: string[] = [];
    const recs = [...decodeUeventFile(enc.encode(text), "t", (r) => bad.push(r))];
    expect(recs.map((r) => [r.origin, r.action, r.devpath, r.props.SUBSYSTEM])).toEqual([
      ["kernel", "change", "/devices/virtual/block/loop1", "block"],
      ["udev", "change", "/devices/virtual/block/loop1", "block"],
    ]);
    expect(bad).toEqual(["udevadm property line without KEY="]);
  });

  test("bad messages in a capture are reported and skipped", () => {
    const bad: string[] = [];
    const data = Buffer.concat([enc.encode("junk\0"), kernelMsg("add", "/devices/x", ["SEQNUM=1"])]);
    const recs = [...decodeUeventFile(data, "t", (r) => bad.push(r))];
    expect(recs.length).toBe(1);
    expect(bad).toEqual(["bad kernel header (want ACTION@/devpath)"]);
  });
});

describe("rawOfPacked()", () => {
  test("the same raw text as unpackUevent() builds from the decoded string (UTF-8, bad bytes, no NUL)", () => {
    const recs = [
      Buffer.from("change\0/devices/virtual/block/loop7\0ACTION=change\0DEVPATH=/devices/virtual/block/loop7\0SUBSYSTEM=block\0SEQNUM=9"),
      Buffer.from("add\0/devices/x/block/sdb\0ID_MODEL=Disk\u00e9\u4e2d\0ID_SERIAL=\u{1f4be}", "utf8"),
      Buffer.from("remove"), Buffer.from("remove\0"), Buffer.from("\0\0"),
      Buffer.from("a\0/d\0K=\xff\xfe\0B=\xc3\0C=\xe4\xb8", "latin1"), // invalid UTF-8 on purpose
    ];
    const big = Buffer.concat([Buffer.from("change\0/d\0"), Buffer.alloc(9000, 0x41), Buffer.from("\0X=1")]);
    const batch = Buffer.concat([...recs, big, recs[0]!]);
    let from = 0;
    for (const r of [...recs, big, recs[0]!]) {
      const to = from + r.length;
      const text = batch.toString("utf8", from, to);
      expect(rawOfPacked(batch, from, to)).toBe(unpackUevent(text, "kernel", "t").raw);
      from = to;
    }
  });
});
