// Classifying a uevent never touches the file system synchronously (issue 13, "identity from
// memory"): the inventory runs on a file-system stub whose synchronous calls throw (and are
// recorded, since the scanner reads unreadable files as empty) once the start-up scan is done.
// Sizes come with the uevent (the reader thread reads them); what uevents do not carry (a new dm
// map's slaves) is re-read asynchronously afterwards.
import { afterAll, describe, expect, test } from "bun:test";
import * as nodeFs from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DeviceInventory, type InventoryFs } from "../../../src/plugin-kit/devices.ts";
import type { EventDraft, UeventRecord } from "../../../src/plugin-api.ts";
import { UeventClassifier } from "./classify.ts";

const root = nodeFs.mkdtempSync(join(tmpdir(), "lat13b-udev-nofs-"));
afterAll(() => nodeFs.rmSync(root, { recursive: true, force: true }));
const HCTL = "2:0:0:1";
const SDB = `/devices/pci0000:00/0000:00:17.0/host2/target2:0:0/${HCTL}/block/sdb`;

const write = (p: string, text: string) => {
  nodeFs.mkdirSync(dirname(join(root, p)), { recursive: true });
  nodeFs.writeFileSync(join(root, p), text + "\n");
};
const link = (p: string, target: string) => {
  nodeFs.mkdirSync(dirname(join(root, p)), { recursive: true });
  nodeFs.symlinkSync(target, join(root, p));
};
/** A block device in the sysfs-shaped tree: /sys<devpath>/{dev,size,uevent,holders,slaves}. */
function disk(name: string, devpath: string, majmin: string, sectors: number): void {
  write(`sys${devpath}/dev`, majmin);
  write(`sys${devpath}/size`, String(sectors));
  write(`sys${devpath}/uevent`, `DEVNAME=${name}\nDEVTYPE=disk`);
  for (const d of ["holders", "slaves"]) nodeFs.mkdirSync(join(root, `sys${devpath}/${d}`), { recursive: true });
  link(`sys/class/block/${name}`, join(root, `sys${devpath}`));
  nodeFs.mkdirSync(join(root, "dev"), { recursive: true });
  nodeFs.writeFileSync(join(root, "dev", name), "");
}

const sync: string[] = [];
const async: string[] = [];
let allowed = true;
const guard = <A extends unknown[], R>(name: string, f: (...a: A) => R) => (...a: A): R => {
  if (allowed) return f(...a);
  sync.push(`${name} ${String(a[0])}`);
  throw new Error(`synchronous file-system call while classifying: ${name} ${String(a[0])}`);
};
const record = <R>(name: string, f: (p: string) => Promise<R>) => (p: string): Promise<R> => {
  async.push(`${name} ${p}`);
  return f(p);
};
const fs: InventoryFs = {
  readFileSync: guard("readFileSync", (p: string) => nodeFs.readFileSync(p, "utf8")),
  readdirSync: guard("readdirSync", (p: string) => nodeFs.readdirSync(p)),
  readlinkSync: guard("readlinkSync", (p: string) => nodeFs.readlinkSync(p)),
  realpathSync: guard("realpathSync", (p: string) => nodeFs.realpathSync(p)),
  existsSync: guard("existsSync", (p: string) => nodeFs.existsSync(p)),
  promises: {
    readFile: record("readFile", (p) => nodeFs.promises.readFile(p, "utf8")),
    realpath: record("realpath", (p) => nodeFs.promises.realpath(p)),
    readdir: record("readdir", (p) => nodeFs.promises.readdir(p)),
    access: record("access", (p) => nodeFs.promises.access(p)),
  },
};

const uevent = (origin: "kernel" | "udev", action: string, devpath: string, props: Record<string, string>): UeventRecord =>
  ({ kind: "uevent", source: "udev", origin, action, devpath, props: { ACTION: action, DEVPATH: devpath, ...props }, raw: "" });

