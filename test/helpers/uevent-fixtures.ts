// The recorded uevent captures of the plugins' fixtures (udev sender, dm parser): each folder's
// input.uevent, raw NUL-separated netlink messages or `udevadm monitor` text.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const DIRS = ["../../plugins/sender/udev/testdata", "../../plugins/parser/dm/testdata"].map((d) => join(import.meta.dir, d));

export function ueventCaptures(opts: { rawOnly?: boolean } = {}): { name: string; data: Buffer }[] {
  const out: { name: string; data: Buffer }[] = [];
  for (const dir of DIRS) {
    for (const name of readdirSync(dir)) {
      const file = join(dir, name, "input.uevent");
      if (!existsSync(file)) continue;
      const data = readFileSync(file);
      if (opts.rawOnly && data.indexOf(0) < 0) continue; // udevadm text, not packed records
      out.push({ name: `${dir.split("/").at(-2)}/${name}`, data });
    }
  }
  return out;
}
