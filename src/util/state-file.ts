// Small JSON state files of senders (read cursors): written whole or not at all (temp file, then
// rename), read back as undefined when missing or unreadable; and the two options every cursor has.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import * as v from "valibot";
import { Duration } from "../config/schema.ts";

/** A sender's cursor options: `cursor_file` ("" = <state_dir>/`fileName`) and `cursor_interval`.
 * `what` says what the cursor holds, for the option's doc. */
export function cursorOptions(fileName: string, what: string) {
  return {
    cursor_file: v.pipe(v.optional(v.string(), ""), v.description(`Where ${what} is kept; "" means <state_dir>/${fileName}.`)),
    cursor_interval: v.pipe(v.optional(Duration, "1s"), v.description("The cursor is written (atomically) at most this often, and at shutdown.")),
  };
}

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
