// A block device's record and its ids: how the inventory picks the stable id and the names that
// resolve to a device. Pure functions.

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

/** node:path basename() for "/"-separated paths (trailing slashes dropped), without its cost on
 * the uevent path: it showed up as 11% of a uevent replay profile. */
export function basename(p: string): string {
  let end = p.length;
  while (end > 0 && p.charCodeAt(end - 1) === 47) end--;
  return end === 0 ? "" : p.slice(p.lastIndexOf("/", end - 1) + 1, end);
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

/** True when a and b have the same aliasesOf() (compared field by field, nothing allocated). */
export function sameAliases(a: BlockDevice, b: BlockDevice): boolean {
  if (a.wwid !== b.wwid || a.serial !== b.serial || a.dm_uuid !== b.dm_uuid || a.md_uuid !== b.md_uuid) return false;
  if (a.dm_name !== b.dm_name || a.scsi_address !== b.scsi_address || a.dev_path !== b.dev_path) return false;
  if ((a.devtype === "partition") !== (b.devtype === "partition")) return false;
  if (a.by_id === b.by_id) return true;
  if (a.by_id.length !== b.by_id.length) return false;
  for (let i = 0; i < a.by_id.length; i++) if (a.by_id[i] !== b.by_id[i]) return false;
  return true;
}
