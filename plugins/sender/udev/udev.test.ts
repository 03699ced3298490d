// Recorded uevents (testdata/<case>/input.uevent: raw netlink bytes in the kernel's format, or
// udevadm monitor text) -> the udev catalog events (testdata/<case>/expected.ndjson).
// `npm run update-goldens` rewrites the expected files; a missing one fails.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { parse as parseToml } from "smol-toml";
import { decodeUeventFile, nativeAddon } from "../../../src/plugin-kit/readers.ts";
import { need } from "../../../test/helpers/need.ts";
import { replayClassifier } from "./classify.ts";
import type { EventDraft, UeventRecord } from "../../../src/plugin-api.ts";
import { makeContext } from "../../../test/helpers/context.ts";
import { golden } from "../../../test/helpers/golden.ts";
import plugin, { schema, UdevSender } from "./index.ts";

const DATA = join(import.meta.dir, "testdata");

function run(caseName: string) {
  const bad: string[] = [];
  const records = [...decodeUeventFile(readFileSync(join(DATA, caseName, "input.uevent")), "udev", (r) => bad.push(r))];
  const c = replayClassifier();
  const drafts: EventDraft[] = [];
  const forwarded: UeventRecord[] = [];
  for (const r of records) {
    const h = c.handle(r);
    if (h.status === "new") forwarded.push(r);
    if (h.bad) bad.push(h.bad);
    drafts.push(...h.drafts);
  }
  return { records, drafts, forwarded, bad, inventory: c.inventory };
}

