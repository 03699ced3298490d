// The udev catalog (SPEC §2): turns a uevent plus the inventory's before/after view into event
// drafts. Pure apart from the inventory it updates; used by the udev sender live and by replay.
// Never touches the file system: the uevent, the size its reader read with it, and memory.
//
//   block  add                       -> DEVICE_ADDED
//          remove                    -> DEVICE_REMOVED
//          change DISK_MEDIA_CHANGE=1 -> MEDIA_CHANGED
//          change, size a -> b (a, b > 0) or RESIZE=1 -> DEVICE_RESIZED (old/new size in bytes)
//          other change/move/online/offline -> DEVICE_CHANGED (a size 0 <-> n step is a change:
//          loop attach/detach; the kernel's set_capacity_and_notify() sends RESIZE=1 only when
//          neither size is 0). DM_ACTION= changes belong to the dm parser: no event here.
//   scsi   change SDEV_UA=...        -> SCSI_UNIT_ATTENTION (drivers/scsi/scsi_lib.c scsi_evt_emit)
//          change SDEV_MEDIA_CHANGE=1 -> MEDIA_CHANGED, both naming the disk of that H:C:T:L
//          (or the H:C:T:L itself when no disk is known: never empty)
//          add / remove (DEVTYPE=scsi_device) -> SCSI_DEVICE_ADDED / SCSI_DEVICE_REMOVED
//   nvme   change NVME_AEN=0x...     -> SMART/health: NVME_CRITICAL_WARNING; error, I/O command
//          set specific and vendor specific types: NVME_ASYNC_EVENT (drivers/nvme/host/core.c
//          nvme_aen_uevent; notices never reach a uevent, the kernel handles them itself)
import type { EventDraft, Severity } from "../../../src/plugin-kit/event.ts";
import { formatBytes } from "../../../src/plugin-kit/format.ts";
import type { UeventRecord } from "../../../src/plugin-api.ts";
import { packedSubsystem } from "../../../src/plugin-kit/readers.ts";
import { SeqWindow } from "./seqwindow.ts";
import { DeviceInventory as DeviceInventoryCtor, type ApplyResult, type BlockDevice, type DeviceInventory } from "../../../src/plugin-kit/devices.ts";

export { SeqWindow } from "./seqwindow.ts";

export const DEFAULT_SUBSYSTEMS = ["block", "scsi", "nvme"] as const;

/** SDEV_UA values -> additional sense code/qualifier of the unit attention, meaning, severity. */
export const SCSI_UA: Record<string, { asc: number; ascq: number; text: string; severity: Severity }> = {
  INQUIRY_DATA_HAS_CHANGED: { asc: 0x3f, ascq: 0x03, text: "inquiry data has changed", severity: "info" },
  CAPACITY_DATA_HAS_CHANGED: { asc: 0x2a, ascq: 0x09, text: "capacity data has changed", severity: "info" },
  THIN_PROVISIONING_SOFT_THRESHOLD_REACHED: {
    asc: 0x38, ascq: 0x07, text: "thin provisioning soft threshold reached", severity: "warn",
  },
  MODE_PARAMETERS_CHANGED: { asc: 0x2a, ascq: 0x01, text: "mode parameters changed", severity: "info" },
  REPORTED_LUNS_DATA_HAS_CHANGED: { asc: 0x3f, ascq: 0x0e, text: "reported LUNs data has changed", severity: "info" },
  ASYMMETRIC_ACCESS_STATE_CHANGED: { asc: 0x2a, ascq: 0x06, text: "asymmetric access state changed", severity: "warn" },
  POWER_ON_RESET_OCCURRED: { asc: 0x29, ascq: 0x00, text: "power on, reset, or bus device reset occurred", severity: "warn" },
};

// NVMe base specification, Asynchronous Event Request completion dword 0: type bits 2:0, info 15:8,
// log page 23:16.
const AEN_TYPES: Record<number, string> = {
  0: "error status", 1: "SMART/health status", 2: "notice", 6: "I/O command specific status", 7: "vendor specific",
};
const AEN_INFO: Record<number, Record<number, string>> = {
  0: {
    0x00: "write to invalid doorbell register", 0x01: "invalid doorbell write value", 0x02: "diagnostic failure",
    0x03: "persistent internal error", 0x04: "transient internal error", 0x05: "firmware image load error",
  },
  1: { 0x00: "NVM subsystem reliability degraded", 0x01: "temperature threshold crossed", 0x02: "available spare below threshold" },
  2: {
    0x00: "namespace attribute changed", 0x01: "firmware activation starting", 0x02: "telemetry log changed",
    0x03: "asymmetric namespace access change", 0x04: "predictable latency event aggregate log change",
    0x05: "LBA status information alert", 0x06: "endurance group event aggregate log page change",
    0xf0: "discovery log page change",
  },
  6: { 0x00: "reservation log page available", 0x01: "sanitize operation completed",
    0x02: "sanitize operation completed with unexpected deallocation" },
};
const LOG_PAGES: Record<number, string> = {
  0x01: "error information", 0x02: "SMART / health information", 0x03: "firmware slot information",
  0x04: "changed namespace list", 0x0c: "asymmetric namespace access", 0x80: "reservation notification",
  0x81: "sanitize status",
};

