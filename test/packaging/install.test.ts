// Installs the .deb on this machine (PID 1 is not systemd here), runs the installed binary,
// then removes and purges it and checks the machine is as before. Slow (builds the packages).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildPackages, DEB, dpkg, ok, sh, VERSION } from "./helpers.ts";

const WANTS = "/etc/systemd/system/multi-user.target.wants/storeventd.service";
const MASK = "/etc/systemd/system/storeventd.service";
const CONF = "/etc/storeventd/storeventd.toml";

// What the package or its scripts may leave outside its own file list (only storeventd's
// entries: other work on this machine may change the rest of /etc/systemd meanwhile).
function snapshot(): string {
  return sh(["sh", "-c", "find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked /etc/storeventd /var/log/storeventd -name '*storeventd*' 2>/dev/null | sort"]).out;
}
const installed = () => sh(["dpkg-query", "-W", "-f", "${Status}", "storeventd"]).out;

let before = "";
let ownInstall = false;
beforeAll(() => {
  buildPackages();
  if (installed().includes("installed")) throw new Error("storeventd is already installed on this machine; not touching it");
  before = snapshot();
}, 300_000); // a package build on a busy machine
afterAll(() => {
  if (ownInstall && installed() !== "") dpkg(["--purge", "storeventd"]); // restore the machine
});

describe("dpkg -i on this machine (slow)", () => {
  test("installs without systemd as PID 1 and enables the unit per Debian policy", () => {
    ownInstall = true;
    const r = dpkg(["-i", DEB]);
    // deb-systemd-helper reports the symlink it made on stderr (as with debhelper's scripts).
    expect(r.err.replace(/^.*(lock|debconf).*\n/gm, "")).toBe(`Created symlink ${WANTS} → /lib/systemd/system/storeventd.service.\n`);
    expect(r.code).toBe(0);
    expect(installed()).toBe("install ok installed");
    expect(readlinkSync(WANTS)).toBe("/lib/systemd/system/storeventd.service");
  });

  test("/usr/bin/storeventd version: the package version with the addon loaded", () => {
    const out = ok(["/usr/bin/storeventd", "version"]);
    expect(out).toContain(`storeventd ${VERSION}`);
    expect(out).toMatch(/^addon: loaded \(/m);
  });

  test("drbd-reactorctl (drbd-reactor is not installed here) is a link to storeventd acting as ctl", () => {
    expect(readlinkSync("/usr/sbin/drbd-reactorctl")).toBe("/usr/bin/storeventd");
    const r = sh(["/usr/sbin/drbd-reactorctl", "evict", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toStartWith("Usage: drbd-reactorctl evict ");
  });

  test("/usr/bin/storeventd check accepts the shipped configuration", () => {
    const r = sh(["/usr/bin/storeventd", "check"]);
    expect(r.err + r.out).not.toMatch(/error/i);
    expect(r.code).toBe(0);
  });

  test("every shipped example configuration passes storeventd check, but for host files it names", () => {
    const dir = "/usr/share/doc/storeventd/examples";
    const tomls = readdirSync(dir).filter((f) => f.endsWith(".toml"));
    expect(tomls.length).toBeGreaterThan(1);
    let clean = 0;
    for (const f of tomls) {
      const r = sh(["/usr/bin/storeventd", "check", "-c", join(dir, f)]);
      if (r.code === 0) clean++;
      // check also opens the files a sample points at (SMTP password, NATS credentials, a
      // script): those do not exist here, anything else is a broken example
      const lines = (r.err + r.out).split("\n").filter(Boolean);
      const other = r.code === 0 ? [] : lines.filter((l) => !/ENOENT|is not an executable file/.test(l));
      expect(r.code === 0 || (r.code === 2 && lines.length > 0) ? other : [`${f}: exit ${r.code}`]).toEqual([]);
    }
    expect(clean).toBeGreaterThan(tomls.length / 2);
  });

  test("the installed unit passes systemd-analyze verify, man pages included", () => {
    const r = sh(["systemd-analyze", "verify", "/usr/lib/systemd/system/storeventd.service"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(ok(["man", "-w", "8", "storeventd"]).trim()).toBe("/usr/share/man/man8/storeventd.8.gz");
    expect(ok(["man", "-w", "5", "storeventd.toml"]).trim()).toBe("/usr/share/man/man5/storeventd.toml.5.gz");
  });

  test("bash completion completes commands and option values", () => {
    const complete = (line: string) => {
      const script = `source /usr/share/bash-completion/bash_completion
source /usr/share/bash-completion/completions/storeventd
COMP_LINE=${JSON.stringify(line)}; COMP_POINT=\${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"; [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
_storeventd storeventd "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`;
      return ok(["bash", "-c", script]).trim().split("\n").sort();
    };
    expect(complete("storeventd ch")).toEqual(["check"]);
    expect(complete("storeventd monitor --severity w")).toEqual(["warn"]);
    expect(complete("storeventd replay --e")).toEqual(["--events2"]);
    expect(complete("storeventd promoter ev")).toEqual(["evict"]);
    expect(complete("storeventd ctl ev")).toEqual(["evict"]);
    expect(complete("storeventd ctl evict --keep")).toEqual(["--keep-masked"]);
    expect(complete("storeventd -c /etc/storeventd/storeventd.toml che")).toEqual(["check"]);
  });

  test("reinstalling keeps a locally changed conffile", () => {
    const changed = readFileSync(CONF, "utf8").replace('dedup_window = "5s"', 'dedup_window = "7s"');
    writeFileSync(CONF, changed);
    const r = dpkg(["-i", "--force-confold", DEB]);
    expect(r.code).toBe(0);
    expect(readFileSync(CONF, "utf8")).toBe(changed);
  });

  test("remove: binary gone, configuration kept, unit masked", () => {
    mkdirSync("/var/lib/storeventd/tmp", { recursive: true }); // what the daemon would have made
    writeFileSync("/var/lib/storeventd/cursor", "1");
    const r = dpkg(["--remove", "storeventd"]);
    expect(r.code).toBe(0);
    expect(existsSync("/usr/bin/storeventd")).toBe(false);
    expect(() => lstatSync("/usr/sbin/drbd-reactorctl")).toThrow();
    expect(existsSync(CONF)).toBe(true);
    expect(readlinkSync(MASK)).toBe("/dev/null");
    expect(existsSync("/var/lib/storeventd/cursor")).toBe(true);
  });

  test("purge: configuration, state, enablement and mask gone; the machine is as before", () => {
    const r = dpkg(["--purge", "storeventd"]);
    expect(r.code).toBe(0);
    expect(installed()).toBe("");
    for (const p of [CONF, "/etc/storeventd", "/var/lib/storeventd", WANTS]) expect(existsSync(p)).toBe(false);
    expect(() => lstatSync(MASK)).toThrow();
    expect(snapshot()).toBe(before);
  });
});
