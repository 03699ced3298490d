// The live block device inventory (the index): scanned from sysfs at start (scan.ts), kept current from uevents.
// It is the DeviceDirectory behind `owners`/`dev_wwid` in events and `storeventd info DEV`.
// Nothing here throws: unreadable sysfs files read as empty, vanished devices keep their name.
// Lookups (identify, resolve, mountOf) and applyUevent() answer from memory only: the file system
// is read synchronously by scan() (once at start, and on a resync) and refresh() (CLI), and
// asynchronously after a uevent, off the event path, for what uevents do not carry (holders, slaves).
import type { DeviceDirectory, DeviceIdentity, Owner } from "../plugin-api.ts";
import type { UeventRecord } from "../records.ts";
import { MountTable, NODE_FS, type InventoryFs, type Mount } from "./mounts.ts";
import { aliasesOf, basename, sameAliases, type BlockDevice } from "./ids.ts";
import { SysfsScanner } from "./scan.ts";

export { mountsByDevice, type InventoryFs, type Mount } from "./mounts.ts";
export type { BlockDevice } from "./ids.ts";


export interface InventoryOptions {
  sysRoot?: string;
  devRoot?: string;
  mountinfo?: string;
  /** Tests: a stub proving which paths touch the file system. */
  fs?: InventoryFs;
  /** Never read this host's devices or mounts (replay of another host's records): only uevents fill it. */
  offline?: boolean;
}

export interface ApplyResult {
  name: string;
  before: BlockDevice | undefined;
  after: BlockDevice | undefined;
}

const MAJMIN = /^\d+:\d+$/;

/** Identity fields an asynchronous re-read keeps from memory when sysfs has them empty. */
const KEPT = ["serial", "model", "wwid", "dm_name", "dm_uuid", "md_uuid", "scsi_address", "dev_path"] as const;

/** Bound on remembered unknown names (ata3, nvme0, session3: names no block device has). */
const MAX_UNKNOWN = 4096;

export class DeviceInventory implements DeviceDirectory {
  readonly sysRoot: string;
  readonly devRoot: string;
  readonly mountinfoPath: string;
  private devs = new Map<string, BlockDevice>();
  private byMajmin = new Map<string, string>();
  private scanned = false;
  /** False when sysRoot has no class/block (replay elsewhere): uevents are then the only source. */
  private hasSysfs = true;
  private mounts: MountTable;
  /** WWID, serial, DM/MD uuid, dm name, by-id link, SCSI address, /dev name -> kernel name; rebuilt when dirty. */
  private aliases: Map<string, string> | undefined;
  /** Names no device has; forgotten when a uevent (or scan) brings a device of that name or alias. */
  private unknown = new Set<string>();
  private listeners = new Set<(r: ApplyResult) => void>();
  private sysfs: SysfsScanner;
  private offline: boolean;
  private knownDev = (name: string) => this.devs.get(name);
  /** Per name, the count of applied uevents when its last re-read started: an older one is stale. */
  private generation = new Map<string, number>();
  private applied = 0;
  private refreshing = 0;
  private settled: (() => void)[] = [];

  constructor(opts: InventoryOptions = {}) {
    this.sysRoot = opts.sysRoot ?? "/sys";
    this.devRoot = opts.devRoot ?? "/dev";
    this.mountinfoPath = opts.mountinfo ?? "/proc/self/mountinfo";
    const fs = opts.fs ?? NODE_FS;
    this.sysfs = new SysfsScanner(this.sysRoot, this.devRoot, fs);
    this.offline = opts.offline ?? false;
    this.mounts = new MountTable(this.mountinfoPath, fs, this.offline);
  }

  /** Full rescan of <sys>/class/block; returns what changed against the previous view. */
  scan(): ApplyResult[] {
    if (this.offline) {
      this.hasSysfs = false;
      this.scanned = true;
      return [];
    }
    this.hasSysfs = this.sysfs.exists(`${this.sysRoot}/class/block`);
    const byId = this.sysfs.readById();
    const names = new Set(this.sysfs.ls(`${this.sysRoot}/class/block`));
    this.mounts.loadSync();
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
      const after = this.sysfs.readSysfs(name, byId, this.knownDev);
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

  /** True once scan() ran (the daemon scans at start; lookups never scan). */
  get isScanned(): boolean {
    return this.scanned;
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
    if (this.offline) return this.devs.get(name);
    const dev = this.sysfs.readSysfs(name, this.sysfs.readById(), this.knownDev);
    if (dev) this.put(dev);
    return dev;
  }

  /**
   * Updates the inventory from one uevent of the block subsystem, from its properties, sizeBytes
   * (what its reader read with it) and memory: no file-system call. The device's sysfs entry is
   * then re-read asynchronously for what uevents do not say (holders, slaves, serial).
   */
  applyUevent(rec: UeventRecord, sizeBytes?: number): ApplyResult | undefined {
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
      let renamed: BlockDevice | undefined;
      if (rec.action === "move" && p.DEVPATH_OLD) {
        const old = basename(p.DEVPATH_OLD);
        if (old !== name) {
          const prev = this.devs.get(old);
          this.drop(old);
          if (prev) renamed = { ...prev, name, holders: [], slaves: [], partitions: [] };
        }
      }
      // What memory has, updated by the uevent (udevd's copy adds by-id links, serial, WWN); a
      // renamed device keeps what was known under its old name.
      after = this.sysfs.fromUevent(name, rec, before ?? renamed);
      if (sizeBytes !== undefined && sizeBytes >= 0) after.size_bytes = sizeBytes;
      this.put(after);
      if (this.hasSysfs && !this.offline) this.refreshLater(name);
    }
    const res = { name, before, after };
    for (const fn of this.listeners) fn(res);
    return res;
  }

