// Reading one host's block devices: <sys>/class/block and <dev>/disk/by-id into BlockDevice records
// (synchronously for the start-up scan, asynchronously after a uevent), and a BlockDevice from a
// uevent's properties alone. Unreadable files read as empty; nothing here throws or keeps state.
import { basename, dirname } from "node:path";
import type { UeventRecord } from "../records.ts";
import type { InventoryFs } from "./mounts.ts";
import { mergeUdevProps, parseKv, pickWwid, type BlockDevice } from "./ids.ts";

export const SCSI_ADDR = /^\d+:\d+:\d+:\d+$/;

/** The H:C:T:L component just before the devpath's last "block" component, or "": string search
 * instead of split("/") + regex, which were ~8% of a uevent's CPU time. */
export function hctlBeforeBlock(devpath: string): string {
  for (let k = devpath.lastIndexOf("/block"); k >= 0; k = k > 0 ? devpath.lastIndexOf("/block", k - 1) : -1) {
    if (k + 6 !== devpath.length && devpath.charCodeAt(k + 6) !== 0x2f) continue;
    const from = devpath.lastIndexOf("/", k - 1) + 1;
    const c = devpath.charCodeAt(from);
    if (c < 0x30 || c > 0x39) return ""; // most devpaths: no string cut at all
    const prev = devpath.slice(from, k);
    return SCSI_ADDR.test(prev) ? prev : "";
  }
  return "";
}

/** The reads readSysfs() makes: the file system, or a cache filled asynchronously (readSysfsAsync). */
interface SysfsIo {
  read(path: string): string;
  ls(path: string): string[];
  exists(path: string): boolean;
  /** Throws when the path does not resolve. */
  realpath(path: string): string;
}

export class SysfsScanner implements SysfsIo {
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
  readSysfs(name: string, byId: Map<string, string[]>, known: (name: string) => BlockDevice | undefined, io: SysfsIo = this): BlockDevice | undefined {
    if (!/^[\w.:+-]+$/.test(name)) return undefined;
    const base = `${this.sysRoot}/class/block/${name}`;
    let real = "";
    try {
      real = io.realpath(base);
    } catch {
      return undefined;
    }
    // What the device's directory (and a partition's disk's) holds: only files that exist are
    // read. Most devices have no dm/, md/, serial, wwid or device/, and a failed open(2) of each
    // made up most of a scan's system calls (a scan runs twice at start, once per device).
    const entries = new Set(io.ls(real));
    if (!entries.has("dev")) return undefined;
    const majmin = io.read(`${base}/dev`);
    if (!majmin) return undefined;
    const isPart = entries.has("partition");
    const diskBase = isPart ? dirname(real) : real;
    const disk = isPart ? new Set(io.ls(diskBase)) : entries;
    const readIf = (has: boolean, path: string) => (has ? io.read(path) : "");
    const uevent = parseKv(io.read(`${base}/uevent`));
    const device = disk.has("device");
    const hctlPath = (() => {
      if (!device) return "";
      try {
        return basename(io.realpath(`${diskBase}/device`));
      } catch {
        return "";
      }
    })();
    const dev: BlockDevice = {
      name,
      majmin,
      dev_path: io.exists(`${this.devRoot}/${uevent.DEVNAME ?? name}`) ? `${this.devRoot}/${uevent.DEVNAME ?? name}` : "",
      devtype: uevent.DEVTYPE ?? (isPart ? "partition" : "disk"),
      parent: isPart ? basename(dirname(real)) : "",
      size_bytes: Number(io.read(`${base}/size`) || 0) * 512,
      wwid: "",
      serial: readIf(disk.has("serial"), `${diskBase}/serial`) || readIf(device, `${diskBase}/device/serial`),
      model: readIf(device, `${diskBase}/device/model`),
      dm_name: readIf(entries.has("dm"), `${base}/dm/name`),
      dm_uuid: readIf(entries.has("dm"), `${base}/dm/uuid`),
      md_uuid: readIf(entries.has("md"), `${base}/md/uuid`),
      scsi_address: SCSI_ADDR.test(hctlPath) ? hctlPath : "",
      by_id: (byId.get(name) ?? []).sort(),
      holders: entries.has("holders") ? io.ls(`${base}/holders`) : [],
      slaves: entries.has("slaves") ? io.ls(`${base}/slaves`) : [],
      partitions: isPart ? [] : [...entries].filter((e) => e.startsWith(name) && io.exists(`${real}/${e}/partition`)).sort(),
      origin: "sysfs",
    };
    const before = known(name);
    if (before?.by_id.length && !dev.by_id.length) dev.by_id = before.by_id; // learnt from udevd
    // A partition's id is its disk's, with -partN (as udev's by-id links do).
    const idSource = isPart ? { ...dev, by_id: byId.get(dev.parent) ?? known(dev.parent)?.by_id ?? [] } : dev;
    dev.wwid = pickWwid(idSource, readIf(disk.has("wwid"), `${diskBase}/wwid`) || readIf(device, `${diskBase}/device/wwid`));
    if (isPart && dev.wwid && !dev.dm_uuid && !dev.md_uuid) dev.wwid += `-part${io.read(`${base}/partition`)}`;
    return dev;
  }