export interface NvmeAen {
  aen: string;
  type: number;
  type_name: string;
  info: number;
  info_name: string;
  log_page: number;
  log_page_name: string;
}

/** Decodes the NVME_AEN= value ("%#08x" of the AER completion dword 0). */
export function decodeNvmeAen(value: string): NvmeAen | undefined {
  if (!/^0x[0-9a-f]{1,8}$/i.test(value.trim())) return undefined;
  const n = parseInt(value, 16);
  const type = n & 0x7;
  const info = (n >> 8) & 0xff;
  const page = (n >> 16) & 0xff;
  const hex = (x: number) => "0x" + x.toString(16).padStart(2, "0");
  return {
    aen: value.trim(), type, type_name: AEN_TYPES[type] ?? `reserved type ${type}`,
    info, info_name: AEN_INFO[type]?.[info] ?? `info ${hex(info)}`,
    log_page: page, log_page_name: LOG_PAGES[page] ?? `log page ${hex(page)}`,
  };
}


export interface ClassifyOptions {
  /** Kernel SUBSYSTEM values to act on (default block, scsi, nvme). */
  subsystems?: readonly string[];
  /** How many recent SEQNUMs are remembered to drop udevd's copy of a kernel uevent (default 4096). */
  dedupSeqnums?: number;
}

export interface Handled {
  /** "ignored": other subsystem; "duplicate": second copy of a SEQNUM; "new": forward to parsers. */
  status: "ignored" | "duplicate" | "new";
  drafts: EventDraft[];
  /** Non-empty when a value could not be decoded (count it as bad). */
  bad: string;
}

export class UeventClassifier {
  private subsystems: Set<string>;
  private seqs: SeqWindow;
  /** Set when a record could not be classified (bad NVME_AEN value ...): the caller counts it. */
  lastBad = "";
  /** H:C:T:L -> disk name seen in block uevents' devpaths, so a scsi_device removed after its
   * disk (del_gendisk runs first) is still named by the disk. */
  private readonly scsiDisks = new Map<string, string>();

  constructor(readonly inventory: DeviceInventory, opts: ClassifyOptions = {}) {
    this.subsystems = new Set(opts.subsystems ?? DEFAULT_SUBSYSTEMS);
    this.seqs = new SeqWindow(opts.dedupSeqnums ?? 4096);
  }

  /** Filter, de-duplicate (by SEQNUM) and classify one uevent, live or replayed. sizeBytes: the
   * block device's size read with the uevent (by the reader thread); never read here. */
  handle(rec: UeventRecord, sizeBytes?: number): Handled {
    if (!this.wants(rec)) return { status: "ignored", drafts: [], bad: "" };
    const seq = rec.props.SEQNUM;
    if (seq !== undefined && this.seqs.seen(seq)) {
      if (rec.origin === "udev") this.inventory.applyUevent(rec, sizeBytes); // udevd's by-id links and IDs
      return { status: "duplicate", drafts: [], bad: "" };
    }
    const drafts = this.classify(rec, sizeBytes);
    return { status: "new", drafts, bad: this.lastBad };
  }

  wants(rec: UeventRecord): boolean {
    return this.subsystems.has(rec.props.SUBSYSTEM ?? "");
  }

  /** wants() from a packed record (see packedSubsystem), before it is unpacked. */
  wantsPacked(packed: string): boolean {
    return this.subsystems.has(packedSubsystem(packed) ?? "");
  }

  /** wants() from the SUBSYSTEM alone (packedSubsystem, laidSubsystem), before the record is built. */
  wantsSubsystem(subsystem: string | undefined): boolean {
    return this.subsystems.has(subsystem ?? "");
  }

  /** Applies the uevent to the inventory and returns the catalog events it means: from the
   * uevent, sizeBytes and the inventory's memory only (no file-system call). */
  classify(rec: UeventRecord, sizeBytes?: number): EventDraft[] {
    this.lastBad = "";
    const sub = rec.props.SUBSYSTEM ?? "";
    if (!this.subsystems.has(sub)) return [];
    if (sub === "block") {
      const hd = rec.action === "add" ? /\/(\d+:\d+:\d+:\d+)\/block\/([^/]+)$/.exec(rec.devpath) : null;
      if (hd && this.scsiDisks.size < 4096) this.scsiDisks.set(hd[1]!, hd[2]!);
      const applied = this.inventory.applyUevent(rec, sizeBytes);
      return applied ? this.block(rec, applied) : [];
    }
    if (sub === "scsi" && rec.props.DEVTYPE === "scsi_device") return this.scsi(rec);
    if (sub === "nvme" && rec.action === "change" && rec.props.NVME_AEN !== undefined) return this.nvme(rec);
    return [];
  }

