// Mount points of block devices from /proc/self/mountinfo (proc(5)): the fallback when the device
// directory has no mountOf(). The parser is the core's (plugin API); MountTable adds a short-lived
// cache and realpath.
import { readFileSync, realpathSync } from "node:fs";
import { parseMountinfo, type MountEntry } from "../../../src/plugin-api.ts";

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
