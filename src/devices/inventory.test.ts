// DeviceInventory on the real sysfs with loop devices and a mounted ext4, and on a sysfs-shaped
// tree for what this machine cannot have (SCSI disks, dm multipath and md stacks, by-id links).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createDeviceDirectory, DeviceInventory, parseMountinfo } from "./index.ts";

const have = (cmd: string) => Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;
const canLoop = process.getuid?.() === 0 && existsSync("/dev/loop-control") && ["losetup", "sfdisk", "partx", "mkfs.ext4"].every(have);

function sh(cmd: string[], stdin?: string): string {
  const r = Bun.spawnSync(cmd, { stderr: "pipe", stdin: stdin === undefined ? undefined : new TextEncoder().encode(stdin) });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
}

describe.skipIf(!canLoop)("DeviceInventory on real loop devices", () => {
  const dir = mkdtempSync(join(tmpdir(), "storeventd-inv-"));
  const mnt = join(dir, "mnt point"); // a space: mountinfo escapes it as \040
  let loop = "";
  let name = "";
  let mounted = false;

  beforeAll(() => {
    const img = join(dir, "d.img");
    sh(["truncate", "-s", "40M", img]);
    loop = sh(["losetup", "-f", "--show", img]);
    name = loop.slice(5);
    sh(["sfdisk", "-q", "--no-reread", "--no-tell-kernel", loop], "label: dos\n,16M,L\n,,L\n");
    sh(["partx", "-a", loop]);
    sh(["mkfs.ext4", "-q", "-F", `${loop}p1`]);
    mkdirSync(mnt);
    sh(["mount", `${loop}p1`, mnt]);
    mounted = true;
  });

  afterAll(() => {
    if (mounted) Bun.spawnSync(["umount", mnt]);
    if (loop) {
      Bun.spawnSync(["partx", "-d", loop]);
      Bun.spawnSync(["losetup", "-d", loop]);
    }
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
    expect(inv.identify("loop-does-not-exist")).toEqual({ dev_name: "loop-does-not-exist", dev_path: "", dev_wwid: "", owners: [] });
    expect(inv.identify("/dev/nope0")).toEqual({ dev_name: "nope0", dev_path: "", dev_wwid: "", owners: [] });
  });
});

/** A sysfs-shaped tree: SCSI disk sdb (2:0:0:1) and sdc, both paths of multipath dm-3, an md0 on sdd1. */
function fakeSys(root: string): void {
  const w = (p: string, text: string) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text + "\n");
  };
  const l = (p: string, target: string) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    symlinkSync(target, join(root, p));
  };
  const disk = (name: string, majmin: string, devdir: string, sectors: number) => {
    w(`${devdir}/${name}/dev`, majmin);
    w(`${devdir}/${name}/size`, String(sectors));
    w(`${devdir}/${name}/uevent`, `MAJOR=${majmin.split(":")[0]}\nMINOR=${majmin.split(":")[1]}\nDEVNAME=${name}\nDEVTYPE=disk`);
    mkdirSync(join(root, `${devdir}/${name}/holders`), { recursive: true });
    mkdirSync(join(root, `${devdir}/${name}/slaves`), { recursive: true });
    l(`sys/class/block/${name}`, join(root, devdir, name));
  };
  const host = "sys/devices/pci0000:00/0000:00:17.0/host2/target2:0:0";
  w(`${host}/2:0:0:1/wwid`, "naa.600140512345678901234567890abcd1");
  w(`${host}/2:0:0:1/model`, "LIO-ORG disk");
  disk("sdb", "8:16", `${host}/2:0:0:1/block`, 2048);
  l(`${host}/2:0:0:1/block/sdb/device`, join(root, host, "2:0:0:1"));
  l("sys/class/scsi_device/2:0:0:1/device", join(root, host, "2:0:0:1"));
  w(`${host}/2:0:0:2/wwid`, "naa.600140512345678901234567890abcd1");
  disk("sdc", "8:32", `${host}/2:0:0:2/block`, 2048);
  l(`${host}/2:0:0:2/block/sdc/device`, join(root, host, "2:0:0:2"));
  disk("dm-3", "253:3", "sys/devices/virtual/block", 2048);
  w("sys/devices/virtual/block/dm-3/dm/uuid", "mpath-3600140512345678901234567890abcd1");
  w("sys/devices/virtual/block/dm-3/dm/name", "mpatha");
  l("sys/devices/virtual/block/dm-3/slaves/sdb", "../../../../../pci0000:00");
  l("sys/devices/virtual/block/dm-3/slaves/sdc", "../../../../../pci0000:00");
  l(`${host}/2:0:0:1/block/sdb/holders/dm-3`, "x");
  l(`${host}/2:0:0:2/block/sdc/holders/dm-3`, "x");
  disk("sdd", "8:48", "sys/devices/pci0000:00/0000:00:17.0/host3/target3:0:0/3:0:0:0/block", 4096);
  const sdd = "sys/devices/pci0000:00/0000:00:17.0/host3/target3:0:0/3:0:0:0/block/sdd";
  w(`${sdd}/sdd1/dev`, "8:49");
  w(`${sdd}/sdd1/size`, "4000");
  w(`${sdd}/sdd1/partition`, "1");
  w(`${sdd}/sdd1/uevent`, "MAJOR=8\nMINOR=49\nDEVNAME=sdd1\nDEVTYPE=partition\nPARTN=1");
  mkdirSync(join(root, `${sdd}/sdd1/slaves`), { recursive: true });
  l(`${sdd}/sdd1/holders/md0`, "x");
  l("sys/class/block/sdd1", join(root, sdd, "sdd1"));
  w(`${sdd}/serial`, "");
  disk("md0", "9:0", "sys/devices/virtual/block", 3968);
  w("sys/devices/virtual/block/md0/md/uuid", "3a9f1c2e:8d41b7a0:5e6f7081:92a3b4c5");
  l("sys/devices/virtual/block/md0/slaves/sdd1", "x");
  mkdirSync(join(root, "dev/disk/by-id"), { recursive: true });
  l("dev/disk/by-id/wwn-0x5000c500a1b2c3d4", "../../sdd");
  l("dev/disk/by-id/ata-ST1000_Z1D2", "../../sdd");
  for (const n of ["sdb", "sdc", "sdd", "sdd1", "dm-3", "md0"]) writeFileSync(join(root, "dev", n), "");
}

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

  test("parseMountinfo() maps major:minor to mount points and fs types", () => {
    const m = parseMountinfo("36 35 98:0 / /mnt/my\\040disk rw,noatime master:1 - ext3 /dev/root rw,errors=continue\nbad line\n");
    expect(m.get("98:0")).toEqual([{ mount_point: "/mnt/my disk", fs_type: "ext3" }]);
  });
});
