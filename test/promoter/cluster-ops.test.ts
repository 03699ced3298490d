// The operator's side of the promoter on the three-node systemd cluster (cluster-harness.ts, the
// same nodes, .deb and DRBD simulator as cluster.test.ts, under its own cluster name "po…"): the
// compiled `storeventd promoter ...` CLI run inside the nodes against each daemon's control socket.
// - `evict r0 --to n3` on every node (the design needs it everywhere, see the promoter README) moves
//   the stack from n1 to n3, with no double Primary at any sample;
// - `maintenance r0 on` on every node: the active node is isolated (it would stop, and the majority
//   would promote), yet nobody acts and the services keep running; `off`: the same fault is acted on;
// - `status r0 --json` shows where the stack runs, from the active node and from a peer.
// Needs root, systemd-container, debootstrap, drbd-utils, and dist/*.deb (`npm run package`).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { drbdConfig } from "./cluster/file-sim.ts";
import { clusterName, PromoterCluster, type Run } from "./cluster-harness.ts";
import type { ResourceReport } from "../../plugins/receiver/promoter/controller.ts";

const NODES = ["n1", "n2", "n3"];
const cluster = new PromoterCluster(clusterName("po"), NODES, ["r0"]);
const { timings } = cluster;

const CONFIG = `[main]
log_level = "info"

${drbdConfig("/usr/sbin/drbdsetup")}
[[promoter]]
retry-interval = "3s"
evict-hold = "30s"
[promoter.resources.r0]
start = ["app@r0.service"]
preferred-nodes = ["n1", "n2", "n3"]
`;

/** `storeventd promoter ARGS...` inside node n (the compiled binary from the .deb). */
function promoter(n: string, ...args: string[]): Promise<Run> {
  return cluster.inNode(n, "storeventd", "promoter", ...args);
}

/** `storeventd promoter status r0 --json` on node n: r0's report. */
async function status(n: string): Promise<ResourceReport> {
  const r = await promoter(n, "status", "r0", "--json");
  expect([r.code, r.err]).toEqual([0, ""]);
  const body = JSON.parse(r.out) as { ok: boolean; resources: ResourceReport[] };
  expect(body.ok).toBe(true);
  expect(body.resources.map((x) => x.resource)).toEqual(["r0"]);
  return body.resources[0]!;
}

async function eventCounts(): Promise<number[]> {
  return Promise.all(NODES.map(async (n) => (await cluster.promoterEvents(n)).length));
}

beforeAll(() => cluster.up(CONFIG), 400_000);

afterAll(async () => {
  await cluster.down();
  console.log(`promoter cluster-ops timings:\n  ${timings.join("\n  ")}\nreachability seen by the probers: ${cluster.fsim?.observed.join("; ")}`);
}, 120_000);

