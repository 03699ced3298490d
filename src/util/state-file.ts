// Small JSON state files of senders (read cursors): written whole or not at all (temp file, then
// rename), read back as undefined when missing or unreadable; and the two options every cursor has.
// StateFileWriter writes them off the event loop (a cursor saved every second while records flow
// must not block the loop that reads them).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { fsPromisesLib } from "./lazy-builtins.ts";
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

/**
 * One state file written asynchronously: one write in flight at most, then the newest value saved
 * meanwhile (older ones are skipped). flushSync() writes the newest value at once unless it is on
 * disk already (stop), and, when an older write is still in flight, queues it again behind that
 * one, so the file ends with the newest (should the process end first, with the older: for a
 * cursor, records read again, never records skipped). done() reports each write and its error.
 */
export class StateFileWriter {
  /** The newest value saved, until it is on disk. */
  private latest: { value: unknown } | undefined;
  private next: { value: unknown } | undefined;
  private busy = false;

  constructor(readonly path: string, private done: (value: unknown, error?: Error) => void = () => {}) {}

  save(value: unknown): void {
    this.latest = this.next = { value };
    if (!this.busy) void this.drain();
  }

  /** True while a write is in flight or waiting. */
  get pending(): boolean {
    return this.busy || this.next !== undefined;
  }

  private async drain(): Promise<void> {
    this.busy = true;
    while (this.next) {
      const entry = this.next;
      this.next = undefined;
      try {
        const { mkdir, rename, writeFile } = fsPromisesLib();
        await mkdir(dirname(this.path), { recursive: true });
        const tmp = `${this.path}.tmp-async`; // not writeStateFile's: flushSync() may run meanwhile
        await writeFile(tmp, JSON.stringify(entry.value) + "\n", { mode: 0o640 });
        await rename(tmp, this.path);
        if (this.latest === entry) this.latest = undefined;
        this.done(entry.value);
      } catch (e) {
        this.done(entry.value, e as Error);
      }
    }
    this.busy = false;
  }

  flushSync(): void {
    const entry = this.latest;
    if (!entry) return;
    this.latest = undefined;
    if (this.busy) this.next = entry; // again after the older write in flight
    try {
      writeStateFile(this.path, entry.value);
      this.done(entry.value);
    } catch (e) {
      this.done(entry.value, e as Error);
    }
  }
}
