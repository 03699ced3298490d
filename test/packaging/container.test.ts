// The .deb under a real systemd: a Debian bookworm container (systemd-nspawn, systemd 252 as
// PID 1) from test/cluster/. Slow: first run builds the cached base root (~1-2 min), then a boot
// takes ~1 s and the whole file ~15 s.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildPackages, DEB, ok, ROOT, sh, VERSION } from "./helpers.ts";

// Two clusters per run, "pk<id>c" and "pk<id>i" (the baked image): never the same name, so the
// image's boot can never meet the first cluster's running container on one overlay.
const ID = Math.random().toString(36).slice(2, 5).replace(/[^a-z0-9]/g, "x").padEnd(3, "x");
const CLUSTER = `pk${ID}c`;
const CACHE = "/var/tmp/storeventd-cluster";
const NODE = join(CACHE, CLUSTER, "n1");
const ENV = {
  CLUSTER,
  ALL_NODES: "n1",
  // nspawn gives a container no /dev/kmsg and drops CAP_SYSLOG; the kmsg sender needs both.
  NSPAWN_ARGS: "--bind-ro=/dev/kmsg --capability=CAP_SYSLOG",
};
let leader = "";
const inNode = (cmd: string[]) => sh(["nsenter", "-t", leader, "-a", ...cmd]);
const show = (...props: string[]): Record<string, string> => {
  const out = inNode(["systemctl", "show", ...props.map((p) => `-p${p}`), "storeventd.service"]).out;
  return Object.fromEntries(out.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
};
async function waitFor(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}
/** Whether `dir` is writable as the daemon sees it (its mount namespace: ProtectSystem= & co.). */
function writableForDaemon(pid: string, dir: string): boolean {
  const probe = `${dir}/.storeventd-probe-${process.pid}`;
  const r = inNode(["nsenter", "-t", pid, "-m", "sh", "-c", `touch ${probe} && rm ${probe}`]);
  if (r.code !== 0 && !/Read-only file system/.test(r.err)) throw new Error(`probe ${dir}: ${r.err}`);
  return r.code === 0;
}
function journal(): Array<Record<string, string>> {
  return inNode(["journalctl", "-u", "storeventd", "-o", "json", "--no-pager"]).out.trim().split("\n")
    .filter(Boolean).map((l) => JSON.parse(l));
}

beforeAll(() => {
  buildPackages();
  const up = sh(["bash", join(ROOT, "test/cluster/cluster-up.sh")], { env: ENV });
  if (up.code !== 0) throw new Error(`cluster-up failed:\n${up.out}\n${up.err}`);
  leader = readFileSync(join(NODE, "leader.pid"), "utf8").trim();
}, 300_000);
afterAll(() => {
  sh(["bash", join(ROOT, "test/cluster/cluster-down.sh")], { env: { CLUSTER, KEEP_STATE: "0" } });
}, 60_000);

describe("storeventd.service under systemd in a container (slow)", () => {
  let mainPid = "";

  test("dpkg -i enables and starts it; Type=notify reaches active only after READY=1", async () => {
    copyFileSync(DEB, join(NODE, "merged/root/storeventd.deb")); // not /tmp: a tmpfs inside
    const r = inNode(["dpkg", "-i", "/root/storeventd.deb"]);
    expect(r.code).toBe(0);
    expect(inNode(["systemctl", "is-enabled", "storeventd"]).out.trim()).toBe("enabled");
    await waitFor("active", () => show("ActiveState").ActiveState !== "activating");
    const s = show("Type", "ActiveState", "SubState", "NRestarts", "MainPID", "NotifyAccess");
    expect(s).toMatchObject({ Type: "notify", ActiveState: "active", SubState: "running", NRestarts: "0", NotifyAccess: "main" });
    mainPid = s.MainPID!;
    expect(Number(mainPid)).toBeGreaterThan(1);
  });

  test("systemctl start after stop: active with READY, a status text, logs in the container's journal", async () => {
    inNode(["systemctl", "stop", "storeventd"]);
    const t0 = performance.now();
    const r = inNode(["systemctl", "start", "storeventd"]); // returns when READY=1 arrived
    const startMs = performance.now() - t0;
    expect(r.code).toBe(0);
    const s = show("ActiveState", "SubState", "MainPID", "StatusText", "ExecMainStartTimestampMonotonic");
    expect(s.ActiveState).toBe("active");
    mainPid = s.MainPID!;
    expect(s.StatusText).not.toBe(""); // STATUS= from the daemon
    console.log(`systemctl start -> active in ${startMs.toFixed(0)} ms; status "${s.StatusText}"`);
    const entries = journal().filter((e) => e._PID === mainPid);
    expect(entries.length).toBeGreaterThan(0); // the daemon's own lines, captured by journald
    expect(entries.every((e) => e._SYSTEMD_UNIT === "storeventd.service")).toBe(true);
    // the addon loaded inside the sandbox (BUN_TMPDIR is exec-capable): no fallback warning
    expect(entries.map((e) => e.MESSAGE).join("\n")).not.toContain("BUN_TMPDIR");
    // the shipped config's journald receiver wrote the DAEMON_STARTED event over the journal's
    // native socket (AF_UNIX datagrams through the addon, under ProtectSystem=strict)
    let started: Record<string, string> | undefined;
    await waitFor("DAEMON_STARTED in the journal", () => {
      const out = inNode(["journalctl", "-o", "json", "--no-pager", "STOREVENTD_EVENT_TYPE=DAEMON_STARTED", `_PID=${mainPid}`]).out;
      started = out.trim() ? JSON.parse(out.trim().split("\n")[0]!) : undefined;
      return started !== undefined;
    }, 10_000);
    expect(started).toMatchObject({ SYSLOG_IDENTIFIER: "storeventd", _SYSTEMD_UNIT: "storeventd.service" });
  });

  test("ProtectSystem=strict: the daemon may write only its state, runtime and log directories", () => {
    const writable = Object.fromEntries(["/var/lib/storeventd", "/var/lib/storeventd/tmp", "/run/storeventd", "/var/log/storeventd", "/etc/storeventd", "/usr/bin", "/var/lib", "/run/systemd/system"]
      .map((d) => [d, writableForDaemon(mainPid, d)]));
    expect(writable).toEqual({
      "/var/lib/storeventd": true, "/var/lib/storeventd/tmp": true, "/run/storeventd": true, "/var/log/storeventd": true,
      "/etc/storeventd": false, "/usr/bin": false, "/var/lib": false, "/run/systemd/system": false,
    });
  });

  test("systemctl reload keeps the same process running", async () => {
    expect(inNode(["systemctl", "reload", "storeventd"]).code).toBe(0);
    await Bun.sleep(300);
    expect(show("ActiveState", "MainPID")).toEqual({ ActiveState: "active", MainPID: mainPid });
  });

  test("systemctl reload with a broken config keeps the running daemon and says why", async () => {
    const conf = join(NODE, "merged/etc/storeventd/storeventd.toml");
    const good = readFileSync(conf, "utf8");
    writeFileSync(conf, good + "\n[broken]\ntype = \"receiver\"\nplugin = \"no-such-plugin\"\n");
    try {
      expect(inNode(["systemctl", "reload", "storeventd"]).code).toBe(0);
      await waitFor("the reload failure in the journal", () =>
        journal().some((e) => e._PID === mainPid && /reload failed/.test(e.MESSAGE ?? "")), 10_000);
      await waitFor("active again", () => show("ActiveState").ActiveState === "active");
      expect(show("MainPID", "NRestarts")).toEqual({ MainPID: mainPid, NRestarts: "0" });
    } finally {
      writeFileSync(conf, good);
    }
  });

  test("upgrade: dpkg -i of a newer version restarts the daemon and keeps a changed conffile", async () => {
    const out = mkdtempSync(join(tmpdir(), "storeventd-upgrade-"));
    try {
      ok(["bash", "packaging/build.sh"], { env: { PKG_FORMATS: "deb", PKG_COMPRESS: "none", PKG_VERSION: `${VERSION}+up1`, PKG_OUTDIR: out } });
      copyFileSync(join(out, `storeventd_${VERSION}+up1_amd64.deb`), join(NODE, "merged/root/storeventd-up.deb"));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    const conf = join(NODE, "merged/etc/storeventd/storeventd.toml");
    const changed = readFileSync(conf, "utf8") + "\n# local change\n";
    writeFileSync(conf, changed);
    const r = inNode(["dpkg", "-i", "--force-confold", "/root/storeventd-up.deb"]);
    expect(r.code).toBe(0);
    expect(inNode(["dpkg-query", "-W", "-f", "${Version}", "storeventd"]).out).toBe(`${VERSION}+up1`);
    await waitFor("active", () => show("ActiveState").ActiveState === "active");
    const s = show("MainPID", "NRestarts");
    expect(s.MainPID).not.toBe(mainPid); // restarted on the new binary
    expect(s.NRestarts).toBe("0"); // a restart by the package, not by Restart=on-failure
    mainPid = s.MainPID!;
    expect(readFileSync(conf, "utf8")).toBe(changed);
  }, 60_000);

  test("watchdog: WATCHDOG=1 pings keep a WatchdogSec=2s unit alive", async () => {
    expect(show("WatchdogUSec").WatchdogUSec).toBe("30s"); // the packaged unit's setting
    const dropin = "/etc/systemd/system/storeventd.service.d/watchdog.conf";
    inNode(["mkdir", "-p", "/etc/systemd/system/storeventd.service.d"]);
    ok(["nsenter", "-t", leader, "-a", "sh", "-c", `printf '[Service]\\nWatchdogSec=2s\\n' > ${dropin}`]);
    inNode(["systemctl", "daemon-reload"]);
    try {
      expect(inNode(["systemctl", "restart", "storeventd"]).code).toBe(0);
      const first = show("MainPID", "WatchdogTimestampMonotonic", "WatchdogUSec");
      expect(first.WatchdogUSec).toBe("2s");
      await Bun.sleep(5000); // 2.5 watchdog periods: without pings systemd would kill it
      const later = show("MainPID", "WatchdogTimestampMonotonic", "ActiveState", "NRestarts");
      expect(later).toMatchObject({ MainPID: first.MainPID, ActiveState: "active", NRestarts: "0" });
      expect(Number(later.WatchdogTimestampMonotonic)).toBeGreaterThan(Number(first.WatchdogTimestampMonotonic));
      mainPid = later.MainPID!;
    } finally {
      inNode(["rm", "-f", dropin]);
      inNode(["systemctl", "daemon-reload"]);
    }
  }, 30_000);

  test("systemctl stop is clean: exit 0, no kill, Result=success", () => {
    const t0 = performance.now();
    expect(inNode(["systemctl", "stop", "storeventd"]).code).toBe(0);
    console.log(`systemctl stop in ${(performance.now() - t0).toFixed(0)} ms`);
    const s = show("ActiveState", "Result", "ExecMainStatus", "ExecMainCode");
    expect(s).toEqual({ ActiveState: "inactive", Result: "success", ExecMainStatus: "0", ExecMainCode: "1" });
    expect(journal().some((e) => /Deactivated successfully/.test(e.MESSAGE ?? ""))).toBe(true);
  });

  test("without the addon, the systemd-notify fallback still reports READY", async () => {
    const dropin = "/etc/systemd/system/storeventd.service.d/no-addon.conf";
    inNode(["mkdir", "-p", "/etc/systemd/system/storeventd.service.d"]);
    ok(["nsenter", "-t", leader, "-a", "sh", "-c", `printf '[Service]\\nEnvironment=STOREVENTD_NO_ADDON=1\\n' > ${dropin}`]);
    inNode(["systemctl", "daemon-reload"]);
    try {
      const r = inNode(["systemctl", "start", "storeventd"]);
      expect(r.code).toBe(0);
      expect(show("ActiveState").ActiveState).toBe("active");
      expect(inNode(["systemctl", "stop", "storeventd"]).code).toBe(0);
      expect(show("Result").Result).toBe("success");
    } finally {
      inNode(["rm", "-f", dropin]);
      inNode(["systemctl", "daemon-reload"]);
    }
  });

  test("the shipped promoter drop-in applies and the daemon still starts with it", () => {
    const dir = "/etc/systemd/system/storeventd.service.d";
    inNode(["mkdir", "-p", dir]);
    expect(inNode(["cp", "/usr/share/doc/storeventd/examples/promoter.conf", `${dir}/promoter.conf`]).code).toBe(0);
    inNode(["systemctl", "daemon-reload"]);
    try {
      expect(inNode(["systemctl", "restart", "storeventd"]).code).toBe(0);
      const s = show("ActiveState", "DevicePolicy", "ReadWritePaths");
      expect(s.ActiveState).toBe("active");
      expect(s.DevicePolicy).toBe("auto");
      expect(s.ReadWritePaths!.split(" ")).toEqual(["-/var/lib/drbd", "-/run/drbd", "-/run/systemd/system"]);
      // in the daemon's mount namespace, the promoter's unit directory is now writable
      expect(writableForDaemon(show("MainPID").MainPID!, "/run/systemd/system")).toBe(true);
      expect(inNode(["systemctl", "stop", "storeventd"]).code).toBe(0);
    } finally {
      inNode(["rm", "-f", `${dir}/promoter.conf`]);
      inNode(["systemctl", "daemon-reload"]);
    }
  });

  test("dpkg --purge removes the unit, its state and its configuration", () => {
    inNode(["systemctl", "start", "storeventd"]);
    expect(existsSync(join(NODE, "merged/var/lib/storeventd/tmp"))).toBe(true); // StateDirectory=
    expect(inNode(["dpkg", "--purge", "storeventd"]).code).toBe(0);
    expect(show("LoadState", "ActiveState")).toEqual({ LoadState: "not-found", ActiveState: "inactive" });
    for (const p of ["var/lib/storeventd", "etc/storeventd", "usr/bin/storeventd"]) expect(existsSync(join(NODE, "merged", p))).toBe(false);
  });
});

// An appliance image: the .deb goes into the root at image build time (chroot, no systemd
// running), and the first boot starts the daemon.
describe("storeventd baked into an image before its first boot (slow)", () => {
  const cluster = `pk${ID}i`;
  const node = join(CACHE, cluster, "n1");
  const env = { ...ENV, CLUSTER: cluster };
  let booted = "";
  afterAll(() => {
    sh(["bash", join(ROOT, "test/cluster/cluster-down.sh")], { env: { CLUSTER: cluster, KEEP_STATE: "0" } });
  }, 60_000);

  test("chroot dpkg -i records the enablement; the first boot brings the daemon up", async () => {
    for (const d of ["upper", "work", "merged"]) mkdirSync(join(node, d), { recursive: true });
    const merged = join(node, "merged");
    ok(["mount", "-t", "overlay", `ov-${cluster}-n1`, "-o", `lowerdir=${CACHE}/root,upperdir=${node}/upper,workdir=${node}/work`, merged]);
    try {
      copyFileSync(DEB, join(merged, "root/storeventd.deb"));
      const r = sh(["chroot", merged, "dpkg", "-i", "/root/storeventd.deb"]);
      expect(r.code).toBe(0);
      // (an absolute link into the image: lstat, not stat, from out here)
      expect(readlinkSync(join(merged, "etc/systemd/system/multi-user.target.wants/storeventd.service"))).toBe("/lib/systemd/system/storeventd.service");
    } finally {
      sh(["umount", merged]);
    }
    const up = sh(["bash", join(ROOT, "test/cluster/cluster-up.sh")], { env }); // boots that same overlay
    expect(up.code, `cluster-up.sh failed:\n${up.err}${up.out}`).toBe(0);
    booted = readFileSync(join(node, "leader.pid"), "utf8").trim();
    const state = () => sh(["nsenter", "-t", booted, "-a", "systemctl", "is-active", "storeventd"]).out.trim();
    await waitFor("active after boot", () => state() === "active");
    expect(sh(["nsenter", "-t", booted, "-a", "systemctl", "is-system-running"]).out.trim()).toMatch(/^(running|degraded)$/);
  }, 120_000);
});