  /**
   * readSysfs() without blocking the event loop: each round runs it over what was read so far,
   * then reads what it asked for and did not have, in parallel, until a round asks for nothing new
   * (a device takes about four rounds: dev, then its links, then its files, then its partitions).
   */
  async readSysfsAsync(name: string, known: (name: string) => BlockDevice | undefined): Promise<BlockDevice | undefined> {
    const cache = new Map<string, string | string[] | boolean | null>();
    for (let round = 0; round < 8; round++) {
      const missing = new Set<string>();
      const get = (key: string) => (cache.has(key) ? cache.get(key) : (missing.add(key), undefined));
      const io: SysfsIo = {
        read: (p) => (get(`r${p}`) as string | undefined) ?? "",
        ls: (p) => (get(`l${p}`) as string[] | undefined) ?? [],
        exists: (p) => (get(`e${p}`) as boolean | undefined) ?? false,
        realpath: (p) => {
          const v = get(`p${p}`) as string | null | undefined;
          if (typeof v !== "string") throw new Error(`unresolved: ${p}`);
          return v;
        },
      };
      const dev = this.readSysfs(name, new Map(), known, io);
      if (!missing.size) return dev;
      await Promise.all([...missing].map(async (k) => cache.set(k, await this.fetch(k))));
    }
    return undefined;
  }

  private fetch(key: string): Promise<string | string[] | boolean | null> {
    const p = this.fs.promises;
    const path = key.slice(1);
    switch (key[0]) {
      case "r": return p.readFile(path, "utf8").then((t) => t.trim(), () => "");
      case "l": return p.readdir(path).then((a) => a.sort(), () => []);
      case "e": return p.access(path).then(() => true, () => false);
      default: return p.realpath(path).catch(() => null);
    }
  }

  /** A device from uevent properties only (replay, or sysfs already gone). */
  fromUevent(name: string, rec: UeventRecord, before: BlockDevice | undefined): BlockDevice {
    const p = rec.props;
    const devtype = p.DEVTYPE ?? before?.devtype ?? "disk";
    const hctl = hctlBeforeBlock(rec.devpath);
    // A field-by-field copy (same key order as every producer): cheaper than a spread on the uevent path.
    const dev: BlockDevice = before ? {
      name: before.name, majmin: before.majmin, dev_path: before.dev_path, devtype: before.devtype, parent: before.parent,
      size_bytes: before.size_bytes, wwid: before.wwid, serial: before.serial, model: before.model, dm_name: before.dm_name,
      dm_uuid: before.dm_uuid, md_uuid: before.md_uuid, scsi_address: before.scsi_address, by_id: before.by_id,
      holders: before.holders, slaves: before.slaves, partitions: before.partitions, origin: "uevent",
    } : {
      name, majmin: "", dev_path: "", devtype, parent: "", size_bytes: -1, wwid: "", serial: "", model: "",
      dm_name: "", dm_uuid: "", md_uuid: "", scsi_address: "", by_id: [], holders: [], slaves: [], partitions: [],
      origin: "uevent",
    };
    if (p.MAJOR && p.MINOR) dev.majmin = `${p.MAJOR}:${p.MINOR}`;
    dev.devtype = devtype;
    if (p.DEVNAME) dev.dev_path = p.DEVNAME.startsWith("/") ? p.DEVNAME : `${this.devRoot}/${p.DEVNAME}`;
    if (devtype === "partition") {
      const parts = rec.devpath.split("/");
      dev.parent = parts[parts.length - 2] ?? "";
    }
    if (hctl) dev.scsi_address = hctl;
    if (p.DM_NAME) dev.dm_name = p.DM_NAME;
    if (p.DM_UUID) dev.dm_uuid = p.DM_UUID;
    if (p.MD_UUID) dev.md_uuid = p.MD_UUID;
    mergeUdevProps(dev, p);
    return dev;
  }
}
