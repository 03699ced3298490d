// Three Debian containers with real systemd (test/cluster/cluster-up.sh), storeventd installed from
// its .deb in each, the systemd runner generating real units on drbd-utils' templates, and the DRBD
// kernel simulated: every node's /usr/sbin/drbdsetup is the fake that talks to one FileSim through
// the shared directory /sim (bind-mounted, no network between host and nodes). Reachability follows
// what the test does to the nodes: each node runs a prober that pings its peers from inside the
// node and writes who answered to /sim; a node whose prober stops (PID 1 killed) is down, a link
// taken down cuts it off (FileSim.probe()).
// Services are probed from inside the nodes (nsenter systemctl) and through /sim/active.RES.NODE.
// Needs root, systemd-container, debootstrap (the base root is cached under /var/tmp), drbd-utils;
// the .deb comes from STOREVENTD_DEB or `npm run package` (dist/), else the binary is installed by hand.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { drbdConfig, type FileSim } from "./cluster/file-sim.ts";
import { PromoterSchema, resolveResource } from "../../plugins/receiver/promoter/config.ts";
import { exec, SystemdRunner } from "../../plugins/receiver/promoter/runner.ts";
import { clusterName, PromoterCluster, sh } from "./cluster-harness.ts";

const CLUSTER = clusterName("pm");
const NODES = ["n1", "n2", "n3"];
const cluster = new PromoterCluster(CLUSTER, NODES, ["r0", "r1"]);
const { leaders, timings } = cluster;
let fsim: FileSim;
const inNode = (n: string, ...argv: string[]) => cluster.inNode(n, ...argv);
const active = (res = "r0") => cluster.active(res);
const waitFor = (what: string, pred: () => boolean, timeoutMs: number) => cluster.waitFor(what, pred, timeoutMs);
const promoterEvents = (n: string, res = "r0") => cluster.promoterEvents(n, res);

function config(r1Preferred = ["n2", "n3", "n1"]): string {
  return `[main]
log_level = "info"

${drbdConfig(`/usr/sbin/drbdsetup`)}
[[promoter]]
retry-interval = "3s"
[promoter.resources.r0]
start = ["app@r0.service"]
preferred-nodes = ["n1", "n2", "n3"]
stop-services-on-exit = true

[[promoter]]
retry-interval = "3s"
[promoter.resources.r1]
start = ["app@r1.service"]
preferred-nodes = ${JSON.stringify(r1Preferred)}
on-quorum-loss = "freeze"
`;
}

beforeAll(async () => {
  await cluster.up(config());
  fsim = cluster.fsim;
}, 400_000);

afterAll(async () => {
  await cluster.down();
  console.log(`promoter cluster timings:\n  ${timings.join("\n  ")}\nreachability seen by the probers: ${fsim?.observed.join("; ")}\ntransient double Primaries (partial heals, below the grace): ${cluster.transientDoubles().join("; ") || "none"}`);
}, 120_000);

