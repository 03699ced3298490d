// Mounts by device for the inventory: read once at the start-up scan, then re-read asynchronously
// (never on the event path) when a lookup finds the table older than a moment.
import * as nodeFs from "node:fs";
import { basename } from "node:path";
import { parseMountinfo } from "../util/mountinfo.ts";

export interface Mount {
  mount_point: string;
  fs_type: string;
}

/** The file-system calls the inventory makes; tests inject a stub to prove lookups make none. */
export interface InventoryFs {
  readFileSync(path: string, enc: "utf8"): string;
  readdirSync(path: string): string[];
  readlinkSync(path: string): string;
  realpathSync(path: string): string;
  existsSync(path: string): boolean;
  promises: {
    readFile(path: string, enc: "utf8"): Promise<string>;
    realpath(path: string): Promise<string>;
    readdir(path: string): Promise<string[]>;
    access(path: string): Promise<void>;
  };
}

export const NODE_FS: InventoryFs = nodeFs as unknown as InventoryFs;

/** A table younger than this is not re-read (mount(8) and the kernel's "mounted" line race anyway). */
const FRESH_MS = 200;

/**
 * Indexes /proc/self/mountinfo (the one parser, src/util/mountinfo.ts) by device: "major:minor" of
 * the mounted device, and "src:NAME" for a /dev/... mount source (btrfs reports an anonymous 0:N
 * device number; a /dev/mapper/x source is resolved to its dm-N through `realpath`).
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

/** The /dev sources of a mountinfo text (what mountsByDevice resolves). */
function devSources(text: string): string[] {
  return [...new Set(parseMountinfo(text).map((e) => e.source).filter((s) => s.startsWith("/dev/")))];
}

export class MountTable {
  private map = new Map<string, Mount[]>();
  private at = -Infinity;
  private loading: Promise<void> | undefined;

  /** offline: stays empty (replay of another host's records). */
  constructor(private path: string, private fs: InventoryFs, private offline = false) {}

  /** The start-up scan: synchronous, once. */
  loadSync(): void {
    if (this.offline) return;
    let text = "";
    try {
      text = this.fs.readFileSync(this.path, "utf8");
    } catch {}
    const real = (p: string) => {
      try {
        return this.fs.realpathSync(p);
      } catch {
        return p;
      }
    };
    this.map = mountsByDevice(text, real);
    this.at = performance.now();
  }

  /** Re-reads the table off the event path; lookups see the new one when it lands. */
  reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const text = await this.fs.promises.readFile(this.path, "utf8");
        const real = new Map<string, string>();
        await Promise.all(devSources(text).map(async (s) => real.set(s, await this.fs.promises.realpath(s).catch(() => s))));
        this.map = mountsByDevice(text, (p) => real.get(p) ?? p);
      } catch {
        // unreadable: keep the last table
      }
      this.at = performance.now();
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Mounts under key ("major:minor" or "src:NAME") from memory; schedules a re-read when stale. */
  get(key: string): Mount[] {
    if (!this.offline && performance.now() - this.at > FRESH_MS) void this.reload();
    return this.map.get(key) ?? [];
  }
}