  /** Events for what a full rescan (after ENOBUFS) found changed. */
  resync(changes: ApplyResult[]): EventDraft[] {
    const out: EventDraft[] = [];
    for (const c of changes) {
      const rec: UeventRecord = {
        kind: "uevent", source: "udev", origin: "kernel", action: !c.before ? "add" : !c.after ? "remove" : "change",
        devpath: "", props: { SUBSYSTEM: "block", DEVNAME: c.name }, raw: "",
      };
      for (const d of this.block(rec, c)) out.push({ ...d, extension: { ...d.extension, resync: true } });
    }
    return out;
  }

  private draft(rec: UeventRecord, severity: Severity, system: EventDraft["system"], type: string, msg: string,
    dev: BlockDevice | undefined, name: string, extension: Record<string, unknown>): EventDraft {
    const d: EventDraft = { severity, system, event_type: type, msg, dev_name: name, extension };
    if (dev?.dev_path) d.dev_path = dev.dev_path;
    if (dev?.wwid) d.dev_wwid = dev.wwid;
    if (rec.raw) d.raw = rec.raw;
    if (rec.time_us !== undefined) d.time_us = rec.time_us;
    return d;
  }

  private block(rec: UeventRecord, a: ApplyResult): EventDraft[] {
    const p = rec.props;
    const dev = a.after ?? a.before;
    const name = a.name;
    const size = a.after?.size_bytes ?? -1;
    const old = a.before?.size_bytes ?? -1;
    const base: Record<string, unknown> = { action: rec.action, devtype: dev?.devtype ?? p.DEVTYPE ?? "" };
    if (dev?.majmin) base.majmin = dev.majmin;
    if (dev?.parent) base.parent = dev.parent;
    if (p.DISKSEQ) base.diskseq = Number(p.DISKSEQ);
    if (p.SEQNUM) base.seqnum = Number(p.SEQNUM);
    switch (rec.action) {
      case "add":
        return [this.draft(rec, "info", "block", "DEVICE_ADDED",
          `${name} added (${base.devtype || "block device"}${dev?.parent ? ` of ${dev.parent}` : ""}, ${formatBytes(size)})`,
          dev, name, withSize(base, "size_bytes", size))];
      case "remove": {
        const physical = (dev?.devtype ?? p.DEVTYPE) === "disk" && rec.devpath !== "" && !rec.devpath.startsWith("/devices/virtual/");
        return [this.draft(rec, physical ? "warn" : "info", "block", "DEVICE_REMOVED", `${name} removed`, a.before, name,
          withSize(base, "size_bytes", old))];
      }
      case "change": {
        if (p.DM_ACTION) return []; // multipath path events: the dm parser's
        if (p.DISK_MEDIA_CHANGE === "1") {
          return [this.draft(rec, "info", "block", "MEDIA_CHANGED",
            `${name}: media changed${old >= 0 && size >= 0 && old !== size ? ` (${formatBytes(old)} -> ${formatBytes(size)})` : ""}`,
            dev, name, withSize(withSize(base, "old_size_bytes", old), "new_size_bytes", size))];
        }
        if ((old > 0 && size > 0 && old !== size) || p.RESIZE === "1") {
          const shrunk = old > 0 && size >= 0 && size < old;
          // The size is read from sysfs when the uevent arrives: after a quick attach-and-resize the
          // previous event may already have seen the new size. Then the old size is unknown, not equal.
          const known = old >= 0 && size >= 0 && old !== size;
          return [this.draft(rec, shrunk ? "warn" : "info", "block", "DEVICE_RESIZED",
            known ? `${name} resized from ${formatBytes(old)} to ${formatBytes(size)}` : size >= 0 ? `${name} resized to ${formatBytes(size)}` : `${name} resized`,
            dev, name, withSize(known ? withSize(base, "old_size_bytes", old) : base, "new_size_bytes", size))];
        }
        return [this.draft(rec, "info", "block", "DEVICE_CHANGED",
          `${name} changed${old >= 0 && size >= 0 && old !== size ? ` (size ${formatBytes(old)} -> ${formatBytes(size)})` : ""}`,
          dev, name, withSize(withSize(base, "old_size_bytes", old), "new_size_bytes", size))];
      }
      default:
        return [this.draft(rec, "info", "block", "DEVICE_CHANGED", `${name}: ${rec.action}`, dev, name, base)];
    }
  }

