// Sysctls shared by test processes that run at the same time (engineers run several suites on one
// machine). A plain save/set/restore per test breaks when two overlap: the second saves the first's
// temporary value and restores it last, so "on" stays on. Here the first holder of a key records the
// value it found, later holders only register, and the last one to leave restores that value.
// Holders whose process died are dropped, so a killed run does not pin a value for ever.
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const DIR = process.env.STOREVENTD_SYSCTL_DIR ?? "/run/storeventd-tests";
const STATE = join(DIR, "sysctl.json");
const LOCK = join(DIR, "sysctl.lock");

type State = Record<string, { found: string; holders: string[] }>;

const path = (k: string) => `/proc/sys/${k.replace(/\./g, "/")}`;
const read = (k: string) => readFileSync(path(k), "utf8").trim().replace(/\s+/g, " ");
let seq = 0;

function alive(holder: string): boolean {
  try {
    process.kill(Number(holder.split(":")[0]), 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs f under a cross-process lock (mkdir is atomic); a lock older than 10 s is a dead holder's. */
function locked<T>(f: (s: State) => T): T {
  mkdirSync(DIR, { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 10_000) rmdirSync(LOCK);
      } catch {}
      Bun.sleepSync(2);
    }
  }
  try {
    const s: State = existsSync(STATE) ? JSON.parse(readFileSync(STATE, "utf8") || "{}") : {};
    for (const [k, e] of Object.entries(s)) {
      e.holders = e.holders.filter(alive);
      if (!e.holders.length) {
        writeFileSync(path(k), e.found + "\n"); // its holders died without restoring it
        delete s[k];
      }
    }
    const r = f(s);
    writeFileSync(STATE, JSON.stringify(s));
    return r;
  } finally {
    rmdirSync(LOCK);
  }
}

/** Sets the sysctls (e.g. "kernel.printk_devkmsg": "on"); the returned function gives them back. */
export function acquireSysctls(values: Record<string, string>): () => void {
  const me = `${process.pid}:${++seq}`;
  locked((s) => {
    for (const [k, v] of Object.entries(values)) {
      (s[k] ??= { found: read(k), holders: [] }).holders.push(me);
      writeFileSync(path(k), v + "\n"); // the kernel wants the newline
    }
  });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    locked((s) => {
      for (const k of Object.keys(values)) {
        const e = s[k];
        if (!e) continue;
        e.holders = e.holders.filter((h) => h !== me);
        if (e.holders.length) continue;
        writeFileSync(path(k), e.found + "\n");
        delete s[k];
      }
    });
  };
}

/** Sets sysctls for the duration of body, giving them back even when body throws. */
export async function withSysctls<T>(values: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const release = acquireSysctls(values);
  try {
    return await body();
  } finally {
    release();
  }
}
