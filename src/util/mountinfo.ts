// The one /proc/self/mountinfo parser (proc(5)): the device inventory indexes its entries by device,
// the fs parser (through the plugin API) looks mount points up in them. Pure: no file access.

export interface MountEntry {
  /** "major:minor" of the mounted device (btrfs: an anonymous 0:N). */
  majmin: string;
  mount_point: string;
  fs_type: string;
  /** The mount source ("/dev/sdb1", "/dev/mapper/vg-lv", "tmpfs"). */
  source: string;
}

const MAJMIN = /^\d+:\d+$/;

/** Undoes the kernel's octal escapes in mountinfo fields (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMountField(s: string): string {
  return s.includes("\\") ? s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))) : s;
}

/** "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue" -> entries;
 * lines without the " - " separator, its two fields after it or a major:minor are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-", 6);
    if (f.length < 10 || sep < 0 || sep + 2 >= f.length || !MAJMIN.test(f[2]!)) continue;
    out.push({ majmin: f[2]!, mount_point: unescapeMountField(f[4]!), fs_type: f[sep + 1]!, source: unescapeMountField(f[sep + 2]!) });
  }
  return out;
}
