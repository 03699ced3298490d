// Small JSON state files of senders (read cursors): written whole or not at all (temp file, then
// rename), read back as undefined when missing or unreadable.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export function writeStateFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value) + "\n", { mode: 0o640 });
  renameSync(tmp, path);
}

/** The parsed file, or undefined when it is missing or not JSON. */
export function readStateFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}
