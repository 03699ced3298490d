// The pure rules: sleep terms (drbd-reactor's disk-state table, preferred-node rank, fencing and
// freeze terms, factor) and what each kind of update decides.
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { DrbdModel, type DrbdResource, type DrbdUpdate } from "../../src/drbd/model.ts";
import { tokenizeEvents2Line } from "../../src/drbd/events2.ts";
import { PromoterSchema, resolveResource, type ResolvedResource } from "../../plugins/receiver/promoter/config.ts";
import { checkDrbdOptions, decide, preferredRank, primaryOn, sleepBeforePromote } from "../../plugins/receiver/promoter/decide.ts";
import { showJson } from "./cluster/file-sim.ts";
import { SimCluster } from "./sim.ts";

function cfg(r: Record<string, unknown> = {}): ResolvedResource {
  const c = v.parse(PromoterSchema, { resources: { r0: { start: ["a.service"], ...r } } });
  return resolveResource("r0", c.resources.r0!);
}

/** Node `n`'s model of a simulated cluster after `act`, and the updates the act produced. */
function modelOf(sim: SimCluster, n: string, act: () => void = () => undefined): { res: DrbdResource; updates: DrbdUpdate[] } {
  const model = new DrbdModel();
  for (const l of sim.dump(n)) model.apply(tokenizeEvents2Line(l)!, () => undefined);
  const updates: DrbdUpdate[] = [];
  model.subscribe((u) => void updates.push(structuredClone(u)));
  const off = sim.subscribe(n, (l) => model.apply(tokenizeEvents2Line(l)!, () => undefined));
  act();
  off();
  model.flushSubscribers(); // updates are queued per subscriber: deliver them before reading
  return { res: model.resource(sim.res)!, updates };
}

describe("sleepBeforePromote()", () => {
  const disks: [string, number][] = [
    ["UpToDate", 0], ["Consistent", 1], ["Outdated", 2], ["Inconsistent", 3], ["Diskless", 6], ["Attaching", 6],
    ["Detaching", 6], ["Failed", 6], ["Negotiating", 6], ["DUnknown", 6],
  ];
  test.each(disks)("local disk %s sleeps %i s", (disk, s) => {
    const sim = new SimCluster("r0", ["a", "b", "c"]);
    sim.disk.set("a", disk);
    const { res } = modelOf(sim, "a");
    expect(sleepBeforePromote(res, cfg(), "a", "quorum")).toEqual({
      disk_s: s, preferred_s: 0, fencing_s: 0, freeze_s: 0, factor: 1, total_ms: s * 1000,
    });
  });

  test("preferred rank, factor, freeze and fencing terms add up", () => {
    const sim = new SimCluster("r0", ["a", "b", "c"]);
    sim.disk.set("c", "Outdated");
    const { res } = modelOf(sim, "c", () => sim.cut("a", "c"));
    const c = cfg({ "preferred-nodes": ["a", "b", "c"], "sleep-before-promote-factor": 3, "on-quorum-loss": "freeze", "fencing-promote-delay": 4 });
    expect(sleepBeforePromote(res, c, "c", "quorum")).toEqual({ disk_s: 2, preferred_s: 2, fencing_s: 0, freeze_s: 2, factor: 3, total_ms: 18_000 });
    // Fencing: a peer not Connected adds fencing-promote-delay; no freeze term.
    expect(sleepBeforePromote(res, c, "c", "fencing")).toEqual({ disk_s: 2, preferred_s: 2, fencing_s: 4, freeze_s: 0, factor: 3, total_ms: 24_000 });
    expect(preferredRank(["a", "b"], "zulu")).toBe(2);
    expect(preferredRank([], "zulu")).toBe(0);
  });
});

