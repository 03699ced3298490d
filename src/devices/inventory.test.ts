// DeviceInventory on the real sysfs with loop devices and a mounted ext4, and on a sysfs-shaped
// tree for what this machine cannot have (SCSI disks, dm multipath and md stacks, by-id links).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDeviceDirectory, DeviceInventory, mountsByDevice, type InventoryFs } from "./index.ts";
import * as nodeFs from "node:fs";
import { fakeSys, loopNeeds, PartitionedLoop, sh } from "./test-devices.ts";
import { need } from "../../test/helpers/need.ts";

describe("DeviceInventory on real loop devices", () => {
  const dir = mkdtempSync(join(tmpdir(), "storeventd-inv-"));
  const mnt = join(dir, "mnt point"); // a space: mountinfo escapes it as \040
  const fixture = new PartitionedLoop(dir, mnt);
  let loop = "";
  let name = "";

  beforeAll(() => {
    need(loopNeeds);
    fixture.setup(40, "label: dos\n,16M,L\n,,L\n");
    loop = fixture.loop;
    name = fixture.name;
  });

  afterAll(() => {
    fixture.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test("scan() finds the disk and its partitions with sizes, parent and dev numbers", () => {
    const inv = new DeviceInventory();
    inv.scan();
    const disk = inv.get(name)!;
    expect(disk).toMatchObject({ devtype: "disk", size_bytes: 40 << 20, partitions: [`${name}p1`, `${name}p2`], dev_path: loop });
    expect(inv.get(`${name}p1`)).toMatchObject({ devtype: "partition", parent: name, size_bytes: 16 << 20 });
    expect(disk.majmin).toMatch(/^7:\d+$/);
  });

  test("identify() takes a name, /dev path, major:minor; the partition names its parent's stack", () => {
    const dirx = createDeviceDirectory();
    const majmin = dirx.get(`${name}p1`)!.majmin;
    for (const q of [`${name}p1`, `${loop}p1`, majmin]) {
      expect(dirx.identify(q)).toEqual({ dev_name: `${name}p1`, dev_path: `${loop}p1`, dev_wwid: "", owners: [] });
    }
  });

  test("mountOf() reads /proc/self/mountinfo at the scan (escaped spaces undone)", () => {
    const inv = createDeviceDirectory();
    inv.scan();
    expect(inv.mountOf!(`${name}p1`)).toEqual({ mount_point: mnt, fs_type: "ext4" });
    expect(inv.mountOf!(`${loop}p1`)).toEqual({ mount_point: mnt, fs_type: "ext4" });
    expect(inv.mountOf!(`${name}p2`)).toBeUndefined();
  });

  test("a device attached after the scan: refresh() reads it; unknown names keep their name", () => {
    const inv = new DeviceInventory();
    inv.scan();
    const img2 = join(dir, "late.img");
    sh(["truncate", "-s", "8M", img2]);
    const late = sh(["losetup", "-f", "--show", img2]);
    try {
      // a loop node losetup had to create is not in the scan; an existing one is, with size 0
      expect(inv.identify(late)).toMatchObject({ dev_name: late.slice(5), dev_path: late });
      expect(inv.refresh(late.slice(5))?.size_bytes).toBe(8 << 20);
    } finally {
      sh(["losetup", "-d", late]);
    }
    expect(inv.identify("loop-does-not-exist")).toEqual({ dev_name: "loop-does-not-exist", dev_path: "", dev_wwid: "", owners: [] });
    expect(inv.identify("/dev/nope0")).toEqual({ dev_name: "nope0", dev_path: "", dev_wwid: "", owners: [] });
  });
});

describe("DeviceInventory on a sysfs-shaped tree (SCSI, multipath, md: not on this machine)", () => {
  const root = mkdtempSync(join(tmpdir(), "storeventd-fakesys-"));
  fakeSys(root);
  const inv = new DeviceInventory({ sysRoot: join(root, "sys"), devRoot: join(root, "dev"), mountinfo: "/dev/null" });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("ids: SCSI wwid, dm uuid, md uuid, by-id wwn-, and a partition's -partN", () => {
    expect(inv.get("sdb")).toMatchObject({ wwid: "naa.600140512345678901234567890abcd1", scsi_address: "2:0:0:1", model: "LIO-ORG disk", size_bytes: 2048 * 512 });
    expect(inv.get("dm-3")).toMatchObject({ wwid: "mpath-3600140512345678901234567890abcd1", dm_name: "mpatha", slaves: ["sdb", "sdc"] });
    expect(inv.get("md0")!.wwid).toBe("3a9f1c2e:8d41b7a0:5e6f7081:92a3b4c5");
    expect(inv.get("sdd")).toMatchObject({ wwid: "0x5000c500a1b2c3d4", by_id: ["ata-ST1000_Z1D2", "wwn-0x5000c500a1b2c3d4"] });
    expect(inv.get("sdd1")).toMatchObject({ parent: "sdd", wwid: "0x5000c500a1b2c3d4-part1", holders: ["md0"] });
  });

  test("a failed path names its mpath map; a partition names its own holders", () => {
    expect(inv.identify("sdc").owners).toEqual([{ dev_name: "dm-3", dev_wwid: "mpath-3600140512345678901234567890abcd1" }]);
    expect(inv.identify("sdd1").owners).toEqual([{ dev_name: "md0", dev_wwid: "3a9f1c2e:8d41b7a0:5e6f7081:92a3b4c5" }]);
  });

  test("resolve() takes SCSI addresses, 'sd H:C:T:L', major:minor, WWIDs, dm names and by-id names", () => {
    expect(inv.resolve("2:0:0:1")).toBe("sdb");
    expect(inv.resolve("sd 2:0:0:1")).toBe("sdb");
    expect(inv.resolve("8:32")).toBe("sdc");
    expect(inv.resolve("mpath-3600140512345678901234567890abcd1")).toBe("dm-3");
    expect(inv.resolve("mpatha")).toBe("dm-3");
    expect(inv.resolve("wwn-0x5000c500a1b2c3d4")).toBe("sdd");
    expect(inv.resolve("9:9")).toBeUndefined();
    expect(inv.identify("sdb")).toMatchObject({ dev_name: "sdb", dev_path: join(root, "dev/sdb"), dev_wwid: "naa.600140512345678901234567890abcd1" });
  });

  test("applyUevent(): remove drops the device from its holders' and parent's lists", () => {
    const r = inv.applyUevent({
      kind: "uevent", source: "t", origin: "kernel", action: "remove", devpath: "/devices/virtual/block/dm-3",
      props: { SUBSYSTEM: "block", DEVNAME: "dm-3", DEVTYPE: "disk" }, raw: "",
    });
    expect(r?.before?.name).toBe("dm-3");
    expect(inv.get("dm-3")).toBeUndefined();
    expect(inv.get("sdb")!.holders).toEqual([]);
  });

  test("applyUevent(): a move keeps what was known under the old name (no sysfs read for it)", () => {
    const wwid = inv.get("sdc")!.wwid;
    const r = inv.applyUevent({
      kind: "uevent", source: "t", origin: "kernel", action: "move", devpath: "/devices/virtual/block/sdq",
      props: { SUBSYSTEM: "block", DEVNAME: "sdq", DEVTYPE: "disk", DEVPATH_OLD: "/devices/virtual/block/sdc" }, raw: "",
    });
    expect(r?.after).toMatchObject({ name: "sdq", majmin: "8:32", wwid });
    expect(inv.get("sdc")).toBeUndefined();
    expect(inv.resolve("8:32")).toBe("sdq");
  });

  test("mountsByDevice() maps major:minor and /dev sources (btrfs: anonymous 0:N; dm names) to mounts", () => {
    const m = mountsByDevice("36 35 98:0 / /mnt/my\\040disk rw,noatime master:1 - ext3 /dev/root rw,errors=continue\nbad line\n" +
      "40 1 0:52 / /srv/b rw - btrfs /dev/loop7 rw\n41 1 253:3 / /data rw - xfs /dev/mapper/vg-data rw\n",
    (p) => (p === "/dev/mapper/vg-data" ? "/dev/dm-3" : p));
    expect(m.get("98:0")).toEqual([{ mount_point: "/mnt/my disk", fs_type: "ext3" }]);
    expect(m.get("src:loop7")).toEqual([{ mount_point: "/srv/b", fs_type: "btrfs" }]);
    expect(m.get("src:dm-3")).toEqual([{ mount_point: "/data", fs_type: "xfs" }]);
  });
});

describe("identity from memory", () => {
  const root = mkdtempSync(join(tmpdir(), "core-fold-nofs-"));
  fakeSys(root);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  // Delegates to node:fs while allowed; any call otherwise is recorded (and a sync one throws).
  let allowed = true;
  const calls: string[] = [];
  const guard = <A extends unknown[], R>(name: string, f: (...a: A) => R) => (...a: A): R => {
    if (!allowed) {
      calls.push(`${name} ${String(a[0])}`);
      throw new Error(`file-system call on the identity path: ${name} ${String(a[0])}`);
    }
    return f(...a);
  };
  const fs: InventoryFs = {
    readFileSync: guard("readFileSync", (p: string) => nodeFs.readFileSync(p, "utf8")),
    readdirSync: guard("readdirSync", (p: string) => nodeFs.readdirSync(p)),
    readlinkSync: guard("readlinkSync", (p: string) => nodeFs.readlinkSync(p)),
    realpathSync: guard("realpathSync", (p: string) => nodeFs.realpathSync(p)),
    existsSync: guard("existsSync", (p: string) => nodeFs.existsSync(p)),
    promises: {
      readFile: (p: string) => (allowed ? nodeFs.promises.readFile(p, "utf8") : (calls.push(`readFile ${p}`), Promise.reject(new Error("fs")))),
      realpath: (p: string) => (allowed ? nodeFs.promises.realpath(p) : (calls.push(`realpath ${p}`), Promise.reject(new Error("fs")))),
      readdir: (p: string) => (allowed ? nodeFs.promises.readdir(p) : (calls.push(`readdir ${p}`), Promise.reject(new Error("fs")))),
      access: (p: string) => (allowed ? nodeFs.promises.access(p) : (calls.push(`access ${p}`), Promise.reject(new Error("fs")))),
    },
  };

  test("identify() after the start-up scan makes no file-system call, known names or not; a uevent teaches new ones", () => {
    const inv = new DeviceInventory({ sysRoot: join(root, "sys"), devRoot: join(root, "dev"), mountinfo: "/proc/self/mountinfo", fs });
    inv.scan();
    allowed = false;
    for (let round = 0; round < 2; round++) {
      expect(inv.identify("sdb")).toMatchObject({ dev_name: "sdb", dev_wwid: "naa.600140512345678901234567890abcd1" });
      expect(inv.identify("2:0:0:1").dev_name).toBe("sdb");
      expect(inv.identify("sd 2:0:0:1").dev_name).toBe("sdb");
      expect(inv.identify("8:32").dev_name).toBe("sdc");
      expect(inv.identify(`${join(root, "dev")}/sdb`).dev_name).toBe("sdb");
      expect(inv.identify("/dev/mapper/mpatha").dev_name).toBe("dm-3");
      expect(inv.identify("wwn-0x5000c500a1b2c3d4").dev_name).toBe("sdd");
      expect(inv.identify("sdc").owners).toEqual([{ dev_name: "dm-3", dev_wwid: "mpath-3600140512345678901234567890abcd1" }]);
      for (const n of ["ata3", "nvme0", "session3", "wwn-0x5000aaaa00000001"]) {
        expect(inv.identify(n)).toEqual({ dev_name: n, dev_path: "", dev_wwid: "", owners: [] });
      }
    }
    expect(inv.mountOf("sdb")).toBeUndefined(); // from memory (async re-reads may be scheduled, never sync)
    expect(calls.filter((c) => !c.startsWith("readFile ") && !c.startsWith("realpath "))).toEqual([]);
    // udevd's uevent for a new disk names its by-id link: known from then on, still without a call.
    allowed = true;
    inv.applyUevent({
      kind: "uevent", source: "t", origin: "udev", action: "add", devpath: "/devices/virtual/block/sdx",
      props: { SUBSYSTEM: "block", DEVNAME: "/dev/sdx", DEVTYPE: "disk", MAJOR: "65", MINOR: "112", DEVLINKS: "/dev/disk/by-id/wwn-0x5000aaaa00000001" },
      raw: "",
    });
    allowed = false;
    calls.length = 0;
    expect(inv.identify("wwn-0x5000aaaa00000001")).toMatchObject({ dev_name: "sdx", dev_wwid: "0x5000aaaa00000001" });
    expect(inv.identify("65:112").dev_name).toBe("sdx");
    expect(inv.identify("ata3").dev_name).toBe("ata3");
    expect(calls).toEqual([]);
    allowed = true;
  });

  test("offline, from uevents alone: a change that keeps a device's names keeps its aliases; one that adds a name teaches it", () => {
    const inv = new DeviceInventory({ offline: true });
    inv.scan();
    const ev = (action: string, name: string, extra: Record<string, string> = {}) => inv.applyUevent({
      kind: "uevent", source: "t", origin: "kernel", action, devpath: `/devices/platform/host2/target2:0:0/2:0:0:1/block/${name}`,
      props: { SUBSYSTEM: "block", DEVNAME: name, DEVTYPE: "disk", MAJOR: "8", MINOR: "16", ...extra }, raw: "",
    });
    ev("add", "sdb");
    expect(inv.resolve("2:0:0:1")).toBe("sdb");
    expect(inv.resolve("wwn-0x5000bbbb00000001")).toBeUndefined(); // remembered as unknown
    for (let i = 0; i < 3; i++) {
      ev("change", "sdb", { DISKSEQ: String(i) }); // same names: the alias map stays valid
      expect(inv.resolve("2:0:0:1")).toBe("sdb");
      expect(inv.resolve("8:16")).toBe("sdb");
    }
    // udevd's copy adds a by-id link and a WWN: both resolve at once, the unknown name is forgotten.
    inv.applyUevent({
      kind: "uevent", source: "t", origin: "udev", action: "change", devpath: "/devices/platform/host2/target2:0:0/2:0:0:1/block/sdb",
      props: { SUBSYSTEM: "block", DEVNAME: "sdb", DEVTYPE: "disk", MAJOR: "8", MINOR: "16", ID_WWN: "0x5000bbbb00000001",
        DEVLINKS: "/dev/disk/by-id/wwn-0x5000bbbb00000001" }, raw: "",
    });
    expect(inv.resolve("wwn-0x5000bbbb00000001")).toBe("sdb");
    expect(inv.resolve("0x5000bbbb00000001")).toBe("sdb");
    // A new major:minor for the same name moves the major:minor lookup.
    ev("change", "sdb", { MAJOR: "8", MINOR: "32" });
    expect(inv.resolve("8:32")).toBe("sdb");
    expect(inv.resolve("8:16")).toBeUndefined();
    ev("remove", "sdb");
    expect(inv.resolve("2:0:0:1")).toBeUndefined();
    expect(inv.resolve("wwn-0x5000bbbb00000001")).toBeUndefined();
  });
});