describe("udev catalog fixtures", () => {
  for (const name of readdirSync(DATA).sort()) {
    test(`testdata/${name} -> expected.ndjson`, () => {
      const { drafts } = run(name);
      const text = drafts.map((d) => JSON.stringify(d)).join("\n") + (drafts.length ? "\n" : "");
      expect(text).toBe(golden(join(DATA, name, "expected.ndjson"), text));
    });
  }

  test("loop lifecycle (real 6.18 capture): changed, resized, partitions, media change, removal", () => {
    const { drafts } = run("loop-lifecycle");
    expect(drafts.map((d) => `${d.event_type} ${d.dev_name}`)).toEqual([
      "DEVICE_CHANGED loop2", "DEVICE_RESIZED loop2", "DEVICE_ADDED loop2p1", "DEVICE_ADDED loop2p2",
      "DEVICE_CHANGED loop2", "MEDIA_CHANGED loop2", "DEVICE_REMOVED loop2p1", "DEVICE_REMOVED loop2p2", "DEVICE_REMOVED loop2",
    ]);
    expect(drafts[2]!.extension).toMatchObject({ parent: "loop2", devtype: "partition", majmin: "259:0" });
  });

  test("SDEV_UA on the scsi_device names the disk at that H:C:T:L, with the sense code", () => {
    const { drafts } = run("sd-scsi");
    const ua = drafts.filter((d) => d.event_type === "SCSI_UNIT_ATTENTION");
    expect(ua.map((d) => d.extension!.ua)).toEqual([
      "CAPACITY_DATA_HAS_CHANGED", "INQUIRY_DATA_HAS_CHANGED", "THIN_PROVISIONING_SOFT_THRESHOLD_REACHED",
      "MODE_PARAMETERS_CHANGED", "REPORTED_LUNS_DATA_HAS_CHANGED", "ASYMMETRIC_ACCESS_STATE_CHANGED", "POWER_ON_RESET_OCCURRED",
    ]);
    for (const d of ua) expect(d).toMatchObject({ dev_name: "sdb", system: "scsi", extension: { scsi_address: "2:0:0:0" } });
    expect(ua[0]!.extension).toMatchObject({ asc: "0x2a", ascq: "0x09" });
    expect(ua[2]!.severity).toBe("warn");
    const media = drafts.filter((d) => d.event_type === "MEDIA_CHANGED");
    expect(media.map((d) => d.dev_name)).toEqual(["sr0", "sr0"]); // SDEV_MEDIA_CHANGE and DISK_MEDIA_CHANGE
    expect(drafts.find((d) => d.event_type === "DEVICE_REMOVED" && d.dev_name === "sdb")!.severity).toBe("warn");
  });

  test("scsi_device add/remove -> SCSI_DEVICE_ADDED/REMOVED; scsi_device uevents are never named empty", () => {
    const { drafts } = run("scsi-device-lifecycle");
    // Written from the kernel's order: scsi_device add before sd binds, del_gendisk before the scsi_device goes.
    expect(drafts.map((d) => `${d.severity} ${d.event_type} ${d.dev_name}`)).toEqual([
      "info SCSI_DEVICE_ADDED 4:0:0:0", "info DEVICE_ADDED sdc", "info MEDIA_CHANGED sdc", "info MEDIA_CHANGED 5:0:0:0",
      "warn DEVICE_REMOVED sdc", "warn SCSI_DEVICE_REMOVED sdc",
    ]);
    expect(drafts[0]!.extension).toEqual({ scsi_address: "4:0:0:0", seqnum: 6100, scsi_type: 0 });
    expect(drafts[5]!.extension).toMatchObject({ scsi_address: "4:0:0:0" });
    for (const d of drafts) expect(d.dev_name).not.toBe("");
  });

  test("NVME_AEN: SMART/health -> NVME_CRITICAL_WARNING, other types -> NVME_ASYNC_EVENT", () => {
    const { drafts } = run("nvme-aen");
    const aen = drafts.filter((d) => d.system === "nvme");
    expect(aen.map((d) => [d.event_type, d.severity, d.extension!.info_name])).toEqual([
      ["NVME_CRITICAL_WARNING", "error", "NVM subsystem reliability degraded"],
      ["NVME_CRITICAL_WARNING", "warn", "temperature threshold crossed"],
      ["NVME_CRITICAL_WARNING", "error", "available spare below threshold"],
      ["NVME_ASYNC_EVENT", "warn", "transient internal error"],
      ["NVME_ASYNC_EVENT", "error", "diagnostic failure"],
      ["NVME_ASYNC_EVENT", "info", "sanitize operation completed"],
      ["NVME_ASYNC_EVENT", "info", "info 0x00"],
    ]);
    expect(aen[2]).toMatchObject({ dev_name: "nvme0", dev_path: "/dev/nvme0", extension: { log_page: 2, type: 1 } });
  });

  test("dm path events go to the parsers only; cookie and resize changes are device events", () => {
    const { drafts, forwarded } = run("dm-multipath");
    expect(drafts.map((d) => d.event_type)).toEqual(["DEVICE_ADDED", "DEVICE_CHANGED", "DEVICE_RESIZED", "DEVICE_REMOVED"]);
    expect(forwarded.filter((r) => r.props.DM_ACTION).map((r) => r.props.DM_ACTION)).toEqual(["PATH_FAILED", "PATH_REINSTATED"]);
  });

  test("udevadm monitor text: the UDEV copy of a SEQNUM is not a second event", () => {
    const { drafts, records } = run("udevadm-text");
    expect(records.map((r) => `${r.origin} ${r.action} ${r.props.SEQNUM}`)).toEqual([
      "kernel add 4417", "kernel add 4418", "kernel change 4425", "udev change 4425", "kernel remove 4431",
    ]);
    expect(drafts.map((d) => d.event_type)).toEqual(["DEVICE_ADDED", "MEDIA_CHANGED", "DEVICE_REMOVED"]);
  });

  test("near misses produce no event; a non-hex NVME_AEN is counted bad", () => {
    const { drafts, bad, forwarded } = run("near-miss");
    expect(drafts).toEqual([]);
    expect(bad).toEqual(["NVME_AEN value is not hex"]);
    expect(forwarded.map((r) => r.props.SEQNUM)).toEqual(["101", "103", "104", "105"]);
  });
});

