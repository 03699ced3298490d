// Mounts by device for the inventory: read once at the start-up scan, then re-read asynchronously
// (never on the event path) when a lookup finds the table older than a moment.
import * as nodeFs from "node:fs";
import { basename } from "node:path";

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
  promises: { readFile(path: string, enc: "utf8"): Promise<string>; realpath(path: string): Promise<string> };
}

export const NODE_FS: InventoryFs = nodeFs as unknown as InventoryFs;

const MAJMIN = /^\d+:\d+$/;
/** A table younger than this is not re-read (mount(8) and the kernel's "mounted" line race anyway). */
const FRESH_MS = 200;

/** Undoes the kernel's octal escapes in mountinfo fields (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMount(s: string): string {
  return s.includes("\\") ? s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) : s;
}

export interface MountEntry {
  majmin: string;
  mount_point: string;
  fs_type: string;
  /** The mount source ("/dev/sda1", "tmpfs"); "" when the line has none. */
  source: string;
}

/** The one mountinfo parser (proc(5)): "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw"
 * -> one entry per line; lines without the "-" separator or with too few fields are skipped. */
export function mountinfoEntries(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const dash = f.indexOf("-", 6);
    if (f.length < 10 || dash < 0) continue;
    out.push({ majmin: f[2]!, mount_point: unescapeMount(f[4]!), fs_type: f[dash + 1] ?? "", source: unescapeMount(f[dash + 2] ?? "") });
  }
  return out;
}

/**
 * Parses /proc/self/mountinfo into mounts by key: "major:minor" of the mounted device, and
 * "src:NAME" for a /dev/... mount source (btrfs reports an anonymous 0:N device number; a
 * /dev/mapper/x source is resolved to its dm-N through `realpath`).
 */
export function parseMountinfo(text: string, realpath: (p: string) => string = (p) => p): Map<string, Mount[]> {
  const out = new Map<string, Mount[]>();
  const add = (key: string, m: Mount) => {
    const arr = out.get(key) ?? [];
    if (!arr.some((x) => x.mount_point === m.mount_point)) arr.push(m);
    out.set(key, arr);
  };
  for (const e of mountinfoEntries(text)) {
    if (!MAJMIN.test(e.majmin)) continue;
    const m = { mount_point: e.mount_point, fs_type: e.fs_type };
    add(e.majmin, m);
    if (e.source.startsWith("/dev/")) add(`src:${basename(realpath(e.source))}`, m);
  }
  return out;
}

/** The /dev sources of a mountinfo text (what parseMountinfo resolves). */
function devSources(text: string): string[] {
  return [...new Set(mountinfoEntries(text).map((e) => e.source).filter((s) => s.startsWith("/dev/")))];
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
    this.map = parseMountinfo(text, real);
    this.at = performance.now();
  }

  /** Re-reads the table off the event path; lookups see the new one when it lands. */
  reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const text = await this.fs.promises.readFile(this.path, "utf8");
        const real = new Map<string, string>();
        await Promise.all(devSources(text).map(async (s) => real.set(s, await this.fs.promises.realpath(s).catch(() => s))));
        this.map = parseMountinfo(text, (p) => real.get(p) ?? p);
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