describe("decide()", () => {
  test("may_promote becoming true promotes, becoming false cancels", () => {
    const sim = new SimCluster("r0", ["a", "b", "c"]);
    sim.primary("b");
    const { res, updates } = modelOf(sim, "a", () => sim.kill("b"));
    const resUp = updates.filter((u) => u.kind === "resource");
    expect(resUp.map((u) => decide(u, res, cfg(), "a", "quorum"))).toEqual([{ action: "promote", reason: "may_promote" }]);
    const again = modelOf(sim, "a", () => sim.primary("c"));
    expect(again.updates.filter((u) => u.kind === "resource").map((u) => decide(u, again.res, cfg(), "a", "quorum")))
      .toEqual([{ action: "cancel", reason: "may_promote lost" }]);
  });

  test("quorum loss stops (shutdown) or freezes (freeze); regain thaws a Primary under freeze only", () => {
    const sim = new SimCluster("r0", ["a", "b", "c"]);
    sim.primary("a");
    const lost = modelOf(sim, "a", () => sim.isolate("a"));
    const dev = lost.updates.filter((u) => u.kind === "device");
    expect(dev.map((u) => decide(u, lost.res, cfg(), "a", "quorum"))).toEqual([{ action: "stop", reason: "quorum lost" }]);
    expect(dev.map((u) => decide(u, lost.res, cfg({ "on-quorum-loss": "freeze" }), "a", "quorum"))).toEqual([{ action: "freeze", reason: "quorum lost" }]);
    // Fencing mode ignores quorum.
    expect(dev.map((u) => decide(u, lost.res, cfg(), "a", "fencing"))).toEqual([{ action: "none" }]);
    const back = modelOf(sim, "a", () => sim.heal());
    const dev2 = back.updates.filter((u) => u.kind === "device");
    expect(dev2.map((u) => decide(u, back.res, cfg({ "on-quorum-loss": "freeze" }), "a", "quorum"))).toEqual([{ action: "thaw", reason: "quorum regained" }]);
    expect(dev2.map((u) => decide(u, back.res, cfg(), "a", "quorum"))).toEqual([{ action: "none" }]);
  });

  test("the initial dump (Exists) is a state: no thaw, no fail-back, but may_promote promotes", () => {
    const sim = new SimCluster("r0", ["a", "b", "c"]);
    sim.primary("b");
    const model = new DrbdModel();
    const updates: DrbdUpdate[] = [];
    model.subscribe((u) => void updates.push(structuredClone(u)));
    for (const l of sim.dump("b")) model.apply(tokenizeEvents2Line(l)!, () => undefined);
    model.flushSubscribers();
    const c = cfg({ "on-quorum-loss": "freeze", "preferred-nodes": ["a", "b"] });
    expect(updates.map((u) => u.eventType)).toContain("Exists");
    expect(updates.map((u) => decide(u, model.resource("r0")!, c, "b", "quorum")).filter((d) => d.action !== "none")).toEqual([]);
    const a = modelOf(new SimCluster("r0", ["a", "b", "c"]), "a");
    expect(a.res.mayPromote).toBe(true);
  });

  test("a Primary forced to Secondary while frozen stops", () => {
    const sim = new SimCluster("r0", ["a", "b", "c"]);
    sim.primary("a");
    sim.isolate("a");
    sim.primary("b");
    const { res, updates } = modelOf(sim, "a", () => sim.heal());
    const r = updates.filter((u) => u.kind === "resource");
    expect(r.map((u) => decide(u, res, cfg({ "on-quorum-loss": "freeze" }), "a", "quorum")))
      .toContainEqual({ action: "stop", reason: "forced to Secondary while frozen" });
    expect(r.map((u) => decide(u, res, cfg(), "a", "quorum"))).not.toContainEqual(expect.objectContaining({ action: "stop" }));
  });

  test("disk detach on a Primary fails over only with fail-over and an UpToDate peer", () => {
    const sim = new SimCluster("r0", ["a", "b", "c"]);
    sim.primary("a");
    const { res, updates } = modelOf(sim, "a", () => sim.setDisk("a", "Diskless"));
    const dev = updates.filter((u) => u.kind === "device");
    expect(dev.map((u) => decide(u, res, cfg({ "on-disk-detach": "fail-over" }), "a", "quorum")))
      .toEqual([{ action: "stop", reason: "local disk detached, b is UpToDate" }]);
    expect(dev.map((u) => decide(u, res, cfg(), "a", "quorum"))).toEqual([{ action: "none" }]);
    // A Secondary losing its disk does nothing.
    const sec = modelOf(sim, "b", () => sim.setDisk("b", "Diskless"));
    expect(sec.updates.filter((u) => u.kind === "device").map((u) => decide(u, sec.res, cfg({ "on-disk-detach": "fail-over" }), "b", "quorum")))
      .toEqual([{ action: "none" }]);
  });

  test("a more preferred peer becoming UpToDate makes the Primary stop under policy always only", () => {
    const sim = new SimCluster("r0", ["a", "b", "c"]);
    sim.kill("a");
    sim.primary("b");
    const { res, updates } = modelOf(sim, "b", () => sim.boot("a"));
    const pd = updates.filter((u) => u.kind === "peer-device");
    const pref = { "preferred-nodes": ["a", "b", "c"] };
    expect(pd.map((u) => decide(u, res, cfg(pref), "b", "quorum"))).toEqual([{ action: "stop", reason: "more preferred node a is UpToDate (fail back)" }]);
    expect(pd.map((u) => decide(u, res, cfg({ ...pref, "preferred-nodes-policy": "start-only" }), "b", "quorum"))).toEqual([{ action: "none" }]);
    // A less preferred peer does not.
    expect(pd.map((u) => decide(u, res, cfg({ "preferred-nodes": ["b", "a"] }), "b", "quorum"))).toEqual([{ action: "none" }]);
    expect(primaryOn(res)).toBe("local");
  });
});

