// The live block device inventory: scanned from sysfs at start, kept current from uevents.
// It is the DeviceDirectory behind `owners`/`dev_wwid` in events and `storeventd info DEV`.
// Nothing here throws: unreadable sysfs files read as empty, vanished devices keep their name.
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { DeviceDirectory, DeviceIdentity, Owner } from "../plugin-api.ts";
import type { UeventRecord } from "../records.ts";
import { parseMountinfo } from "../util/mountinfo.ts";

export interface Mount {
  mount_point: string;
  fs_type: string;
}

export interface BlockDevice {
  name: string;
  /** "major:minor" */
  majmin: string;
  dev_path: string;
  devtype: "disk" | "partition" | string;
  /** The disk of a partition, else "". */
  parent: string;
  /** -1 when unknown (replayed uevents without sysfs). */
  size_bytes: number;
  wwid: string;
  serial: string;
  model: string;
  dm_name: string;
  dm_uuid: string;
  md_uuid: string;
  /** H:C:T:L of SCSI disks. */
  scsi_address: string;
  /** /dev/disk/by-id links (from the directory or udev's DEVLINKS). */
  by_id: string[];
  holders: string[];
  slaves: string[];
  partitions: string[];
  /** Where the sysfs view came from: "sysfs" or "uevent" (props only). */
  origin: "sysfs" | "uevent";
}

export interface InventoryOptions {
  sysRoot?: string;
  devRoot?: string;
  mountinfo?: string;
}

export interface ApplyResult {
  name: string;
  before: BlockDevice | undefined;
  after: BlockDevice | undefined;
}

const SCSI_ADDR = /^\d+:\d+:\d+:\d+$/;
const MAJMIN = /^\d+:\d+$/;

