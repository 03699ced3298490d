// Version and commit: replaced at compile time by src/tools/build.ts (--define), read from
// package.json/git when running from source.
declare const STOREVENTD_VERSION: string | undefined;
declare const STOREVENTD_COMMIT: string | undefined;

function fromSource(): { version: string; commit: string } {
  try {
    const pkg = require("../package.json") as { version: string };
    const r = Bun.spawnSync(["git", "-C", import.meta.dir, "rev-parse", "--short=12", "HEAD"], { stderr: "ignore" });
    return { version: pkg.version, commit: r.success ? r.stdout.toString().trim() + "-src" : "source" };
  } catch {
    return { version: "0.0.0", commit: "unknown" };
  }
}

export const BUILD: { version: string; commit: string; compiled: boolean } =
  typeof STOREVENTD_VERSION === "string"
    ? { version: STOREVENTD_VERSION, commit: typeof STOREVENTD_COMMIT === "string" ? STOREVENTD_COMMIT : "unknown", compiled: true }
    : { ...fromSource(), compiled: false };