  private put(dev: BlockDevice): void {
    const old = this.devs.get(dev.name);
    if (old?.majmin && old.majmin !== dev.majmin) this.byMajmin.delete(old.majmin);
    this.devs.set(dev.name, dev);
    if (dev.majmin) this.byMajmin.set(dev.majmin, dev.name);
    // A known device whose names did not change (most change uevents) leaves the alias map and the
    // unknown names as they are: none of its names can be unknown while it is there.
    if (!old || old.majmin !== dev.majmin || !sameAliases(old, dev)) {
      this.aliases = undefined;
      if (this.unknown.size) for (const a of [dev.name, dev.majmin, ...aliasesOf(dev)]) this.unknown.delete(a);
    }
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
    this.generation.delete(name);
    const dev = this.devs.get(name);
    if (!dev) return;
    this.devs.delete(name);
    this.aliases = undefined;
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

  /** Re-reads name's sysfs entry asynchronously; applied unless a later uevent or a drop came first. */
  private refreshLater(name: string): void {
    const gen = ++this.applied;
    this.generation.set(name, gen);
    this.refreshing++;
    void this.sysfs.readSysfsAsync(name, this.knownDev).then((dev) => {
      const cur = this.devs.get(name);
      if (!dev || !cur || this.generation.get(name) !== gen) return;
      // Identity learnt from udevd that sysfs does not have (a loop device's ID_SERIAL) stays.
      for (const k of KEPT) if (!dev[k] && cur[k]) dev[k] = cur[k];
      if (!dev.by_id.length) dev.by_id = cur.by_id;
      this.put(dev);
    }).catch(() => {}).finally(() => {
      this.refreshing--;
      if (this.refreshing === 0) for (const f of this.settled.splice(0)) f();
    });
  }

  /** Resolves when no asynchronous re-read is in flight (tests). */
  idle(): Promise<void> {
    return this.refreshing === 0 ? Promise.resolve() : new Promise((r) => this.settled.push(r));
  }

  // ---- lookups: memory only ----

  mountsOf(name: string): Mount[] {
    const dev = this.devs.get(name);
    if (!dev) return [];
    const out = [...this.mounts.get(dev.majmin)];
    for (const m of this.mounts.get(`src:${name}`)) if (!out.some((x) => x.mount_point === m.mount_point)) out.push(m);
    return out;
  }

  mountOf(devName: string): Mount | undefined {
    const name = this.known(devName);
    return name ? this.mountsOf(name)[0] : undefined;
  }

  /**
   * The kernel name for: sdb, sdb1, dm-3, nvme0n1, md0, loop0, "8:16", "/dev/sdb", "/dev/mapper/x",
   * "2:0:0:1" or "sd 2:0:0:1" (SCSI address), a WWID, serial, DM/MD UUID or by-id name.
   * Scans first if nothing was scanned yet (CLI use); the daemon scans at start.
   */
  resolve(query: string): string | undefined {
    this.ensure();
    return this.known(query);
  }

  /** resolve() from memory alone: what identify() and mountOf() use on the event path. */
  private known(query: string): string | undefined {
    if (this.devs.has(query)) return query;
    if (this.unknown.has(query)) return undefined;
    const found = this.lookup(query);
    if (found === undefined) {
      if (this.unknown.size >= MAX_UNKNOWN) this.unknown.clear();
      this.unknown.add(query);
    }
    return found;
  }

  private lookup(query: string): string | undefined {
    let q = query.trim();
    if (q.startsWith("sd ")) q = q.slice(3);
    if (q.startsWith("/")) q = basename(q); // /dev/sdb, /dev/mapper/x, /dev/disk/by-id/wwn-...
    if (this.devs.has(q)) return q;
    if (MAJMIN.test(q)) return this.byMajmin.get(q);
    if (!this.aliases) {
      this.aliases = new Map();
      for (const d of this.devs.values()) for (const a of aliasesOf(d)) if (!this.aliases.has(a)) this.aliases.set(a, d.name);
    }
    return q ? this.aliases.get(q) : undefined;
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
      const resolved = this.known(name);
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
