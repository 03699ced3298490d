// The .rpm installed with rpm itself into a throwaway root (an overlay on the cached Debian base
// root, so the scriptlets have a /bin/sh to run in): install, verify, %config(noreplace) across
// an upgrade, erase. No rpm-based distribution is available here, hence --nodeps (glibc is not
// in that rpm database). Slow (builds the packages; the base root may need debootstrapping).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildPackages, ok, ROOT, RPM, sh, VERSION } from "./helpers.ts";

const CACHE = "/var/tmp/storeventd-cluster";
let work = "";
let root = "";
let mounted = false;
const rpm = (...args: string[]) => sh(["rpm", `--root=${root}`, ...args]);
const CONF = () => join(root, "etc/storeventd/storeventd.toml");

beforeAll(() => {
  buildPackages();
  ok(["bash", join(ROOT, "test/cluster/base.sh")]);
  work = mkdtempSync(join(CACHE, "rpmtest-"));
  root = join(work, "merged");
  for (const d of ["upper", "work", "merged"]) mkdirSync(join(work, d));
  ok(["mount", "-t", "overlay", "ov-rpmtest", "-o", `lowerdir=${CACHE}/root,upperdir=${work}/upper,workdir=${work}/work`, root]);
  mounted = true;
}, 300_000);
afterAll(() => {
  if (mounted) sh(["umount", root]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("rpm -i / -U / -e into a scratch root (slow)", () => {
  test("installs; rpm -V finds every file as packaged; scriptlets succeed without systemd", () => {
    const r = rpm("-i", "--nodeps", RPM);
    // Debian's rpm wrapper warns that it is not the system's package manager; nothing else.
    expect(r.err.replace(/^rpm: (RPM should not be used|However assuming).*\n/gm, "")).toBe("");
    expect(r.code).toBe(0);
    expect(rpm("-q", "storeventd").out.trim()).toBe(`storeventd-${VERSION}-1.x86_64`);
    const verify = rpm("-V", "--nodeps", "storeventd");
    expect(verify.out).toBe("");
    expect(verify.code).toBe(0);
    expect(existsSync(join(root, "usr/bin/storeventd"))).toBe(true);
  });

  test("upgrade keeps a changed %config(noreplace) file in place", () => {
    const out = mkdtempSync(join(work, "up-"));
    ok(["bash", "packaging/build.sh"], { env: { PKG_FORMATS: "rpm", PKG_COMPRESS: "none", PKG_VERSION: `${VERSION}+up1`, PKG_OUTDIR: out } });
    const changed = readFileSync(CONF(), "utf8") + "\n# local change\n";
    writeFileSync(CONF(), changed);
    const r = rpm("-U", "--nodeps", join(out, `storeventd-${VERSION}+up1-1.x86_64.rpm`));
    expect(r.code).toBe(0);
    expect(rpm("-q", "storeventd").out.trim()).toBe(`storeventd-${VERSION}+up1-1.x86_64`);
    expect(readFileSync(CONF(), "utf8")).toBe(changed);
    // the packaged file did not change between the versions, so there is no .rpmnew either
    expect(existsSync(CONF() + ".rpmnew")).toBe(false);
    // rpm -V reports exactly the locally changed config (S size, 5 digest, T mtime; c = config)
    expect(rpm("-V", "--nodeps", "storeventd").out.trim()).toMatch(/^S\.5\.\.\.\.T\.\s+c \/etc\/storeventd\/storeventd\.toml$/);
  }, 60_000);

  test("erase removes the files and saves the changed config as .rpmsave", () => {
    const r = rpm("-e", "--nodeps", "storeventd");
    expect(r.code).toBe(0);
    expect(rpm("-q", "storeventd").code).not.toBe(0);
    for (const p of ["usr/bin/storeventd", "usr/lib/systemd/system/storeventd.service", "usr/share/man/man8/storeventd.8.gz"]) {
      expect(existsSync(join(root, p))).toBe(false);
    }
    expect(readFileSync(CONF() + ".rpmsave", "utf8")).toContain("# local change");
  });
});
