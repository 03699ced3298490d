// A block device's record and its ids: how the inventory picks the stable id and the names that
// resolve to a device. Pure functions.
import { basename } from "node:path";

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

/** What udevd's copy of a uevent knows and sysfs does not: by-id links, serial, model, WWN. */
export function mergeUdevProps(dev: BlockDevice, p: Record<string, string>): void {
  if (p.DEVLINKS) {
    const ids = p.DEVLINKS.split(" ").filter((l) => l.includes("/disk/by-id/")).map((l) => basename(l));
    if (ids.length) dev.by_id = [...new Set([...dev.by_id, ...ids])].sort();
  }
  if (!dev.serial && (p.ID_SERIAL_SHORT || p.ID_SERIAL)) dev.serial = p.ID_SERIAL_SHORT ?? p.ID_SERIAL!;
  if (!dev.model && p.ID_MODEL) dev.model = p.ID_MODEL;
  if (!dev.wwid) dev.wwid = pickWwid(dev, p.ID_WWN_WITH_EXTENSION ?? p.ID_WWN ?? "");
}

export function parseKv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** The stable id: the device's WWID, else the DM/MD UUID, else a wwn-/nvme- by-id name, else the serial. */
export function pickWwid(dev: BlockDevice, wwid: string): string {
  if (wwid) return wwid;
  if (dev.dm_uuid) return dev.dm_uuid;
  if (dev.md_uuid) return dev.md_uuid;
  const wwn = dev.by_id.find((l) => l.startsWith("wwn-"));
  if (wwn) return wwn.slice(4);
  if (dev.serial) return dev.serial;
  return dev.by_id[0] ?? "";
}

/** What else names a device: ids, links, the SCSI address of a disk, its /dev name. */
export function aliasesOf(d: BlockDevice): string[] {
  const out = [d.wwid, d.serial, d.dm_uuid, d.md_uuid, d.dm_name, ...d.by_id];
  if (d.scsi_address && d.devtype !== "partition") out.push(d.scsi_address);
  if (d.dev_path) out.push(basename(d.dev_path));
  return out.filter((a) => a !== "");
}