describe("SimCluster (the test's DRBD)", () => {
  test("primary is refused with DRBD's messages: peer Primary, no quorum, Primary behind a peer", () => {
    const sim = new SimCluster("r0", ["a", "b", "c"]);
    expect(sim.primary("a")).toEqual({ code: 0, stderr: "" });
    expect(sim.primary("b")).toEqual({ code: 11, stderr: "r0: State change failed: (-1) Multiple primaries not allowed by config\n" });
    sim.cut("a", "b");
    // b reaches c, c reaches a (the Primary): c declines.
    expect(sim.primary("b")).toEqual({ code: 11, stderr: "r0: State change failed: (-10) State change was refused by peer node\n" });
    sim.isolate("c");
    expect(sim.primary("c")).toEqual({ code: 11, stderr: "r0: State change failed: (-25) No quorum\n" });
    expect(sim.doublePrimary).toEqual([]);
  });
});

describe("checkDrbdOptions()", () => {
  const shown = () => showJson(new SimCluster("r0", ["a", "b", "c"])) as Parameters<typeof checkDrbdOptions>[0];

  test("a resource set up as documented: quorum, no warnings", () => {
    expect(checkDrbdOptions(shown(), cfg(), true)).toEqual({ policy: "quorum", warnings: [] });
  });

  test("freeze wants suspend-io, retry-connect and cgroup v2", () => {
    expect(checkDrbdOptions(shown(), cfg({ "on-quorum-loss": "freeze" }), false).warnings).toEqual([
      "DRBD option on-no-quorum should be suspend-io, but is io-error",
      "DRBD option on-no-data-accessible should be suspend-io, but is io-error",
      "DRBD option rr-conflict should be retry-connect, but is disconnect",
      "DRBD option rr-conflict should be retry-connect, but is disconnect",
      "on-quorum-loss = \"freeze\" needs unified cgroups (cgroup v2): freezing will fail here",
    ]);
  });

  test("quorum off means fencing; without a fencing policy the resource is refused", () => {
    const s = shown();
    s.options = { ...s.options, quorum: "off", "auto-promote": true };
    expect(checkDrbdOptions(s, cfg(), true)).toEqual({
      policy: "fencing", warnings: [],
      error: "quorum is off and fencing is dont-care: no split-brain avoidance, the promoter leaves this resource alone",
    });
    s.connections = [{ net: { fencing: "resource-and-stonith" } }];
    expect(checkDrbdOptions(s, cfg(), true)).toEqual({ policy: "fencing", warnings: ["DRBD option auto-promote should be no, but is yes"] });
  });
});