describe("udev sender", () => {
  test("sample.toml parses with the schema and equals the README's Configuration block", () => {
    const sample = readFileSync(join(import.meta.dir, "sample.toml"), "utf8");
    const table = parseToml(sample).udev as Record<string, unknown>;
    const { type: _t, ...opts } = table;
    expect(v.parse(schema, opts)).toEqual(v.parse(schema, {}));
    const readme = readFileSync(join(import.meta.dir, "README.md"), "utf8");
    const block = /## Configuration\n+```toml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(sample);
    expect(plugin.name).toBe("udev");
  });

  test("schema rejects unknown keys and bad values", () => {
    expect(() => v.parse(schema, { group: ["kernel"] })).toThrow();
    expect(() => v.parse(schema, { groups: ["kernl"] })).toThrow();
    expect(() => v.parse(schema, { groups: [] })).toThrow();
    expect(() => v.parse(schema, { poll_interval: "soon" })).toThrow();
  });

  test("UdevSender.onBatch() counts bad, untrusted and ENOBUFS records and resyncs on overflow", () => {
    const { ctx, rec } = makeContext();
    const s = new UdevSender(v.parse(schema, { sys_root: "/dev/null/no-sysfs" }), ctx);
    const parts = ["add\0/devices/virtual/block/loop9\0SUBSYSTEM=block\0DEVNAME=loop9\0DEVTYPE=disk\0SEQNUM=1",
      "bad kernel header (want ACTION@/devpath)", "group=1 port=77 pid=77 uid=0", "receive buffer overflow (ENOBUFS)"];
    const bytes = Buffer.from(parts.join(""));
    let at = 0;
    const ends = Uint32Array.from(parts.map((p) => (at += Buffer.byteLength(p))));
    // nums stride 4: kind, sender pid, sender uid, block size read with the uevent (bytes, -1: none)
    s.onBatch(bytes, ends, Float64Array.from([1, 0, 0, 8 << 20, 3, 0, 0, -1, 4, 77, 0, -1, 5, -1, -1, -1]), null);
    expect(Object.fromEntries(rec.counts)).toEqual({ received: 1, bad: 1, dropped_untrusted: 1, enobufs: 1, resyncs: 1 });
    expect(rec.records.map((r) => (r.kind === "uevent" ? r.devpath : ""))).toEqual(["/devices/virtual/block/loop9"]);
    // the rescan of an empty sysfs finds loop9 gone: a resync removal
    expect(rec.events.map((e) => [e.event_type, e.dev_name, e.extension?.resync])).toEqual([
      ["DEVICE_ADDED", "loop9", undefined], ["DEVICE_REMOVED", "loop9", true],
    ]);
    expect(rec.events[0]!.extension).toMatchObject({ size_bytes: 8 << 20 }); // the reader's size, not sysfs'
  });

  test("UdevSender.onBatch(): other subsystems are counted as received and go nowhere; a later SUBSYSTEM= wins", () => {
    const { ctx, rec } = makeContext();
    const s = new UdevSender(v.parse(schema, { sys_root: "/dev/null/no-sysfs" }), ctx);
    const parts = [
      "add\0/devices/pci0000:00/usb1/1-1\0SUBSYSTEM=usb\0DEVTYPE=usb_device\0SEQNUM=1",
      "change\0/devices/virtual/net/eth0\0SUBSYSTEM=net\0INTERFACE=eth0\0SEQNUM=2",
      "add\0/devices/virtual/block/loop7\0SUBSYSTEM=usb\0SUBSYSTEM=block\0DEVNAME=loop7\0DEVTYPE=disk\0SEQNUM=3",
      "add\0/devices/virtual/block/loop8\0SUBSYSTEM=block\0SUBSYSTEM=usb\0DEVNAME=loop8\0DEVTYPE=disk\0SEQNUM=4",
    ];
    const bytes = Buffer.from(parts.join(""));
    let at = 0;
    const ends = Uint32Array.from(parts.map((p) => (at += Buffer.byteLength(p))));
    s.onBatch(bytes, ends, Float64Array.from([1, 0, 0, -1, 1, 0, 0, -1, 1, 0, 0, -1, 1, 0, 0, -1]), null);
    expect(Object.fromEntries(rec.counts)).toEqual({ received: 4 });
    expect(rec.records.map((r) => (r.kind === "uevent" ? r.devpath : ""))).toEqual(["/devices/virtual/block/loop7"]);
    expect(rec.events.map((e) => [e.event_type, e.dev_name])).toEqual([["DEVICE_ADDED", "loop7"]]);
  });

  test("UdevSender.onBatch(): batches laid out by the addon give the same records, events and counts as unpacking them in TS", () => {
    const parts = [
      "add\0/devices/virtual/block/loop7\0ACTION=add\0SUBSYSTEM=block\0MAJOR=7\0MINOR=7\0DEVNAME=loop7\0DEVTYPE=disk\0SEQNUM=10",
      "add\0/devices/pci0000:00/usb1/1-1\0SUBSYSTEM=usb\0DEVTYPE=usb_device\0SEQNUM=11",
      "add\0/devices/virtual/block/loop7/loop7p1\0SUBSYSTEM=block\0DEVNAME=loop7p1\0DEVTYPE=partition\0PARTN=1\0SEQNUM=12",
      "bad kernel header (want ACTION@/devpath)",
      "change\0/devices/virtual/block/loop7\0SUBSYSTEM=block\0DEVNAME=loop7\0ID_MODEL=\u00dcberdisk\0RESIZE=1\0SEQNUM=13",
      "change\0/devices/platform/host2/target2:0:0/2:0:0:1\0SUBSYSTEM=scsi\0DEVTYPE=scsi_device\0SDEV_UA=POWER_ON_RESET_OCCURRED\0SEQNUM=14",
      "change\0/devices/virtual/block/loop7\0SUBSYSTEM=block\0DEVNAME=loop7\0DEVLINKS=/dev/disk/by-id/wwn-0x5000 /dev/disk/by-path/x\0ID_SERIAL=S1\0SEQNUM=13",
      "remove\0/devices/virtual/block/loop7/loop7p1\0SUBSYSTEM=block\0DEVNAME=loop7p1\0DEVTYPE=partition\0SEQNUM=15",
    ];
    const nums = Float64Array.from([1, 0, 0, 8 << 20, 1, 0, 0, -1, 1, 0, 0, 1 << 20, 3, 0, 0, -1, 1, 0, 0, 16 << 20, 1, 0, 0, -1, 2, 0, 0, 16 << 20, 1, 0, 0, -1]);
    let at = 0;
    const ends = Uint32Array.from(parts.map((p) => (at += Buffer.byteLength(p))));
    need({ "the addon's ueventLayout (npm install builds it)": Boolean(nativeAddon()?.ueventLayout) });
    const feed = (native: boolean) => {
      const { ctx, rec } = makeContext(native ? {} : { native: null });
      const s = new UdevSender(v.parse(schema, { sys_root: "/dev/null/no-sysfs" }), ctx);
      s.onBatch(Buffer.from(parts.join("")), ends, nums, null); // a fresh copy: the addon rewrites it in place
      return { records: rec.records, events: rec.events, counts: Object.fromEntries(rec.counts) };
    };
    const laid = feed(true);
    expect(laid.records.map((r) => (r.kind === "uevent" ? r.raw.split("\n")[0] : ""))).toEqual([
      "add@/devices/virtual/block/loop7", "add@/devices/virtual/block/loop7/loop7p1", "change@/devices/virtual/block/loop7",
      "change@/devices/platform/host2/target2:0:0/2:0:0:1", "remove@/devices/virtual/block/loop7/loop7p1",
    ]);
    expect(laid.events.map((e) => e.event_type)).toEqual(["DEVICE_ADDED", "DEVICE_ADDED", "DEVICE_RESIZED", "SCSI_UNIT_ATTENTION", "DEVICE_REMOVED"]);
    expect(laid).toEqual(feed(false));
  });
});
