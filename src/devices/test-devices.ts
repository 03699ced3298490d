// Test helpers for device work: real loop devices (our own, through /dev/loop-control, or a
// partitioned one with a mounted ext4), and a sysfs-shaped tree of what this machine cannot have
// (SCSI disks, a dm multipath map, an md array, /dev/disk/by-id links).
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { rootAnd, tool } from "../../test/helpers/need.ts";

export const LOOP_CTL_ADD = 0x4c80;
export const LOOP_CTL_REMOVE = 0x4c81;

export function sh(cmd: string[], stdin?: string): string {
  const r = Bun.spawnSync(cmd, { stderr: "pipe", stdin: stdin === undefined ? undefined : new TextEncoder().encode(stdin) });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
}


/** Root with /dev/loop-control and the tools to partition and mount a loop device (for need()). */
export const loopNeeds: Record<string, boolean> = {
  ...rootAnd("/dev/loop-control"),
  ...Object.fromEntries(["losetup", "sfdisk", "partx", "mkfs.ext4", "python3"].map((t) => [t, tool(t)])),
};

/** LOOP_CTL_ADD / LOOP_CTL_REMOVE on /dev/loop-control: the kernel's answer or -errno. */
export function loopCtl(op: number, n: number): number {
  const py = "import fcntl,os,sys\nfd=os.open('/dev/loop-control',os.O_RDWR)\n" +
    "try: print(fcntl.ioctl(fd,int(sys.argv[1]),int(sys.argv[2])))\nexcept OSError as e: print(-e.errno)";
  return Number(sh(["python3", "-c", py, String(op), String(n)]));
}

/** Creates /dev/loopN for a random N in [lo, lo+span) that nobody else uses; -1 if none. */
export function addOwnLoop(lo = 400, span = 500): number {
  for (let tries = 0; tries < 20; tries++) {
    const want = lo + Math.floor(Math.random() * span);
    if (loopCtl(LOOP_CTL_ADD, want) === want) return want;
  }
  return -1;
}

/** A loop device over dir/<img> with an sfdisk table (partx -a), ext4 on p1 mounted at mnt. */
export class PartitionedLoop {
  loop = "";
  private mounted = false;
  constructor(readonly dir: string, readonly mnt: string) {}

  setup(sizeMiB: number, table: string): this {
    const img = join(this.dir, "loop.img");
    sh(["truncate", "-s", `${sizeMiB}M`, img]);
    this.loop = sh(["losetup", "-f", "--show", img]);
    sh(["sfdisk", "-q", "--no-reread", "--no-tell-kernel", this.loop], table);
    sh(["partx", "-a", this.loop]);
    sh(["mkfs.ext4", "-q", "-F", `${this.loop}p1`]);
    mkdirSync(this.mnt, { recursive: true });
    sh(["mount", `${this.loop}p1`, this.mnt]);
    this.mounted = true;
    return this;
  }

  get name(): string {
    return this.loop.slice(5);
  }

  cleanup(): void {
    if (this.mounted) Bun.spawnSync(["umount", this.mnt]);
    if (this.loop) {
      Bun.spawnSync(["partx", "-d", this.loop]);
      Bun.spawnSync(["losetup", "-d", this.loop]);
    }
  }
}

/** A sysfs-shaped tree: SCSI disk sdb (2:0:0:1) and sdc, both paths of multipath dm-3, an md0 on sdd1. */
export function fakeSys(root: string): void {
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