describe("promoter on three systemd containers", () => {
  test("cold start: exactly one node runs the stack, the preferred one (n1)", async () => {
    const ms = await waitFor("n1 active", () => active().length > 0, 30_000);
    await Bun.sleep(3000); // n2 and n3 sleep 1 s and 2 s: no second start
    expect(active()).toEqual(["n1"]);
    expect(fsim.sim.primaries()).toEqual(["n1"]);
    expect((await inNode("n1", "systemctl", "is-active", "drbd-services@r0.target", "drbd-promote@r0.service", "app@r0.service")).out.split("\n").filter(Boolean))
      .toEqual(["active", "active", "active"]);
    for (const n of ["n2", "n3"]) expect((await inNode(n, "systemctl", "is-active", "app@r0.service")).out.trim()).toBe("inactive");
    // The generated units are what systemd loaded: app.service is part of the target, bound to the promote unit.
    const show = (await inNode("n1", "systemctl", "show", "-p", "PartOf,BindsTo,After", "app@r0.service")).out;
    expect(show).toContain("PartOf=drbd-services@r0.target");
    expect(show).toContain("BindsTo=drbd-promote@r0.service");
    expect((await inNode("n1", "systemd-analyze", "verify", "drbd-services@r0.target", "app@r0.service")).err.trim()).toBe("");
    expect(await promoterEvents("n1")).toEqual(["DRBD_PROMOTER_STARTING:may_promote", "DRBD_PROMOTER_STARTED:may_promote"]);
    // The systemd runner's status query, run against n1's real systemd.
    const runner = new SystemdRunner({ systemctl: "systemctl", run: (argv) => exec(["nsenter", "-t", String(leaders.get("n1")), "-a", ...argv]) });
    const r0 = resolveResource("r0", v.parse(PromoterSchema, { resources: { r0: { start: ["app@r0.service"] } } }).resources["r0"]!);
    expect(await runner.units(r0)).toEqual([
      { unit: "drbd-services@r0.target", state: "active (active)" },
      { unit: "drbd-promote@r0.service", state: "active (exited)" },
      { unit: "app@r0.service", state: "active (running)" },
    ]);
    expect(await runner.isActive(r0)).toBe(true);
    const check = await inNode("n1", "storeventd", "check");
    expect([check.code, check.err]).toEqual([0, ""]);
    expect(check.out).toContain("promoter[0] (promoter), promoter[1] (promoter)");
    const r1 = await waitFor("r1 on n2", () => active("r1").length === 1, 15_000);
    expect(active("r1")).toEqual(["n2"]);
    expect(fsim.sims[1]!.primaries()).toEqual(["n2"]);
    timings.push(`cold start: n1 active ${ms} ms after the last daemon started (r1 on n2 ${r1} ms later)`);
  }, 60_000);

  test("a reload that changes one [[promoter]] leaves the other resource's services untouched", async () => {
    await waitFor("r1 on n2", () => active("r1").length === 1 && active("r1")[0] === "n2", 15_000);
    const props = ["MainPID", "ActiveEnterTimestampMonotonic", "NRestarts"];
    const before = (await inNode("n1", "systemctl", "show", ...props.map((p) => `-p${p}`), "app@r0.service")).out;
    const daemonPid = (await inNode("n1", "systemctl", "show", "-pMainPID", "storeventd")).out;
    writeFileSync(join(cluster.work, "n1/merged/etc/storeventd/storeventd.toml"), config(["n3", "n2", "n1"]));
    expect((await inNode("n1", "systemctl", "reload", "storeventd")).code).toBe(0);
    let journal = "";
    for (let i = 0; i < 100 && !journal.includes("reloaded:"); i++) {
      journal = (await inNode("n1", "journalctl", "-u", "storeventd", "-o", "cat", "--no-pager")).out;
      await Bun.sleep(50);
    }
    const line = journal.split("\n").find((l) => l.includes("reloaded:")) ?? "";
    expect(line).toMatch(/started \[promoter\[1\]\] stopped \[promoter\[1\]\] kept \[.*promoter\[0\]/);
    await Bun.sleep(2000);
    expect((await inNode("n1", "systemctl", "show", ...props.map((p) => `-p${p}`), "app@r0.service")).out).toBe(before);
    expect((await inNode("n1", "systemctl", "show", "-pMainPID", "storeventd")).out).toBe(daemonPid);
    expect(active()).toEqual(["n1"]);
    expect(active("r1")).toEqual(["n2"]);
    expect(fsim.sims[0]!.primaries()).toEqual(["n1"]);
    timings.push("reload on n1 (r1 changed): app@r0 kept its PID and start time");
  }, 60_000);

  test("on-quorum-loss = freeze: the isolated Primary freezes (or reports why it cannot), the majority takes over, heal stops it", async () => {
    // r1 runs on n2. This host's containers have no cgroup v2 freezer (hybrid hierarchy): systemd
    // refuses `systemctl freeze`, and the promoter reports that as DRBD_PROMOTER_FAILED.
    const cgroup2 = (await inNode("n2", "test", "-e", "/sys/fs/cgroup/cgroup.controllers")).code === 0;
    expect((await sh(["ip", "-n", `${CLUSTER}-n2`, "link", "set", "eth0", "down"])).code).toBe(0);
    const ms = await waitFor("r1 on n3", () => active("r1").includes("n3"), 20_000);
    const ev = await promoterEvents("n2", "r1");
    if (cgroup2) expect(ev).toContain("DRBD_PROMOTER_FROZEN:quorum lost");
    else {
      const failed = (await inNode("n2", "journalctl", "-u", "storeventd", "-o", "cat", "--no-pager")).out.split("\n")
        .find((l) => l.includes("DRBD_PROMOTER_FAILED") && l.includes('"resource":"r1"'));
      expect(failed).toContain("does not support freezing");
    }
    expect(active("r1")).toEqual(["n2", "n3"]); // n2's services still run (frozen, or not), without quorum
    expect(fsim.sims[1]!.primaries().filter((n) => fsim.sims[1]!.quorum(n))).toEqual(["n3"]);
    expect(active()).toEqual(["n1"]); // r0 is not affected
    timings.push(`isolate n2 (r1, freeze): r1 on n3 after ${ms} ms (rank 1 s + freeze term 2 s); freezer ${cgroup2 ? "worked" : "unsupported here"}`);
    expect((await sh(["ip", "-n", `${CLUSTER}-n2`, "link", "set", "eth0", "up"])).code).toBe(0);
    const sim1 = fsim.sims[1]!;
    const back = await waitFor("r1 back on n2", () => sim1.primaries().join() === "n2" && active("r1").join() === "n2" &&
      sim1.role.get("n2") === "Primary", 30_000);
    expect(await promoterEvents("n2", "r1")).toContain("DRBD_PROMOTER_STOPPED:forced to Secondary while frozen");
    expect(await promoterEvents("n3", "r1")).toContain("DRBD_PROMOTER_STOPPED:more preferred node n2 is UpToDate (fail back)");
    timings.push(`heal n2: old r1 Primary stopped, r1 failed back to n2 after ${back} ms`);
  }, 90_000);

  test("isolate the active node (link down): it stops, the majority promotes; heal: no double Primary, fail-back", async () => {
    expect((await sh(["ip", "-n", `${CLUSTER}-n1`, "link", "set", "eth0", "down"])).code).toBe(0);
    const stop = await waitFor("n1 stopped", () => !active().includes("n1"), 20_000);
    const ms = await waitFor("n2 active", () => active().includes("n2"), 20_000);
    expect(ms).toBeLessThan(1000 + 2000); // n2's sleep + systemd
    expect(fsim.sim.primaries()).toEqual(["n2"]);
    expect(await promoterEvents("n1")).toContain("DRBD_PROMOTER_STOPPED:quorum lost");
    timings.push(`isolate n1: n1 stopped after ${stop} ms, n2 active ${ms} ms later (computed delay 1000 ms)`);
    expect((await sh(["ip", "-n", `${CLUSTER}-n1`, "link", "set", "eth0", "up"])).code).toBe(0);
    const back = await waitFor("fail-back to n1", () => active().length === 1 && active()[0] === "n1" && fsim.sim.primaries()[0] === "n1", 30_000);
    expect(await promoterEvents("n2")).toContain("DRBD_PROMOTER_STOPPED:more preferred node n1 is UpToDate (fail back)");
    timings.push(`heal: fail-back to n1 after ${back} ms`);
  }, 90_000);

  test("kill the active node's PID 1: n2 takes over within the computed delay", async () => {
    process.kill(leaders.get("n1")!, "SIGKILL");
    const ms = await waitFor("n2 active", () => active().includes("n2"), 20_000);
    expect(ms).toBeLessThan(1500 + 1000 + 2500); // prober staleness + n2's sleep + systemd, on a shared machine
    // The dead node's marker file stays (its ExecStopPost never ran): only n2's counts.
    expect(fsim.sim.primaries()).toEqual(["n2"]);
    expect((await inNode("n2", "systemctl", "is-active", "app@r0.service")).out.trim()).toBe("active");
    timings.push(`kill n1: n2 active after ${ms} ms (computed delay 1000 ms)`);
    rmSync(join(cluster.simDir, "active.r0.n1"), { force: true });
  }, 60_000);

  test("stop-services-on-exit: systemctl stop storeventd stops the stack, n3 takes over", async () => {
    const t0 = performance.now();
    expect((await inNode("n2", "systemctl", "stop", "storeventd")).code).toBe(0);
    expect((await inNode("n2", "systemctl", "is-active", "app@r0.service")).out.trim()).toBe("inactive");
    expect(fsim.sim.role.get("n2")).toBe("Secondary");
    const ms = await waitFor("n3 active", () => active().includes("n3"), 20_000);
    expect(active()).toEqual(["n3"]);
    timings.push(`stop storeventd on n2: n3 active after ${Math.round(performance.now() - t0)} ms (${ms} ms after the stop returned; computed delay 2000 ms)`);
  }, 60_000);
});
