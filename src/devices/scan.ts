// Reading one host's block devices: <sys>/class/block and <dev>/disk/by-id into BlockDevice records,
// and a BlockDevice from a uevent's properties alone (replay, or sysfs already gone). Unreadable
// files read as empty; nothing here throws or keeps state.
import { basename, dirname } from "node:path";
import type { UeventRecord } from "../records.ts";
import type { InventoryFs } from "./mounts.ts";
import { mergeUdevProps, parseKv, pickWwid, type BlockDevice } from "./ids.ts";

export const SCSI_ADDR = /^\d+:\d+:\d+:\d+$/;

export class SysfsScanner {
  constructor(readonly sysRoot: string, readonly devRoot: string, private fs: InventoryFs) {}

  read(path: string): string {
    try {
      return this.fs.readFileSync(path, "utf8").trim();
    } catch {
      return "";
    }
  }

  ls(path: string): string[] {
    try {
      return this.fs.readdirSync(path).sort();
    } catch {
      return [];
    }
  }

  exists(path: string): boolean {
    return this.fs.existsSync(path);
  }

  realpath(path: string): string {
    return this.fs.realpathSync(path);
  }

  readById(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const dir = `${this.devRoot}/disk/by-id`;
    for (const link of this.ls(dir)) {
      let target = "";
      try {
        target = basename(this.fs.readlinkSync(`${dir}/${link}`));
      } catch {
        continue;
      }
      const arr = out.get(target) ?? [];
      arr.push(link);
      out.set(target, arr);
    }
    return out;
  }

  /** One device; `known` gives what the inventory already has (by-id links learnt from udevd, a partition's disk). */
  readSysfs(name: string, byId: Map<string, string[]>, known: (name: string) => BlockDevice | undefined): BlockDevice | undefined {
    if (!/^[\w.:+-]+$/.test(name)) return undefined;
    const base = `${this.sysRoot}/class/block/${name}`;
    const majmin = this.read(`${base}/dev`);
    if (!majmin) return undefined;
    const isPart = this.exists(`${base}/partition`);
    let real = "";
    try {
      real = this.realpath(base);
    } catch {
      return undefined;
    }
    const diskBase = isPart ? dirname(real) : real;
    const uevent = parseKv(this.read(`${base}/uevent`));
    const hctlPath = (() => {
      try {
        return basename(this.realpath(`${diskBase}/device`));
      } catch {
        return "";
      }
    })();
    const dev: BlockDevice = {
      name,
      majmin,
      dev_path: this.exists(`${this.devRoot}/${uevent.DEVNAME ?? name}`) ? `${this.devRoot}/${uevent.DEVNAME ?? name}` : "",
      devtype: uevent.DEVTYPE ?? (isPart ? "partition" : "disk"),
      parent: isPart ? basename(dirname(real)) : "",
      size_bytes: Number(this.read(`${base}/size`) || 0) * 512,
      wwid: "",
      serial: this.read(`${diskBase}/serial`) || this.read(`${diskBase}/device/serial`),
      model: this.read(`${diskBase}/device/model`),
      dm_name: this.read(`${base}/dm/name`),
      dm_uuid: this.read(`${base}/dm/uuid`),
      md_uuid: this.read(`${base}/md/uuid`),
      scsi_address: SCSI_ADDR.test(hctlPath) ? hctlPath : "",
      by_id: (byId.get(name) ?? []).sort(),
      holders: this.ls(`${base}/holders`),
      slaves: this.ls(`${base}/slaves`),
      partitions: isPart ? [] : this.ls(real).filter((e) => e.startsWith(name) && this.exists(`${real}/${e}/partition`)),
      origin: "sysfs",
    };
    const before = known(name);
    if (before?.by_id.length && !dev.by_id.length) dev.by_id = before.by_id; // learnt from udevd
    // A partition's id is its disk's, with -partN (as udev's by-id links do).
    const idSource = isPart ? { ...dev, by_id: byId.get(dev.parent) ?? known(dev.parent)?.by_id ?? [] } : dev;
    dev.wwid = pickWwid(idSource, this.read(`${diskBase}/wwid`) || this.read(`${diskBase}/device/wwid`));
    if (isPart && dev.wwid && !dev.dm_uuid && !dev.md_uuid) dev.wwid += `-part${this.read(`${base}/partition`)}`;
    return dev;
  }

  /** A device from uevent properties only (replay, or sysfs already gone). */
  fromUevent(name: string, rec: UeventRecord, before: BlockDevice | undefined): BlockDevice {
    const p = rec.props;
    const parts = rec.devpath.split("/");
    const devtype = p.DEVTYPE ?? before?.devtype ?? "disk";
    const blockAt = parts.lastIndexOf("block");
    const hctl = blockAt > 0 && SCSI_ADDR.test(parts[blockAt - 1]!) ? parts[blockAt - 1]! : "";
    const dev: BlockDevice = before ? { ...before, origin: "uevent" } : {
      name, majmin: "", dev_path: "", devtype, parent: "", size_bytes: -1, wwid: "", serial: "", model: "",
      dm_name: "", dm_uuid: "", md_uuid: "", scsi_address: "", by_id: [], holders: [], slaves: [], partitions: [],
      origin: "uevent",
    };
    if (p.MAJOR && p.MINOR) dev.majmin = `${p.MAJOR}:${p.MINOR}`;
    dev.devtype = devtype;
    if (p.DEVNAME) dev.dev_path = p.DEVNAME.startsWith("/") ? p.DEVNAME : `${this.devRoot}/${p.DEVNAME}`;
    if (devtype === "partition") dev.parent = parts[parts.length - 2] ?? "";
    if (hctl) dev.scsi_address = hctl;
    if (p.DM_NAME) dev.dm_name = p.DM_NAME;
    if (p.DM_UUID) dev.dm_uuid = p.DM_UUID;
    if (p.MD_UUID) dev.md_uuid = p.MD_UUID;
    mergeUdevProps(dev, p);
    return dev;
  }
}