describe("promoter CLI on three systemd containers", () => {
  test("cold start on n1; `status r0 --json` shows where it runs, from n1 and from a peer", async () => {
    await cluster.waitFor("n1 active", () => cluster.active().length > 0, 30_000);
    await cluster.hold(2500, () => expect(cluster.active()).toEqual(["n1"])); // n2, n3 sleep 1 s, 2 s
    const s1 = await status("n1");
    expect(s1).toMatchObject({ node: "n1", state: "active", role: "Primary", quorum: true, primary_on: "local", maintenance: false, runner: "systemd", target: "drbd-services@r0.target" });
    expect(s1.units).toEqual([
      { unit: "drbd-services@r0.target", state: "active (active)" },
      { unit: "drbd-promote@r0.service", state: "active (exited)" },
      { unit: "app@r0.service", state: "active (running)" },
    ]);
    const s2 = await status("n2");
    expect(s2).toMatchObject({ node: "n2", state: "idle", role: "Secondary", may_promote: false, primary_on: "n1" });
    expect(s2.units.find((u) => u.unit === "app@r0.service")?.state).toMatch(/^inactive/);
    // The human form names the node too.
    const text = await promoter("n2", "status", "r0");
    expect(text.code).toBe(0);
    expect(text.out).toContain("n1");
    expect((await promoter("n2", "status", "nosuch", "--json")).code).toBe(1);
  }, 60_000);

  test("`evict r0 --to n3` on every node moves the stack from n1 to n3 (not to n2, which is preferred)", async () => {
    const n2Before = await cluster.promoterEvents("n2");
    const t0 = performance.now();
    // The named node and the bystander first, the active node last: no node races with its sleep.
    for (const n of ["n3", "n2", "n1"]) {
      const r = await promoter(n, "evict", "r0", "--to", "n3");
      expect([n, r.code, r.err]).toEqual([n, 0, ""]);
      if (n === "n1") expect(r.out).toContain("stopped here");
    }
    const stopped = Math.round(performance.now() - t0);
    const ms = await cluster.waitFor("n3 active", () => cluster.active().join() === "n3", 20_000);
    const total = Math.round(performance.now() - t0);
    // n2 would have promoted after its 1 s sleep without the evict; n1 (rank 0) without its hold.
    await cluster.hold(3000, () => {
      expect(cluster.active()).toEqual(["n3"]);
      expect(cluster.fsim.sim.primaries()).toEqual(["n3"]);
    });
    expect(await cluster.promoterEvents("n1")).toContain("DRBD_PROMOTER_STOPPED:evict --to n3");
    expect((await cluster.promoterEvents("n2")).slice(n2Before.length).filter((e) => e.startsWith("DRBD_PROMOTER_START"))).toEqual([]);
    expect((await cluster.promoterEvents("n3")).at(-1)).toMatch(/^DRBD_PROMOTER_STARTED:/);
    const s3 = await status("n3");
    expect(s3).toMatchObject({ state: "active", role: "Primary", primary_on: "local", evict: null });
    // n3 promoted without its 2 s rank sleep.
    expect(s3.last).toMatchObject({ action: "start", ok: true });
    for (const n of ["n1", "n2"]) expect(await status(n)).toMatchObject({ state: "idle", primary_on: "n3", evict: null });
    expect(ms).toBeLessThan(2000);
    timings.push(`evict r0 --to n3 on 3 nodes: n3 active ${total} ms after the first evict (${stopped} ms for the three commands, n1's stop included; n3 started ${ms} ms after n1's evict returned)`);
  }, 60_000);

  /** Every node reaches every other (the probers saw the heal from both sides). */
  const healed = () => NODES.every((a) => NODES.every((b) => cluster.fsim.sim.reachable(a, b)));

  test("maintenance on: isolating the active node makes nobody act, services keep running; off: the same fault is acted on", async () => {
    for (const n of NODES) {
      const r = await promoter(n, "maintenance", "r0", "on");
      expect([n, r.code, r.err]).toEqual([n, 0, ""]);
      expect((await status(n)).maintenance).toBe(true);
    }
    const before = await eventCounts();
    const sim = cluster.fsim.sim;
    // n3 (active) loses its link: without maintenance it stops (quorum lost), n1 promotes at once.
    expect((await cluster.link("n3", "down")).code).toBe(0);
    await cluster.waitFor("n3 isolated", () => !sim.quorum("n3") && sim.mayPromote("n1"), 10_000);
    await cluster.hold(5000, () => { // > n1's sleep (0 s) + the retry interval (3 s)
      expect(cluster.active()).toEqual(["n3"]);
      expect(sim.primaries()).toEqual(["n3"]);
    });
    expect(await eventCounts()).toEqual(before);
    expect(await status("n1")).toMatchObject({ state: "idle", may_promote: true, maintenance: true, role: "Secondary" });
    expect(await status("n3")).toMatchObject({ state: "active", quorum: false, maintenance: true, role: "Primary" });
    expect((await cluster.inNode("n3", "systemctl", "is-active", "app@r0.service")).out.trim()).toBe("active");
    timings.push("maintenance on (all nodes), n3 isolated: no decision for 5 s, app@r0 kept running on n3");

    expect((await cluster.link("n3", "up")).code).toBe(0);
    // Wait for the whole mesh: in a partial heal (n3 back to n1 first) n2 may promote by DRBD's rules,
    // and turning maintenance off then rightly acts on that.
    await cluster.waitFor("n3 reconnected to all", () => healed() && sim.quorum("n3") && !sim.mayPromote("n1"), 10_000);
    for (const n of NODES) expect((await promoter(n, "maintenance", "r0", "off")).code).toBe(0);
    for (const n of NODES) expect((await status(n)).maintenance).toBe(false);
    await cluster.hold(1500, () => expect(cluster.active()).toEqual(["n3"])); // off re-reads: n3 is Primary, runs
    expect(await eventCounts()).toEqual(before);

    expect((await cluster.link("n3", "down")).code).toBe(0);
    const t0 = performance.now();
    const stop = await cluster.waitFor("n3 stopped", () => !cluster.active().includes("n3"), 20_000);
    await cluster.waitFor("n1 active", () => cluster.active().join() === "n1", 20_000);
    const ms = Math.round(performance.now() - t0);
    expect(await cluster.eventsWith("n3", "DRBD_PROMOTER_STOPPED:quorum lost")).toContain("DRBD_PROMOTER_STOPPED:quorum lost");
    expect(sim.primaries()).toEqual(["n1"]);
    timings.push(`maintenance off, n3 isolated again: n3 stopped after ${stop} ms, n1 active after ${ms} ms`);
    expect((await cluster.link("n3", "up")).code).toBe(0);
    await cluster.waitFor("n3 back", () => healed() && sim.quorum("n3"), 10_000);
    await cluster.hold(1500, () => expect(cluster.active()).toEqual(["n1"]));
  }, 90_000);

  test("maintenance off on an isolated Primary: it stops then (on-quorum-loss), and fails back after heal", async () => {
    const sim = cluster.fsim.sim;
    expect((await promoter("n1", "maintenance", "r0", "on")).code).toBe(0);
    expect((await cluster.link("n1", "down")).code).toBe(0);
    // Only n1 is in maintenance: n2 promotes after its 1 s sleep, n1 keeps running without quorum.
    const ms = await cluster.waitFor("n2 active", () => cluster.active().includes("n2"), 20_000);
    expect(cluster.active()).toEqual(["n1", "n2"]);
    expect(sim.primaries().filter((n) => sim.quorum(n))).toEqual(["n2"]);
    const t0 = performance.now();
    expect((await promoter("n1", "maintenance", "r0", "off")).code).toBe(0);
    await cluster.waitFor("n1 stopped", () => cluster.active().join() === "n2", 10_000);
    const stop = Math.round(performance.now() - t0);
    expect((await cluster.eventsWith("n1", "DRBD_PROMOTER_STOPPED:quorum lost (maintenance off)")).at(-1)).toBe("DRBD_PROMOTER_STOPPED:quorum lost (maintenance off)");
    expect(sim.role.get("n1")).toBe("Secondary");
    expect((await cluster.link("n1", "up")).code).toBe(0);
    const back = await cluster.waitFor("fail-back to n1", () => cluster.active().join() === "n1" && sim.primaries().join() === "n1", 20_000);
    timings.push(`maintenance on n1 only, n1 isolated: n2 active after ${ms} ms; maintenance off: n1 stopped after ${stop} ms; heal: n1 back after ${back} ms`);
  }, 60_000);
});
