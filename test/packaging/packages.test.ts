// The .deb and .rpm built by packaging/build.sh: contents, metadata, conffiles, scripts, lint.
// Slow (builds both packages with xz, ~80 s, then lintian ~10 s); `npm test -- FILE` runs other files alone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { BIN, buildPackages, DEB, ok, README, ROOT, RPM, sh, sha256File, VERSION } from "./helpers.ts";

// What both packages install (the .deb adds copyright, changelog and lintian overrides).
const COMMON_FILES = [
  "/usr/bin/storeventd",
  "/usr/lib/systemd/system/storeventd.service",
  "/etc/storeventd/storeventd.toml",
  "/usr/share/man/man8/storeventd.8.gz",
  "/usr/share/man/man5/storeventd.toml.5.gz",
  "/usr/share/bash-completion/completions/storeventd",
  "/usr/share/doc/storeventd/README.packaging.md",
  "/usr/share/doc/storeventd/examples/storeventd.toml",
  "/usr/share/doc/storeventd/examples/promoter.conf",
  "/usr/share/snmp/mibs/LINBIT-DRBD-MIB.txt",
];
const DEB_ONLY = [
  "/usr/share/doc/storeventd/copyright",
  "/usr/share/doc/storeventd/changelog.gz",
  "/usr/share/lintian/overrides/storeventd",
];
// Each plugin's sample.toml present at build time, as examples/<kind>-<name>.toml.
function sampleExamples(): string[] {
  const out: string[] = [];
  for (const kind of ["sender", "parser", "receiver"]) {
    const dir = join(ROOT, "plugins", kind);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (existsSync(join(dir, name, "sample.toml"))) out.push(`/usr/share/doc/storeventd/examples/${kind}-${name}.toml`);
    }
  }
  return out;
}
const README_CODE = new Set([...README.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));

let debRoot = "";
beforeAll(() => {
  buildPackages();
  debRoot = mkdtempSync(join(tmpdir(), "storeventd-deb-"));
  ok(["dpkg-deb", "-x", DEB, debRoot]);
}, 600_000); // both xz-compressed package builds on a busy machine
afterAll(() => {
  if (debRoot) rmSync(debRoot, { recursive: true, force: true });
});

