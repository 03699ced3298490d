// Migrating from drbd-reactor: a drbd-reactor configuration directory (test/reactor/etc: main file
// with snippets, [[log]] to a file, a promoter with systemd units and an ocf: entry, umh rules on
// all four object kinds with shell commands, prometheus, debugger, agentx) runs unchanged under storeventd
// in two systemd containers (the promoter cluster harness: drbd-utils' units and shim, the fake
// drbdsetup/drbdadm on the DRBD simulator, Debian's resource-agents for the OCF agent).
// Checked: each umh rule's command runs once per matching change with drbd-reactor's environment;
// the log file fills in drbd-reactor's line format; snmpwalk (net-snmp's snmpd as AgentX master in
// n1's network namespace), a Prometheus scrape and `status --json` agree;
// `storeventd ctl` ls/status/disable --now/enable/evict (and -k/-u) work and their state survives
// a daemon restart.
// Needs root, systemd-container, debootstrap, drbd-utils, resource-agents, snmpd, snmp.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, lstatSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PromoterCluster, type Run } from "./promoter/cluster-harness.ts";

const NODES = ["n1", "n2"];
const cluster = new PromoterCluster("rx14", NODES, ["r0"]);
const ETC = join(import.meta.dir, "reactor/etc");
const root = (n: string, p = "") => join(cluster.work, n, "merged", p);
const umhDir = () => join(cluster.simDir, "umh");
const snmpDir = mkdtempSync(join(tmpdir(), "storeventd-rx14-snmpd-"));
let snmpd: ReturnType<typeof Bun.spawn> | undefined;
/** No MIB files: numeric OIDs only. */
const SNMP_ENV = { ...process.env, MIBS: "", MIBDIRS: "/nonexistent", SNMP_PERSISTENT_DIR: join(snmpDir, "persist") };

/** net-snmp's snmpd as AgentX master on localhost:705 inside n1's network namespace (the host's
 * files, the node's loopback: the node's storeventd reaches it as drbd-reactor's default address). */