  private scsi(rec: UeventRecord): EventDraft[] {
    const p = rec.props;
    const hctl = basename(rec.devpath);
    const disk = this.inventory.resolve(hctl) ?? this.scsiDisks.get(hctl);
    if (rec.action === "remove") this.scsiDisks.delete(hctl);
    const dev = disk ? this.inventory.get(disk) : undefined;
    // The disk's kernel name when the inventory knows it, else the SCSI address: never empty.
    const name = disk ?? hctl;
    const label = disk ? `${disk} (${hctl})` : `SCSI device ${hctl}`;
    const ext: Record<string, unknown> = { scsi_address: hctl };
    if (p.SEQNUM) ext.seqnum = Number(p.SEQNUM);
    if (rec.action === "add" || rec.action === "remove") {
      if (p.MODALIAS?.startsWith("scsi:t-")) ext.scsi_type = hexType(p.MODALIAS.slice(7));
      const added = rec.action === "add";
      return [this.draft(rec, added ? "info" : "warn", "scsi", added ? "SCSI_DEVICE_ADDED" : "SCSI_DEVICE_REMOVED",
        `${label} ${added ? "added" : "removed"}`, dev, name, ext)];
    }
    if (rec.action !== "change") return [];
    if (p.SDEV_UA !== undefined) {
      const ua = SCSI_UA[p.SDEV_UA];
      const hex = (x: number) => "0x" + x.toString(16).padStart(2, "0");
      const uaExt = ua ? { ...ext, ua: p.SDEV_UA, asc: hex(ua.asc), ascq: hex(ua.ascq) } : { ...ext, ua: p.SDEV_UA };
      return [this.draft(rec, ua?.severity ?? "warn", "scsi", "SCSI_UNIT_ATTENTION",
        `${label}: unit attention: ${ua?.text ?? p.SDEV_UA.toLowerCase().replace(/_/g, " ")}`, dev, name, uaExt)];
    }
    if (p.SDEV_MEDIA_CHANGE === "1") {
      return [this.draft(rec, "info", "block", "MEDIA_CHANGED", `${label}: media changed`, dev, name, { ...ext, devtype: "scsi_device" })];
    }
    return [];
  }

  private nvme(rec: UeventRecord): EventDraft[] {
    const p = rec.props;
    const aen = decodeNvmeAen(p.NVME_AEN ?? "");
    if (!aen) {
      this.lastBad = "NVME_AEN value is not hex";
      return [];
    }
    const name = p.DEVNAME ? basename(p.DEVNAME) : basename(rec.devpath);
    const ext: Record<string, unknown> = { ...aen };
    if (p.SEQNUM) ext.seqnum = Number(p.SEQNUM);
    const d = (severity: Severity, type: string, msg: string): EventDraft[] => {
      const draft = this.draft(rec, severity, "nvme", type, msg, undefined, name, ext);
      if (p.DEVNAME) draft.dev_path = p.DEVNAME.startsWith("/") ? p.DEVNAME : `${this.inventory.devRoot}/${p.DEVNAME}`;
      return [draft];
    };
    if (aen.type === 1) {
      return d(aen.info === 0x01 ? "warn" : "error", "NVME_CRITICAL_WARNING",
        `${name}: critical warning: ${aen.info_name} (SMART/health async event ${aen.aen})`);
    }
    const severity: Severity = aen.type === 0 ? (aen.info === 0x02 || aen.info === 0x03 ? "error" : "warn") : "info";
    return d(severity, "NVME_ASYNC_EVENT", `${name}: async event: ${aen.type_name}: ${aen.info_name} (${aen.aen})`);
  }
}

/** ext with key = bytes when bytes >= 0 (ext is the draft's own, fresh per uevent): the object
 * spreads this replaced were ~4% of a uevent's CPU time. */
function withSize(ext: Record<string, unknown>, key: string, bytes: number): Record<string, unknown> {
  if (bytes >= 0) ext[key] = bytes;
  return ext;
}

/** node:path basename() for "/"-separated paths, without its cost on the uevent path. */
function basename(p: string): string {
  let end = p.length;
  while (end > 0 && p.charCodeAt(end - 1) === 47) end--;
  return end === 0 ? "" : p.slice(p.lastIndexOf("/", end - 1) + 1, end);
}

/** MODALIAS "scsi:t-0x05" -> the SCSI peripheral device type (0 disk, 5 CD/DVD, ...). */
function hexType(t: string): number | undefined {
  const n = Number.parseInt(t.replace(/^0x/, ""), 16);
  return Number.isFinite(n) ? n : undefined;
}

/** A classifier over an inventory that never reads this host's sysfs (replay of recorded uevents). */
export function replayClassifier(opts: ClassifyOptions = {}, inventory?: DeviceInventory): UeventClassifier {
  return new UeventClassifier(inventory ?? new DeviceInventoryCtor({ sysRoot: "/dev/null/no-sysfs", mountinfo: "/dev/null" }), opts);
}