describe("deb (slow)", () => {
  test("metadata: name, version from package.json, arch, glibc dependency, systemd-only", () => {
    const f = (field: string) => ok(["dpkg-deb", "-f", DEB, field]).trim();
    expect(f("Package")).toBe("storeventd");
    expect(f("Version")).toBe(VERSION);
    expect(f("Architecture")).toBe("amd64");
    // glibc for the binary, and a package for every library the embedded addon links: glibc only
    // (libstdc++ is static; the journal sender opens libsystemd.so.0 at its start, so it is recommended).
    const depends = f("Depends").split(/,\s*/).map((d) => d.split(" ")[0]!);
    expect(f("Depends")).toMatch(/^libc6 \(>= 2\.\d+\)/);
    const needed = [...ok(["readelf", "-d", join(import.meta.dir, "../../build/Release/storeventd.node")]).matchAll(/\(NEEDED\)\s+Shared library: \[(.+?)\]/g)].map((m) => m[1]!);
    expect(needed).toContain("libc.so.6");
    expect(needed.filter((l) => !/^(libc|libm|ld-linux-x86-64)\.so/.test(l))).toEqual([]);
    expect(f("Recommends").split(/,\s*/)).toContain("libsystemd0");
    for (const lib of needed) {
      const line = ok(["dpkg", "-S", `*/${lib}`]).split("\n").find((l) => l.includes("x86_64-linux-gnu"))!;
      const owner = line.split(":")[0]!.trim();
      expect(depends, `${lib} (${owner}) is not in Depends`).toContain(owner);
    }
    expect(f("Section")).toBe("admin");
    expect(Number(f("Installed-Size"))).toBeGreaterThan(Math.floor(Bun.file(BIN).size / 1024));
  });

  test("contents: every file with its mode and root ownership", () => {
    const listing = ok(["dpkg-deb", "-c", DEB]).trim().split("\n");
    const entries = new Map(listing.map((l) => {
      const parts = l.split(/\s+/);
      return [parts[5]!.replace(/^\./, "").replace(/\/$/, ""), { mode: parts[0]!, owner: parts[1]! }] as const;
    }));
    const readme = existsSync(join(ROOT, "README.md")) ? ["/usr/share/doc/storeventd/README.md"] : [];
    for (const p of [...COMMON_FILES, ...DEB_ONLY, ...sampleExamples(), ...readme]) expect(entries.has(p)).toBe(true);
    expect(entries.get("/usr/bin/storeventd")!.mode).toBe("-rwxr-xr-x");
    expect(entries.get("/etc/storeventd/storeventd.toml")!.mode).toBe("-rw-r--r--");
    expect(entries.get("/etc/storeventd/conf.d")!.mode).toBe("drwxr-xr-x");
    expect([...entries.values()].every((e) => e.owner === "root/root")).toBe(true);
    // Nothing under /var: systemd creates the state, runtime and log directories.
    expect([...entries.keys()].filter((p) => p.startsWith("/var"))).toEqual([]);
  });

  test("the binary is byte-identical to dist/storeventd (never stripped)", () => {
    expect(sha256File(join(debRoot, "usr/bin/storeventd"))).toBe(sha256File(BIN));
  });

  test("xz-compressed by default: data.tar.xz, well under the binary's size", () => {
    expect(ok(["ar", "t", DEB]).trim().split("\n")).toEqual(["debian-binary", "control.tar.xz", "data.tar.xz"]);
    expect(statSync(DEB).size).toBeLessThan(statSync(BIN).size * 0.4);
  });

  test("conffiles: exactly the default configuration", () => {
    const dir = mkdtempSync(join(tmpdir(), "storeventd-ctl-"));
    try {
      ok(["dpkg-deb", "-e", DEB, dir]);
      expect(readFileSync(join(dir, "conffiles"), "utf8")).toBe("/etc/storeventd/storeventd.toml\n");
      const md5 = readFileSync(join(dir, "md5sums"), "utf8");
      expect(md5).toContain("  usr/bin/storeventd\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("maintainer scripts: valid sh; enable, restart on upgrade, stop on remove, purge state", () => {
    const dir = mkdtempSync(join(tmpdir(), "storeventd-ctl-"));
    try {
      ok(["dpkg-deb", "-e", DEB, dir]);
      for (const s of ["postinst", "prerm", "postrm"]) ok(["sh", "-n", join(dir, s)]);
      const postinst = readFileSync(join(dir, "postinst"), "utf8");
      expect(postinst).toContain('deb-systemd-helper enable "$UNIT"');
      expect(postinst).toContain("action=restart");
      expect(postinst).toContain("[ -d /run/systemd/system ]"); // no systemctl when systemd is not PID 1
      expect(readFileSync(join(dir, "prerm"), "utf8")).toContain("deb-systemd-invoke stop storeventd.service");
      const postrm = readFileSync(join(dir, "postrm"), "utf8");
      expect(postrm).toContain("rm -rf /var/lib/storeventd");
      expect(postrm).toContain('deb-systemd-helper purge "$UNIT"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("man pages render without groff warnings", () => {
    for (const page of ["usr/share/man/man8/storeventd.8.gz", "usr/share/man/man5/storeventd.toml.5.gz"]) {
      const src = gunzipSync(readFileSync(join(debRoot, page))).toString();
      expect(src).toContain(`"storeventd ${VERSION}"`);
      expect(src).not.toMatch(/@[A-Z_]+@/); // every placeholder filled in
      if (page.includes("man5")) expect(src).toContain(".SH PLUGIN OPTIONS");
      const r = sh(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", join(debRoot, page)], { env: { MANWIDTH: "80" } });
      expect(r.code).toBe(0);
      expect(r.err).toBe("");
    }
  });

  test("lintian: no errors; every warning and override is justified in packaging/README.md", () => {
    const r = sh(["lintian", "--show-overrides", "--tag-display-limit", "0", DEB]);
    const lines = r.out.split("\n").filter((l) => /^[EWO]: /.test(l));
    expect(lines.filter((l) => l.startsWith("E: "))).toEqual([]);
    const tags = new Set(lines.map((l) => l.split(" ")[2]!));
    expect(tags.size).toBeGreaterThan(0); // the overrides at least (unstripped binary)
    for (const t of tags) expect(README_CODE.has(t) ? t : `${t} (not in README)`).toBe(t);
  }, 120_000);
});

describe("rpm (slow)", () => {
  const q = (fmt: string) => ok(["rpm", "-qp", "--qf", fmt, RPM]);

  test("metadata: name, version, release, arch, license, requirements", () => {
    expect(q("%{NAME} %{VERSION} %{RELEASE} %{ARCH}")).toBe(`storeventd ${VERSION} 1 x86_64`);
    expect(q("%{LICENSE}")).toBe("GPL-2.0-or-later");
    const req = ok(["rpm", "-qpR", RPM]);
    expect(req).toContain("glibc >= 2.17");
    // The addon links glibc only (see the deb's test): no libstdc++ or libsystemd requirement.
    expect(req).not.toContain("libstdc++");
    expect(req).not.toContain("libsystemd");
  });

  test("contents match the deb's (minus Debian-only files), the config is %config(noreplace)", () => {
    const files = ok(["rpm", "-qlp", RPM]).trim().split("\n");
    for (const p of [...COMMON_FILES, ...sampleExamples(), "/etc/storeventd/conf.d"]) expect(files).toContain(p);
    for (const p of DEB_ONLY) expect(files).not.toContain(p);
    expect(ok(["rpm", "-qpc", RPM]).trim()).toBe("/etc/storeventd/storeventd.toml");
    // FILEFLAGS: c = %config, n = noreplace
    const flags = q("[%{FILEFLAGS:fflags} %{FILENAMES}\n]").split("\n").find((l) => l.endsWith("/storeventd.toml") && l.includes("/etc/"));
    expect(flags?.split(" ")[0]).toBe("cn");
  });

  test("xz payload by default, well under the binary's size", () => {
    expect(ok(["rpm", "-qp", "--qf", "%{PAYLOADCOMPRESSOR}", RPM])).toBe("xz");
    expect(statSync(RPM).size).toBeLessThan(statSync(BIN).size * 0.4);
  });

  test("the binary is byte-identical to dist/storeventd (no strip, no debuginfo)", () => {
    const dir = mkdtempSync(join(tmpdir(), "storeventd-rpm-"));
    try {
      ok(["sh", "-c", `rpm2cpio '${RPM}' | cpio -idm --quiet ./usr/bin/storeventd`], { cwd: dir });
      expect(sha256File(join(dir, "usr/bin/storeventd"))).toBe(sha256File(BIN));
      expect(ok(["rpm", "-qlp", RPM])).not.toContain("/usr/lib/.build-id");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("scriptlets: preset on install, disable+stop on erase, restart on upgrade", () => {
    const s = ok(["rpm", "-qp", "--scripts", RPM]);
    expect(s).toContain("systemctl --no-reload preset storeventd.service");
    expect(s).toContain("systemctl --no-reload disable --now storeventd.service");
    expect(s).toContain("systemctl try-restart storeventd.service");
    // every scriptlet is valid sh
    for (const tag of ["POSTIN", "PREUN", "POSTUN"]) ok(["sh", "-n"], { stdin: q(`%{${tag}}`) });
  });

  test("rpmlint: no errors; every warning is justified in packaging/README.md", () => {
    const r = sh(["rpmlint", "-c", "packaging/rpm/rpmlint.toml", RPM]);
    const lines = r.out.split("\n").filter((l) => /^storeventd\.x86_64: [EW]: /.test(l));
    expect(lines.filter((l) => l.includes(": E: "))).toEqual([]);
    for (const t of new Set(lines.map((l) => l.split(" ")[2]!))) expect(README_CODE.has(t) ? t : `${t} (not in README)`).toBe(t);
    expect(r.out).toMatch(/0 errors/);
  });
});

describe("unit file (slow)", () => {
  test("systemd-analyze security: the exposure score stated in packaging/README.md", () => {
    const r = sh(["systemd-analyze", "security", "--offline=true", "--no-pager", join(ROOT, "packaging/storeventd.service")]);
    const score = Number(/Overall exposure level for storeventd\.service: ([\d.]+)/.exec(r.out)?.[1]);
    const stated = Number(/exposure score: \*\*([\d.]+)\*\*/.exec(README)?.[1]);
    expect(score).toBe(stated);
    expect(score).toBeLessThanOrEqual(3);
    // every remaining exposure is explained in the README
    const exposed = r.out.split("\n").filter((l) => l.startsWith("✗")).map((l) => l.split(/\s+/)[1]!);
    expect(exposed.length).toBeGreaterThan(0);
    for (const e of exposed) expect(README_CODE.has(e) ? e : `${e} (not in README)`).toBe(e);
  });
});