function startSnmpd(): void {
  for (const t of ["snmpd", "snmpwalk"]) if (!Bun.which(t, { PATH: `${process.env.PATH}:/usr/sbin` })) throw new Error(`missing ${t}: apt-get install -y snmpd snmp`);
  mkdirSync(join(snmpDir, "persist"), { recursive: true });
  writeFileSync(join(snmpDir, "snmpd.conf"), `[snmp] persistentDir ${join(snmpDir, "persist")}\nmaster agentx\nagentXSocket tcp:127.0.0.1:705\nrocommunity public 127.0.0.1\n`);
  snmpd = Bun.spawn(["ip", "netns", "exec", `${cluster.name}-n1`, Bun.which("snmpd", { PATH: `${process.env.PATH}:/usr/sbin` })!, "-f", "-C",
    "-c", join(snmpDir, "snmpd.conf"), "-Lf", join(snmpDir, "snmpd.log"), "udp:127.0.0.1:1161"], { env: SNMP_ENV, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
}

async function snmpwalk(oid: string): Promise<string> {
  const p = Bun.spawn(["ip", "netns", "exec", `${cluster.name}-n1`, "snmpwalk", "-v2c", "-c", "public", "-On", "-t", "3", "-r", "1", "udp:127.0.0.1:1161", oid],
    { env: SNMP_ENV, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  return out + err;
}

async function inNode(n: string, ...argv: string[]): Promise<Run> {
  return cluster.inNode(n, ...argv);
}
async function ok(n: string, ...argv: string[]): Promise<string> {
  const r = await inNode(n, ...argv);
  if (r.code !== 0) throw new Error(`${n}: ${argv.join(" ")} exited ${r.code}:\n${r.out}${r.err}`);
  return r.out;
}
const ctl = (n: string, ...args: string[]) => inNode(n, "storeventd", "ctl", ...args);

/** The umh runs so far: rule kind -> node -> [first line, environment lines]. */
function umhRuns(kind: string, n: string): string[][] {
  return readdirSync(umhDir()).filter((f) => f.startsWith(`${kind}.${n}.`))
    .map((f) => readFileSync(join(umhDir(), f), "utf8").trim().split("\n"));
}

async function restartDaemon(n: string): Promise<void> {
  const before = (await ok(n, "systemctl", "show", "-pMainPID", "storeventd")).trim();
  await ok(n, "systemctl", "restart", "storeventd");
  const after = (await ok(n, "systemctl", "show", "-pMainPID", "storeventd")).trim();
  expect(after).not.toBe(before);
  expect((await ok(n, "systemctl", "is-active", "storeventd")).trim()).toBe("active");
}

beforeAll(async () => {
  if (!existsSync("/usr/lib/ocf/resource.d/heartbeat/Dummy")) throw new Error("missing resource-agents: apt-get install -y resource-agents");
  // A first start without DRBD; the drbd-reactor layout replaces it below.
  await cluster.up(`[main]\nlog_level = "warn"\n`);
  startSnmpd();
  mkdirSync(umhDir(), { recursive: true });
  for (const n of NODES) {
    cpSync(ETC, root(n, "etc"), { recursive: true });
    // resource-agents and drbd-utils' OCF wrapper, from this host (the nodes have no network).
    cpSync("/usr/lib/ocf", root(n, "usr/lib/ocf"), { recursive: true });
    cpSync("/lib/drbd/scripts/ocf.ra.wrapper.sh", root(n, "usr/lib/drbd/scripts/ocf.ra.wrapper.sh"));
    // The packaged unit, told to read drbd-reactor's file; the [[log]] file is under /var/log.
    writeFileSync(root(n, "etc/systemd/system/storeventd.service.d/drbd-reactor.conf"),
      "[Service]\nExecStart=\nExecStart=/usr/bin/storeventd run -c /etc/drbd-reactor.toml\nReadWritePaths=/var/log\n");
    // lstat, not existsSync: the package's link points at /usr/bin/storeventd inside the node, which
    // seen from the host dangles unless the host happens to have that file too.
    const link = root(n, "usr/sbin/drbd-reactorctl");
    if (!lstatSync(link, { throwIfNoEntry: false })) await ok(n, "ln", "-s", "/usr/bin/storeventd", "/usr/sbin/drbd-reactorctl");
    await ok(n, "systemctl", "daemon-reload");
  }
  // n1 first, so that it is the one waiting for n2 to give it quorum (then the preferred node wins).
  await ok("n1", "systemctl", "restart", "storeventd");
  await ok("n2", "systemctl", "restart", "storeventd");
}, 400_000);

afterAll(async () => {
  snmpd?.kill("SIGTERM");
  await snmpd?.exited;
  rmSync(snmpDir, { recursive: true, force: true });
  await cluster.down();
  console.log(`reactor migration timings:\n  ${cluster.timings.join("\n  ")}`);
}, 120_000);

describe("a drbd-reactor configuration under storeventd, in systemd containers", () => {
  test("the promoter starts the stack with its OCF agent on n1; umh resource and connection rules fire once with drbd-reactor's environment", async () => {
    await cluster.waitFor("r0 on n1", () => cluster.active().length > 0, 30_000);
    await cluster.hold(2000, () => expect(cluster.active()).toEqual(["n1"]));
    expect((await ok("n1", "systemctl", "is-active", "drbd-services@r0.target", "ocf.ra@dummy_r0.service", "app@r0.service")).split("\n").filter(Boolean))
      .toEqual(["active", "active", "active"]);
    expect((await inNode("n1", "test", "-e", "/run/dummy-r0.state")).code).toBe(0); // the Dummy agent ran
    const res = umhRuns("resource", "n1");
    expect(res.length).toBe(1);
    expect(res[0]![0]).toBe("r0: Secondary -> Primary");
    // Exactly the variables drbd-reactor sets, the rule's env, HOME/TERM/PATH, and what sh adds (PWD).
    expect(res[0]!.slice(1).map((l) => l.split("=")[0])).toEqual([
      "DRBD_NEW_MAY_PROMOTE", "DRBD_NEW_ROLE", "DRBD_OLD_MAY_PROMOTE", "DRBD_OLD_ROLE", "DRBD_RES_NAME", "HOME", "PATH", "PWD", "RULE", "TERM",
    ]);
    expect(res[0]).toContain("PATH=/sbin:/usr/sbin:/bin:/usr/bin");
    expect(res[0]).toContain("TERM=Linux");
    expect(res[0]).toContain("HOME=/");
    expect(res[0]).toContain("RULE=resource");
    expect(umhRuns("resource", "n2")).toEqual([]);
    const conn = umhRuns("connection", "n2");
    expect(conn.length).toBe(1);
    expect(conn[0]![0]).toBe("r0: n1 became Primary");
    expect(conn[0]!.slice(1)).toEqual([
      "DRBD_CSTATE=Connected", "DRBD_NEW_CONN_NAME=n1", "DRBD_NEW_CONN_STATE=Connected", "DRBD_NEW_PEER_ROLE=Primary",
      "DRBD_OLD_CONN_NAME=n1", "DRBD_OLD_CONN_STATE=Connected", "DRBD_OLD_PEER_ROLE=Secondary", "DRBD_PEER_NODE_ID=0",
      "DRBD_RES_NAME=r0", "HOME=/", "PATH=/sbin:/usr/sbin:/bin:/usr/bin", "PWD=/", "RULE=connection", "TERM=Linux",
    ]);
    expect(umhRuns("connection", "n1")).toEqual([]);
  }, 60_000);

  test("umh device and peerdevice rules: n2's disk outdated and back fires each once, on its own node", async () => {
    const sim = cluster.fsim.sims[0]!;
    sim.setDisk("n2", "Outdated");
    await cluster.waitFor("device and peerdevice rules", () => umhRuns("device", "n2").length > 0 && umhRuns("peerdevice", "n1").length > 0, 10_000);
    sim.setDisk("n2", "UpToDate");
    await Bun.sleep(1500); // a second run would have shown up by now
    const dev = umhRuns("device", "n2");
    expect(dev.length).toBe(1);
    expect(dev[0]![0]).toBe("r0/0 minor 1000: UpToDate -> Outdated");
    expect(dev[0]!.slice(1)).toEqual([
      "DRBD_BACKING_DEV=/dev/vg0/r0_0", "DRBD_BACKING_DEV_0=/dev/vg0/r0_0", "DRBD_MINOR=1000", "DRBD_MINOR_0=1000",
      "DRBD_NEW_CLIENT=false", "DRBD_NEW_DISK_STATE=Outdated", "DRBD_NEW_QUORUM=true", "DRBD_OLD_CLIENT=false",
      "DRBD_OLD_DISK_STATE=UpToDate", "DRBD_OLD_QUORUM=true", "DRBD_RES_NAME=r0", "DRBD_VOLUME=0", "HOME=/",
      "PATH=/sbin:/usr/sbin:/bin:/usr/bin", "PWD=/", "RULE=device", "TERM=Linux",
    ]);
    const pd = umhRuns("peerdevice", "n1");
    expect(pd.length).toBe(1);
    expect(pd[0]![0]).toBe("r0 peer 1: UpToDate -> Outdated");
    expect(pd[0]!.slice(1).map((l) => l.split("=")[0])).toEqual([
      "DRBD_BACKING_DEV", "DRBD_BACKING_DEV_0", "DRBD_MINOR", "DRBD_MINOR_0", "DRBD_NEW_PEER_CLIENT", "DRBD_NEW_PEER_DISK_STATE",
      "DRBD_NEW_PEER_REPLICATION_STATE", "DRBD_NEW_PEER_RESYNC_SUSPENDED", "DRBD_OLD_PEER_CLIENT", "DRBD_OLD_PEER_DISK_STATE",
      "DRBD_OLD_PEER_REPLICATION_STATE", "DRBD_OLD_PEER_RESYNC_SUSPENDED", "DRBD_PEER_NODE_ID", "DRBD_RES_NAME", "HOME", "PATH",
      "PWD", "RULE", "TERM",
    ]);
    expect(umhRuns("device", "n1")).toEqual([]);
    expect(umhRuns("peerdevice", "n2")).toEqual([]);
  }, 30_000);

  test("the [[log]] file fills with drbd-reactor's `LEVEL [target] message` lines", async () => {
    const log = await ok("n1", "cat", "/var/log/drbd-reactor.log");
    const lines = log.trim().split("\n");
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(l).toMatch(/^(TRACE|DEBUG|INFO|WARN|ERROR) \[\S+\] \S/);
    expect(log).toContain('INFO [umh[0]] rule "promoted" matched');
    expect(log).toMatch(/^INFO \[storeventd\] started /m);
  });

  test("snmpwalk and a Prometheus scrape show the states `status --json` and `ctl status --json` show", async () => {
    const metrics = await ok("n1", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9942 && printf 'GET /metrics HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' >&3 && cat <&3");
    const st = JSON.parse(await ok("n1", "storeventd", "status", "--json")) as { drbd: { name: string; role: string; devices: { volume: number; "disk-state": string }[] }[] };
    const r0 = st.drbd.find((r) => r.name === "r0")!;
    expect(r0.role).toBe("Primary");
    expect(metrics).toContain(`drbd_resource_role{name="r0",drbd_resource_role="${r0.role}"} 1\n`);
    expect(metrics).toContain(`drbd_device_state{name="r0",volume="0",minor="1000",drbd_device_state="${r0.devices[0]!["disk-state"]}"} 1\n`);
    // The AgentX subagent's table (…23302.1.2.1.COLUMN.MINOR): role (3) and disk state (10) of minor 1000.
    let walk = "";
    for (let i = 0; i < 50 && !walk.includes(".1.2.1.3.1000 = "); i++) {
      walk = await snmpwalk("1.3.6.1.4.1.23302.1.2.1");
      if (!walk.includes(".1.2.1.3.1000 = ")) await Bun.sleep(200);
    }
    expect(walk).toContain(`.1.3.6.1.4.1.23302.1.2.1.2.1000 = STRING: "r0"`);
    expect(walk).toContain(`.1.3.6.1.4.1.23302.1.2.1.3.1000 = STRING: "${r0.role}"`);
    expect(walk).toContain(`.1.3.6.1.4.1.23302.1.2.1.10.1000 = STRING: "${r0.devices[0]!["disk-state"]}"`);
    const c = JSON.parse((await ctl("n1", "status", "--json")).out);
    expect(c.promoter[0]).toMatchObject({ drbd_resource: "r0", path: "/etc/drbd-reactor.d/r0.toml", enabled: true, primary_on: "n1", status: "active" });
    expect(c.promoter[0].dependencies.map((d: { name: string; status: string }) => `${d.name} ${d.status}`)).toEqual([
      "drbd-promote@r0.service active", "ocf.ra@dummy_r0.service active", "app@r0.service active",
    ]);
    expect(c.prometheus).toEqual([{ path: "/etc/drbd-reactor.d/prometheus.toml", enabled: true, address: ":9942", status: "active" }]);
    expect(c.agentx).toEqual([{ path: "/etc/drbd-reactor.d/agentx.toml", enabled: true, address: "localhost:705", status: "active" }]);
    expect(c.umh.length).toBe(1);
    expect(c.debugger.length).toBe(1);
    const c2 = JSON.parse((await ctl("n2", "status", "--json")).out);
    expect(c2.promoter[0]).toMatchObject({ primary_on: "n1", status: "inactive" });
  });

  test("ctl ls (also as drbd-reactorctl); disable --now moves the stack, survives a daemon restart; enable", async () => {
    const ls = await ctl("n1", "ls");
    expect(ls.out).toBe([
      "/etc/drbd-reactor.d/agentx.toml:", "- AgentX: localhost:705",
      "/etc/drbd-reactor.d/debugger.toml:", "- Debugger", "/etc/drbd-reactor.d/prometheus.toml:", "- Prometheus: :9942",
      "/etc/drbd-reactor.d/r0.toml:", '- Promoter: r0; start = ["ocf:heartbeat:Dummy dummy state=/run/dummy-r0.state", "app@r0.service"]',
      "/etc/drbd-reactor.d/umh.toml:", "- UMH", "",
    ].join("\n"));
    expect((await inNode("n1", "drbd-reactorctl", "ls")).out).toBe(ls.out);

    const d = await ctl("n1", "disable", "--now", "r0");
    expect([d.code, d.err]).toEqual([0, "Disabling '/etc/drbd-reactor.d/r0.toml'...\n"]);
    await cluster.waitFor("r0 on n2", () => cluster.active().join() === "n2", 30_000);
    expect(existsSync(root("n1", "etc/drbd-reactor.d/r0.toml.disabled"))).toBe(true);
    await restartDaemon("n1");
    expect((await ctl("n1", "ls", "r0")).out).toContain("- Promoter: r0 (disabled); start = [");
    expect(JSON.parse((await ctl("n1", "status", "--json")).out).promoter[0]).toMatchObject({ enabled: false, primary_on: "n2" });
    // Disabled on n1 across the restart: n2 can lose its stack and n1 still takes no action.
    await ok("n2", "systemctl", "stop", "drbd-services@r0.target");
    await cluster.hold(4000, () => expect(cluster.active()).not.toContain("n1"));
    await ok("n2", "systemctl", "start", "drbd-services@r0.target");
    await cluster.waitFor("r0 back on n2", () => cluster.active().join() === "n2", 30_000);

    const e = await ctl("n1", "enable", "r0");
    expect([e.code, e.err]).toEqual([0, "Enabling '/etc/drbd-reactor.d/r0.toml.disabled'...\n"]);
    expect(existsSync(root("n1", "etc/drbd-reactor.d/r0.toml"))).toBe(true);
    await cluster.hold(2000, () => expect(cluster.active()).toEqual(["n2"]));
  }, 120_000);

  test("evict moves the stack and unmasks; -k keeps the runtime mask across a daemon restart until -u", async () => {
    const ev = await ctl("n2", "evict", "-d", "15", "r0");
    expect(ev.code).toBe(0);
    expect(ev.out).toContain("Evicting r0\n");
    expect(ev.out).toContain("Node 'n1' took over\n");
    expect(ev.out).toContain("Re-enabling r0\nRemoved /run/systemd/system/drbd-services@r0.target.\n");
    await cluster.waitFor("r0 on n1", () => cluster.active().join() === "n1", 30_000);
    expect(existsSync(root("n2", "run/systemd/system/drbd-services@r0.target"))).toBe(false);

    const k = await ctl("n1", "evict", "-k", "-d", "15", "r0");
    expect(k.out).toContain("Node 'n2' took over\n");
    await cluster.waitFor("r0 on n2", () => cluster.active().join() === "n2", 30_000);
    expect((await ok("n1", "systemctl", "is-enabled", "drbd-services@r0.target").catch((e: Error) => e.message))).toContain("masked-runtime");
    await restartDaemon("n1");
    // Still masked: n1 cannot take the stack even when n2 gives it up.
    await ok("n2", "systemctl", "stop", "drbd-services@r0.target");
    await cluster.hold(4000, () => expect(cluster.active()).not.toContain("n1"));
    const u = await ctl("n1", "evict", "-u", "r0");
    expect(u.out).toContain("Re-enabling r0\n");
    expect(existsSync(root("n1", "run/systemd/system/drbd-services@r0.target"))).toBe(false);
    expect((await inNode("n1", "systemctl", "is-enabled", "drbd-services@r0.target")).out).not.toContain("masked");
    await cluster.waitFor("r0 running on one node", () => cluster.active().length === 1, 30_000);
  }, 150_000);
});