function read(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

function list(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/**
 * Indexes /proc/self/mountinfo by device: "major:minor" of the mounted device, and "src:NAME" for
 * a /dev/... mount source (btrfs reports an anonymous 0:N device number; a /dev/mapper/x source is
 * resolved to its dm-N through `realpath`).
 */
export function mountsByDevice(text: string, realpath: (p: string) => string = (p) => p): Map<string, Mount[]> {
  const out = new Map<string, Mount[]>();
  const add = (key: string, m: Mount) => {
    const arr = out.get(key) ?? [];
    if (!arr.some((x) => x.mount_point === m.mount_point)) arr.push(m);
    out.set(key, arr);
  };
  for (const e of parseMountinfo(text)) {
    const m = { mount_point: e.mount_point, fs_type: e.fs_type };
    add(e.majmin, m);
    if (e.source.startsWith("/dev/")) add(`src:${basename(realpath(e.source))}`, m);
  }
  return out;
}

export class DeviceInventory implements DeviceDirectory {
  readonly sysRoot: string;
  readonly devRoot: string;
  readonly mountinfoPath: string;
  private devs = new Map<string, BlockDevice>();
  private byMajmin = new Map<string, string>();
  private scanned = false;
  /** False when sysRoot has no class/block (replay elsewhere): uevents are then the only source. */
  private hasSysfs = true;
  private mounts: { at: number; map: Map<string, Mount[]> } = { at: 0, map: new Map() };
  /** Queries that found nothing, with when: asked again within 2 s they are not looked up. */
  private missing = new Map<string, number>();
  private listeners = new Set<(r: ApplyResult) => void>();

  constructor(opts: InventoryOptions = {}) {
    this.sysRoot = opts.sysRoot ?? "/sys";
    this.devRoot = opts.devRoot ?? "/dev";
    this.mountinfoPath = opts.mountinfo ?? "/proc/self/mountinfo";
  }

  /** Full rescan of <sys>/class/block; returns what changed against the previous view. */
  scan(): ApplyResult[] {
    this.hasSysfs = existsSync(`${this.sysRoot}/class/block`);
    const byId = this.readById();
    const names = new Set(list(`${this.sysRoot}/class/block`));
    const changes: ApplyResult[] = [];
    for (const name of [...this.devs.keys()]) {
      if (!names.has(name)) {
        const before = this.devs.get(name);
        this.drop(name);
        changes.push({ name, before, after: undefined });
      }
    }
    for (const name of names) {
      const before = this.devs.get(name);
      const after = this.readSysfs(name, byId);
      if (!after) continue;
      this.put(after);
      if (!before || before.size_bytes !== after.size_bytes || before.majmin !== after.majmin) {
        changes.push({ name, before, after });
      }
    }
    this.scanned = true;
    return changes;
  }

  private ensure(): void {
    if (!this.scanned) this.scan();
  }

  get(name: string): BlockDevice | undefined {
    this.ensure();
    return this.devs.get(name);
  }

  list(): BlockDevice[] {
    this.ensure();
    return [...this.devs.values()].sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
  }

  /** Called after every applied uevent or rescan change (the control API, caches). */
  onChange(fn: (r: ApplyResult) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Re-reads one device from sysfs (undefined when it is gone); keeps the inventory current. */
  refresh(name: string): BlockDevice | undefined {
    this.ensure();
    const dev = this.readSysfs(name, this.readById());
    if (dev) this.put(dev);
    return dev;
  }

  /** Updates the inventory from one uevent of the block subsystem. */
  applyUevent(rec: UeventRecord): ApplyResult | undefined {
    this.ensure();
    const p = rec.props;
    if ((p.SUBSYSTEM ?? "") !== "block") return undefined;
    const name = p.DEVNAME ? basename(p.DEVNAME) : basename(rec.devpath);
    if (!name) return undefined;
    const before = this.devs.get(name);
    let after: BlockDevice | undefined;
    if (rec.action === "remove") {
      this.drop(name);
    } else {
      if (rec.action === "move" && p.DEVPATH_OLD) {
        const old = basename(p.DEVPATH_OLD);
        if (old !== name) this.drop(old);
      }
      after = this.hasSysfs && existsSync(`${this.sysRoot}/class/block/${name}`) ? this.readSysfs(name, this.readById()) : undefined;
      after ??= this.fromUevent(name, rec, before);
      // udevd's copy knows what sysfs does not: by-id links, serial, WWN.
      if (rec.origin === "udev") this.mergeUdevProps(after, p);
      this.put(after);
      for (const s of after.slaves) this.refreshLinks(s);
    }
    const res = { name, before, after };
    for (const fn of this.listeners) fn(res);
    return res;
  }

  /** A device from uevent properties only (replay, or sysfs already gone). */
  private fromUevent(name: string, rec: UeventRecord, before: BlockDevice | undefined): BlockDevice {
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
    this.mergeUdevProps(dev, p);
    return dev;
  }

  private mergeUdevProps(dev: BlockDevice, p: Record<string, string>): void {
    if (p.DEVLINKS) {
      const ids = p.DEVLINKS.split(" ").filter((l) => l.includes("/disk/by-id/")).map((l) => basename(l));
      if (ids.length) dev.by_id = [...new Set([...dev.by_id, ...ids])].sort();
    }
    if (!dev.serial && (p.ID_SERIAL_SHORT || p.ID_SERIAL)) dev.serial = p.ID_SERIAL_SHORT ?? p.ID_SERIAL!;
    if (!dev.model && p.ID_MODEL) dev.model = p.ID_MODEL;
    if (!dev.wwid) dev.wwid = pickWwid(dev, p.ID_WWN_WITH_EXTENSION ?? p.ID_WWN ?? "");
  }

  private put(dev: BlockDevice): void {
    const old = this.devs.get(dev.name);
    if (old?.majmin && old.majmin !== dev.majmin) this.byMajmin.delete(old.majmin);
    this.devs.set(dev.name, dev);
    if (dev.majmin) this.byMajmin.set(dev.majmin, dev.name);
    this.missing.clear(); // "not found" answers (by name, path, major:minor, ...) may be stale now
    if (dev.parent) {
      const parent = this.devs.get(dev.parent);
      if (parent && !parent.partitions.includes(dev.name)) parent.partitions = [...parent.partitions, dev.name].sort();
    }
    for (const s of dev.slaves) {
      const below = this.devs.get(s);
      if (below && !below.holders.includes(dev.name)) below.holders = [...below.holders, dev.name].sort();
    }
  }

  private drop(name: string): void {
    const dev = this.devs.get(name);
    if (!dev) return;
    this.devs.delete(name);
    if (dev.majmin && this.byMajmin.get(dev.majmin) === name) this.byMajmin.delete(dev.majmin);
    const without = (list: string[]) => (list.includes(name) ? list.filter((n) => n !== name) : list);
    const parent = this.devs.get(dev.parent);
    if (parent) parent.partitions = without(parent.partitions);
    for (const s of dev.slaves) {
      const below = this.devs.get(s);
      if (below) below.holders = without(below.holders);
    }
    for (const h of dev.holders) {
      const above = this.devs.get(h);
      if (above) above.slaves = without(above.slaves);
    }
  }

  private refreshLinks(name: string): void {
    const dev = this.devs.get(name);
    if (!dev || dev.origin !== "sysfs") return;
    dev.holders = list(`${this.sysRoot}/class/block/${name}/holders`);
  }

  private readById(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const dir = `${this.devRoot}/disk/by-id`;
    for (const link of list(dir)) {
      let target = "";
      try {
        target = basename(readlinkSync(`${dir}/${link}`));
      } catch {
        continue;
      }
      const arr = out.get(target) ?? [];
      arr.push(link);
      out.set(target, arr);
    }
    return out;
  }

  private readSysfs(name: string, byId: Map<string, string[]>): BlockDevice | undefined {
    if (!/^[\w.:+-]+$/.test(name)) return undefined;
    const base = `${this.sysRoot}/class/block/${name}`;
    const majmin = read(`${base}/dev`);
    if (!majmin) return undefined;
    const isPart = existsSync(`${base}/partition`);
    let real = "";
    try {
      real = realpathSync(base);
    } catch {
      return undefined;
    }
    const diskBase = isPart ? dirname(real) : real;
    const uevent = parseKv(read(`${base}/uevent`));
    const hctlPath = (() => {
      try {
        return basename(realpathSync(`${diskBase}/device`));
      } catch {
        return "";
      }
    })();
    const dev: BlockDevice = {
      name,
      majmin,
      dev_path: existsSync(`${this.devRoot}/${uevent.DEVNAME ?? name}`) ? `${this.devRoot}/${uevent.DEVNAME ?? name}` : "",
      devtype: uevent.DEVTYPE ?? (isPart ? "partition" : "disk"),
      parent: isPart ? basename(dirname(real)) : "",
      size_bytes: Number(read(`${base}/size`) || 0) * 512,
      wwid: "",
      serial: read(`${diskBase}/serial`) || read(`${diskBase}/device/serial`),
      model: read(`${diskBase}/device/model`),
      dm_name: read(`${base}/dm/name`),
      dm_uuid: read(`${base}/dm/uuid`),
      md_uuid: read(`${base}/md/uuid`),
      scsi_address: SCSI_ADDR.test(hctlPath) ? hctlPath : "",
      by_id: (byId.get(name) ?? []).sort(),
      holders: list(`${base}/holders`),
      slaves: list(`${base}/slaves`),
      partitions: isPart ? [] : list(real).filter((e) => e.startsWith(name) && existsSync(`${real}/${e}/partition`)),
      origin: "sysfs",
    };
    const before = this.devs.get(name);
    if (before?.by_id.length && !dev.by_id.length) dev.by_id = before.by_id; // learnt from udevd
    // A partition's id is its disk's, with -partN (as udev's by-id links do).
    const idSource = isPart ? { ...dev, by_id: byId.get(dev.parent) ?? this.devs.get(dev.parent)?.by_id ?? [] } : dev;
    dev.wwid = pickWwid(idSource, read(`${diskBase}/wwid`) || read(`${diskBase}/device/wwid`));
    if (isPart && dev.wwid && !dev.dm_uuid && !dev.md_uuid) dev.wwid += `-part${read(`${base}/partition`)}`;
    return dev;
  }

  // ---- lookups ----

  private mountMap(): Map<string, Mount[]> {
    const now = Date.now();
    if (now - this.mounts.at > 1000) {
      const real = (p: string) => {
        try {
          return realpathSync(p);
        } catch {
          return p;
        }
      };
      this.mounts = { at: now, map: mountsByDevice(read(this.mountinfoPath), real) };
    }
    return this.mounts.map;
  }

  mountsOf(name: string): Mount[] {
    const dev = this.get(name);
    if (!dev) return [];
    const map = this.mountMap();
    const out = [...(map.get(dev.majmin) ?? [])];
    for (const m of map.get(`src:${name}`) ?? []) if (!out.some((x) => x.mount_point === m.mount_point)) out.push(m);
    return out;
  }

  mountOf(devName: string): Mount | undefined {
    const name = this.resolve(devName);
    return name ? this.mountsOf(name)[0] : undefined;
  }

  /**
   * The kernel name for: sdb, sdb1, dm-3, nvme0n1, md0, loop0, "8:16", "/dev/sdb", "/dev/mapper/x",
   * "2:0:0:1" or "sd 2:0:0:1" (SCSI address), a WWID, serial, DM/MD UUID or by-id name.
   */
  resolve(query: string): string | undefined {
    this.ensure();
    if (this.devs.has(query)) return query;
    const miss = this.missing.get(query);
    if (miss !== undefined && Date.now() - miss < 2000) return undefined;
    const found = this.lookup(query);
    if (found === undefined) this.missing.set(query, Date.now());
    return found;
  }

  private lookup(query: string): string | undefined {
    let q = query.trim();
    if (q.startsWith("sd ")) q = q.slice(3);
    if (this.devs.has(q)) return q;
    if (q.startsWith("/")) {
      try {
        const real = realpathSync(q);
        const n = basename(real);
        if (this.devs.has(n) || this.lazy(n)) return n;
      } catch {
        // a path that no longer exists: fall through to its basename
      }
      q = basename(q);
      if (this.devs.has(q)) return q;
    }
    if (MAJMIN.test(q)) {
      const n = this.byMajmin.get(q);
      if (n) return n;
      const link = (() => {
        try {
          return basename(realpathSync(`${this.sysRoot}/dev/block/${q}`));
        } catch {
          return "";
        }
      })();
      return link && this.lazy(link) ? link : undefined;
    }
    if (SCSI_ADDR.test(q)) {
      for (const d of this.devs.values()) if (d.scsi_address === q && d.devtype !== "partition") return d.name;
      const disks = list(`${this.sysRoot}/class/scsi_device/${q}/device/block`);
      return disks[0] && this.lazy(disks[0]) ? disks[0] : undefined;
    }
    for (const d of this.devs.values()) {
      if (q && (d.wwid === q || d.serial === q || d.dm_uuid === q || d.md_uuid === q || d.dm_name === q || d.by_id.includes(q))) {
        return d.name;
      }
    }
    return this.lazy(q) ? q : undefined;
  }

  /** A device the scan has not seen yet (hot-added since): read it from sysfs. */
  private lazy(name: string): boolean {
    return this.devs.has(name) || this.refresh(name) !== undefined;
  }

  /** Devices stacked above name (transitively), and for a partition also above its disk. */
  ownersOf(name: string): Owner[] {
    const out: Owner[] = [];
    const seen = new Set<string>([name]);
    const dev = this.devs.get(name);
    const queue = [...(dev?.holders ?? [])];
    if (dev?.parent) queue.push(...(this.devs.get(dev.parent)?.holders ?? []));
    while (queue.length && out.length < 64) {
      const n = queue.shift()!;
      if (seen.has(n)) continue;
      seen.add(n);
      const h = this.devs.get(n);
      out.push({ dev_name: n, dev_wwid: h?.wwid ?? "" });
      queue.push(...(h?.holders ?? []));
    }
    return out;
  }

  identify(name: string): DeviceIdentity {
    try {
      const resolved = this.resolve(name);
      const dev = resolved ? this.devs.get(resolved) : undefined;
      if (!dev) {
        const bare = name.startsWith("/dev/") ? name.slice(5) : name;
        return { dev_name: bare, dev_path: "", dev_wwid: "", owners: [] };
      }
      return { dev_name: dev.name, dev_path: dev.dev_path, dev_wwid: dev.wwid, owners: this.ownersOf(dev.name) };
    } catch {
      return { dev_name: name, dev_path: "", dev_wwid: "", owners: [] };
    }
  }
}

function parseKv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** The stable id: the device's WWID, else the DM/MD UUID, else a wwn-/nvme- by-id name, else the serial. */
function pickWwid(dev: BlockDevice, wwid: string): string {
  if (wwid) return wwid;
  if (dev.dm_uuid) return dev.dm_uuid;
  if (dev.md_uuid) return dev.md_uuid;
  const wwn = dev.by_id.find((l) => l.startsWith("wwn-"));
  if (wwn) return wwn.slice(4);
  if (dev.serial) return dev.serial;
  return dev.by_id[0] ?? "";
}
