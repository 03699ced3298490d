// Mount points of block devices from /proc/self/mountinfo (proc(5)): the fallback when the device
// directory has no mountOf(). Parsing is pure; MountTable adds a short-lived cache and realpath.
import { readFileSync, realpathSync } from "node:fs";

export interface MountEntry {
  majmin: string;
  mount_point: string;
  fs_type: string;
  source: string;
}

/** Undoes the kernel's octal escapes in mountinfo fields (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMountField(s: string): string {
  return s.includes("\\") ? s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))) : s;
}

/** "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue" -> entries. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-", 6);
    if (f.length < 10 || sep < 0 || sep + 2 >= f.length) continue;
    out.push({ majmin: f[2]!, mount_point: unescapeMountField(f[4]!), fs_type: f[sep + 1]!, source: unescapeMountField(f[sep + 2]!) });
  }
  return out;
}

/** The first mount whose source is /dev/<dev> (after `resolve`, e.g. /dev/mapper/vg-lv -> /dev/dm-3). */
export function findMount(entries: readonly MountEntry[], dev: string, resolve: (p: string) => string = (p) => p):
  { mount_point: string; fs_type: string } | undefined {
  const want = `/dev/${dev}`;
  for (const e of entries) {
    if (!e.source.startsWith("/dev/")) continue;
    if (e.source === want || resolve(e.source) === want) return { mount_point: e.mount_point, fs_type: e.fs_type };
  }
  return undefined;
}

/** Reads a mountinfo file at most every `maxAgeMs`; a missing file means no mounts. */
export class MountTable {
  private entries: MountEntry[] = [];
  private readAt = -Infinity;
  private real = new Map<string, string>();

  constructor(private path: string, private maxAgeMs = 500) {}

  lookup(dev: string): { mount_point: string; fs_type: string } | undefined {
    const now = performance.now();
    if (now - this.readAt > this.maxAgeMs) {
      this.readAt = now;
      this.real.clear();
      try {
        this.entries = parseMountinfo(readFileSync(this.path, "utf8"));
      } catch {
        this.entries = [];
      }
    }
    return findMount(this.entries, dev, (p) => this.resolve(p));
  }

  private resolve(p: string): string {
    let r = this.real.get(p);
    if (r === undefined) {
      try {
        r = realpathSync(p);
      } catch {
        r = p;
      }
      this.real.set(p, r);
    }
    return r;
  }
}
