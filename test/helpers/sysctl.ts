// Sysctls shared by test processes that run at the same time (engineers run several suites on one
// machine). A plain save/set/restore per test breaks when two overlap: the second saves the first's
// temporary value and restores it last, so "on" stays on. Here the first holder of a key records the
// value it found, later holders only register, and the last one to leave restores that value.
// Holders whose process died are dropped, so a killed run does not pin a value for ever.
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// Both overridable for the helper's own test, which must not touch the real values others hold.
const dir = () => process.env.STOREVENTD_SYSCTL_DIR ?? "/run/storeventd-tests";
const procSys = () => process.env.STOREVENTD_PROC_SYS ?? "/proc/sys";

type State = Record<string, { found: string; value: string; holders: string[] }>;

const path = (k: string) => join(procSys(), k.replace(/\./g, "/"));
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
  const DIR = dir();
  const STATE = join(DIR, "sysctl.json");
  const LOCK = join(DIR, "sysctl.lock");
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
      // Two runs wanting different values at once cannot both be right: say so instead of flapping.
      if (s[k] && s[k].value !== v) throw new Error(`sysctl ${k}: another test run holds it at "${s[k].value}", this one wants "${v}"`);
    }
    for (const [k, v] of Object.entries(values)) {
      (s[k] ??= { found: read(k), value: v, holders: [] }).holders.push(me);
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
