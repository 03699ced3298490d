// DeviceInventory on the real sysfs with loop devices and a mounted ext4, and on a sysfs-shaped
// tree for what this machine cannot have (SCSI disks, dm multipath and md stacks, by-id links).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDeviceDirectory, DeviceInventory, mountsByDevice } from "./index.ts";
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

  test("mountOf() reads /proc/self/mountinfo (escaped spaces undone)", () => {
    const inv = createDeviceDirectory();
    expect(inv.mountOf!(`${name}p1`)).toEqual({ mount_point: mnt, fs_type: "ext4" });
    expect(inv.mountOf!(`${loop}p1`)).toEqual({ mount_point: mnt, fs_type: "ext4" });
    expect(inv.mountOf!(`${name}p2`)).toBeUndefined();
  });

  test("a device attached after the scan is found lazily; a vanished one keeps its name", () => {
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

  test("mountsByDevice() maps major:minor and /dev sources (btrfs: anonymous 0:N; dm names) to mounts", () => {
    const m = mountsByDevice("36 35 98:0 / /mnt/my\\040disk rw,noatime master:1 - ext3 /dev/root rw,errors=continue\nbad line\n" +
      "40 1 0:52 / /srv/b rw - btrfs /dev/loop7 rw\n41 1 253:3 / /data rw - xfs /dev/mapper/vg-data rw\n",
    (p) => (p === "/dev/mapper/vg-data" ? "/dev/dm-3" : p));
    expect(m.get("98:0")).toEqual([{ mount_point: "/mnt/my disk", fs_type: "ext3" }]);
    expect(m.get("src:loop7")).toEqual([{ mount_point: "/srv/b", fs_type: "btrfs" }]);
    expect(m.get("src:dm-3")).toEqual([{ mount_point: "/data", fs_type: "xfs" }]);
  });
});
