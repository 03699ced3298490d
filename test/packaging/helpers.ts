// Shared by the packaging tests: builds the packages once per test process and runs commands.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");
export const DIST = join(ROOT, "dist");
export const BIN = join(DIST, "storeventd");
export const VERSION: string = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
export const DEB = join(DIST, `storeventd_${VERSION}_amd64.deb`);
export const RPM = join(DIST, `storeventd-${VERSION}-1.x86_64.rpm`);
export const README = readFileSync(join(ROOT, "packaging/README.md"), "utf8");

export interface Run { code: number; out: string; err: string }

export function sh(cmd: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; stdin?: string } = {}): Run {
  const r = Bun.spawnSync(cmd, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env } as Record<string, string>,
    stdin: opts.stdin === undefined ? "ignore" : Buffer.from(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** Like sh() but throws with the output when the command fails. */
export function ok(cmd: string[], opts: Parameters<typeof sh>[1] = {}): string {
  const r = sh(cmd, opts);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} -> ${r.code}\n${r.out}\n${r.err}`);
  return r.out;
}

let built: { ms: number } | undefined;
/** Runs packaging/build.sh once per test process (about 80 s for both formats with xz). */
export function buildPackages(): { ms: number } {
  if (built) return built;
  const t0 = performance.now();
  ok(["bash", "packaging/build.sh"]);
  built = { ms: performance.now() - t0 };
  return built;
}

export function sha256File(path: string): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(readFileSync(path));
  return h.digest("hex");
}

/** dpkg takes a lock other apt runs on this machine may hold: retry for up to two minutes. */
export function dpkg(args: string[]): Run {
  let r: Run = { code: -1, out: "", err: "" };
  for (let i = 0; i < 120; i++) {
    r = sh(["dpkg", ...args], { env: { DEBIAN_FRONTEND: "noninteractive" } });
    if (r.code === 0 || !/lock/i.test(r.err)) return r;
    Bun.sleepSync(1000);
  }
  return r;
}
