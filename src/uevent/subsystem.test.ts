// packedSubsystem(): the SUBSYSTEM a consumer filters on before unpacking must be the one
// unpackUevent() puts in props, on every fixture and on packed records built to confuse it.
import { describe, expect, test } from "bun:test";
import { ueventCaptures } from "../../test/helpers/uevent-fixtures.ts";
import { packedSubsystem, parseUeventMessage, splitRawCapture, unpackUevent, UeventFormat } from "./parse.ts";


describe("packedSubsystem()", () => {
  test("agrees with unpackUevent().props.SUBSYSTEM on every raw fixture message", () => {
    const dec = new TextDecoder();
    let checked = 0;
    const subsystems = new Set<string>();
    for (const { data } of ueventCaptures({ rawOnly: true })) {
      let prev = 0;
      for (const end of splitRawCapture(data)) {
        const p = parseUeventMessage(data.subarray(prev, end));
        prev = end;
        if (p.format === UeventFormat.Bad) continue;
        const text = dec.decode(p.packed);
        const want = unpackUevent(text, "kernel", "t").props.SUBSYSTEM;
        expect(packedSubsystem(text)).toBe(want);
        if (want) subsystems.add(want);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect([...subsystems].sort()).toEqual(expect.arrayContaining(["block", "nvme", "scsi"]));
  });

  const cases: [string, string][] = [
    ["no properties", "add\0/devices/x"],
    ["action only", "add"],
    ["no SUBSYSTEM", "add\0/devices/x\0DEVNAME=sda\0SEQNUM=1"],
    ["empty SUBSYSTEM", "add\0/devices/x\0SUBSYSTEM=\0SEQNUM=1"],
    ["the last one wins", "add\0/devices/x\0SUBSYSTEM=usb\0SUBSYSTEM=block"],
    ["last segment", "add\0/devices/x\0SEQNUM=1\0SUBSYSTEM=scsi"],
    ["a longer key is another key", "add\0/devices/x\0SUBSYSTEMX=block\0XSUBSYSTEM=scsi\0SUBSYSTEM=nvme\0SUBSYSTEMS=usb"],
    ["the text inside a value", "change\0/devices/x\0DEVLINKS=/a SUBSYSTEM=block\0SUBSYSTEM=net"],
    ["a DEVPATH value that looks like a property", "add\0SUBSYSTEM=block\0DEVNAME=x"],
    ["an ACTION value that looks like one", "SUBSYSTEM=block\0/devices/x\0SUBSYSTEM=scsi"],
    ["a value with =", "add\0/devices/x\0SUBSYSTEM=a=b"],
  ];
  for (const [what, packed] of cases) {
    test(`agrees with unpackUevent(): ${what}`, () => {
      expect(packedSubsystem(packed)).toBe(unpackUevent(packed, "kernel", "t").props.SUBSYSTEM);
    });
  }
  test("the expected answers for the tricky ones", () => {
    expect(packedSubsystem("add\0/devices/x\0SUBSYSTEM=usb\0SUBSYSTEM=block")).toBe("block");
    expect(packedSubsystem("add\0SUBSYSTEM=block\0DEVNAME=x")).toBeUndefined();
    expect(packedSubsystem("add\0/devices/x\0SUBSYSTEM=")).toBe("");
  });
});