describe("UeventClassifier without file-system calls", () => {
  disk("sdb", SDB, "8:16", 2048);
  write(`sys${dirname(dirname(SDB))}/wwid`, "naa.600140512345678901234567890abcd1");
  link(`sys${SDB}/device`, join(root, `sys${dirname(dirname(SDB))}`));
  nodeFs.mkdirSync(join(root, "dev/disk/by-id"), { recursive: true });
  const inventory = new DeviceInventory({ sysRoot: join(root, "sys"), devRoot: join(root, "dev"), mountinfo: "/dev/null", fs });
  inventory.scan();
  const classifier = new UeventClassifier(inventory);

  test("add, udevd's copy, resize, partition, SCSI unit attention, NVMe AEN, removal: events from the uevent, its size and memory", async () => {
    // A new multipath map on sdb appears in sysfs; the classifier must not look there.
    disk("dm-4", "/devices/virtual/block/dm-4", "253:4", 2048);
    link("sys/devices/virtual/block/dm-4/slaves/sdb", join(root, `sys${SDB}`));
    link(`sys${SDB}/holders/dm-4`, join(root, "sys/devices/virtual/block/dm-4"));
    allowed = false;
    const drafts: EventDraft[] = [];
    const handle = (r: UeventRecord, size?: number) => {
      const h = classifier.handle(r, size);
      drafts.push(...h.drafts);
      return h.status;
    };
    const dm = { SUBSYSTEM: "block", DEVNAME: "dm-4", DEVTYPE: "disk", MAJOR: "253", MINOR: "4", SEQNUM: "10" };
    expect(handle(uevent("kernel", "add", "/devices/virtual/block/dm-4", dm), 1 << 20)).toBe("new");
    expect(handle(uevent("udev", "add", "/devices/virtual/block/dm-4", {
      ...dm, DM_NAME: "mpathb", DM_UUID: "mpath-3600140500000000000000000000000b4", DEVLINKS: "/dev/disk/by-id/dm-name-mpathb",
    }), 1 << 20)).toBe("duplicate");
    handle(uevent("kernel", "change", SDB, { SUBSYSTEM: "block", DEVNAME: "sdb", DEVTYPE: "disk", RESIZE: "1", SEQNUM: "11" }), 2 << 20);
    handle(uevent("kernel", "add", `${SDB}/sdb1`, {
      SUBSYSTEM: "block", DEVNAME: "sdb1", DEVTYPE: "partition", PARTN: "1", MAJOR: "8", MINOR: "17", SEQNUM: "12",
    }), 1 << 19);
    handle(uevent("kernel", "change", dirname(dirname(SDB)), {
      SUBSYSTEM: "scsi", DEVTYPE: "scsi_device", SDEV_UA: "CAPACITY_DATA_HAS_CHANGED", SEQNUM: "13",
    }));
    handle(uevent("kernel", "change", "/devices/pci0000:00/0000:00:1d.0/nvme/nvme0", { SUBSYSTEM: "nvme", DEVNAME: "nvme0", NVME_AEN: "0x010001", SEQNUM: "14" }));
    handle(uevent("kernel", "remove", `${SDB}/sdb1`, { SUBSYSTEM: "block", DEVNAME: "sdb1", DEVTYPE: "partition", SEQNUM: "15" }));
    expect(sync).toEqual([]);
    expect(drafts.map((d) => `${d.event_type} ${d.dev_name}`)).toEqual([
      "DEVICE_ADDED dm-4", "DEVICE_RESIZED sdb", "DEVICE_ADDED sdb1", "SCSI_UNIT_ATTENTION sdb", "NVME_CRITICAL_WARNING nvme0", "DEVICE_REMOVED sdb1",
    ]);
    expect(drafts[0]!.extension).toMatchObject({ majmin: "253:4", size_bytes: 1 << 20 });
    expect(drafts[1]!.extension).toMatchObject({ old_size_bytes: 1 << 20, new_size_bytes: 2 << 20 });
    expect(drafts[1]!.dev_wwid).toBe("naa.600140512345678901234567890abcd1"); // from the start-up scan
    expect(drafts[2]!.extension).toMatchObject({ parent: "sdb", devtype: "partition", size_bytes: 1 << 19 });
    expect(drafts[3]!.extension).toMatchObject({ scsi_address: HCTL, asc: "0x2a", ascq: "0x09" });
    expect(inventory.identify("mpathb").dev_name).toBe("dm-4"); // udevd's DM_NAME, from memory
    expect(inventory.identify("dm-name-mpathb").dev_name).toBe("dm-4");

    // Afterwards, off the event path: dm-4's sysfs entry is read asynchronously and its slave
    // learns its holder (no uevent says that).
    await inventory.idle();
    expect(sync).toEqual([]);
    expect(async.some((c) => c.endsWith("/dm-4/slaves"))).toBe(true);
    expect(inventory.get("dm-4")?.slaves).toEqual(["sdb"]);
    expect(inventory.identify("sdb").owners.map((o) => o.dev_name)).toEqual(["dm-4"]);
    expect(inventory.get("dm-4")?.dm_name).toBe("mpathb");
    allowed = true;
  });
});
