// Three simulated nodes, each with its own DRBD model and promoter, on a fake clock: who runs the
// services after cold start, node death, isolation, heal, disk loss, evict, maintenance, disable,
// daemon stop; failover times are measured in fake-clock milliseconds.
import { afterEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { DrbdModel } from "../../src/drbd/model.ts";
import { tokenizeEvents2Line } from "../../src/drbd/events2.ts";
import type { EventDraft, Logger } from "../../src/plugin-api.ts";
import { PromoterSchema } from "../../plugins/receiver/promoter/config.ts";
import { PromoterController, PromoterHub } from "../../plugins/receiver/promoter/controller.ts";
import { FakeClock, SimHarness, SimRunner, settle } from "./harness.ts";
import { SimCluster } from "./sim.ts";

const NODES = ["alpha", "bravo", "charlie"];
let h: SimHarness;

function opts(r: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  return { resources: { r0: { start: ["app.service"], ...r } }, ...top };
}

async function cluster(r: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Promise<SimHarness> {
  h = new SimHarness(new SimCluster("r0", NODES));
  await h.startAll(opts(r, top));
  return h;
}

afterEach(async () => {
  await h?.stopAll();
  expect(h.sim.doublePrimary).toEqual([]);
});

/** Kills a node with its daemon (the services die with it). */
async function kill(name: string): Promise<void> {
  const n = h.node(name);
  await n.stop();
  n.runner.running = false;
  h.sim.kill(name);
  await settle();
}

async function boot(name: string, r: Record<string, unknown> = {}): Promise<void> {
  h.sim.boot(name);
  await h.node(name).start(opts(r));
  await settle();
}

describe("promoter on a simulated three-node cluster", () => {
  test("cold start: exactly one node runs the stack, the most preferred one", async () => {
    await cluster({ "preferred-nodes": ["bravo", "alpha", "charlie"] });
    expect(await h.until(() => h.active().length > 0, 10_000)).toBe(0); // bravo sleeps 0 ms
    await h.clock.advance(5000);
    expect(h.active()).toEqual(["bravo"]);
    expect(h.node("bravo").types()).toEqual(["DRBD_PROMOTER_STARTING:may_promote", "DRBD_PROMOTER_STARTED:may_promote"]);
    // The others slept (1 s, 2 s) and gave up when bravo's promotion took may_promote away.
    expect(h.node("alpha").types()).toEqual(["DRBD_PROMOTER_STARTING:may_promote"]);
    expect(h.node("alpha").events[0]!.extension).toMatchObject({ delay_ms: 1000, sleep: { preferred_s: 1 } });
    expect(h.node("charlie").events[0]!.extension).toMatchObject({ delay_ms: 2000 });
    expect(h.node("alpha").runner.calls).toEqual([]);
  });

  test("cold start without preferences: one winner, the others never start", async () => {
    await cluster();
    await h.clock.advance(3000);
    expect(h.active()).toHaveLength(1);
    const starts = h.nodes.flatMap((n) => n.runner.calls.filter((c) => c === "start"));
    expect(starts.length).toBeGreaterThanOrEqual(1);
  });

  test("kill the active node: the next preferred node takes over within its computed delay", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"] });
    await h.clock.advance(1000);
    expect(h.active()).toEqual(["alpha"]);
    await kill("alpha");
    const ms = await h.until(() => h.active().length > 0, 10_000, 50);
    expect(h.active()).toEqual(["bravo"]);
    expect(ms).toBe(1000); // bravo: rank 1 x 1 s, disk UpToDate 0
    const starting = h.node("bravo").events.find((e) => e.event_type === "DRBD_PROMOTER_STARTING")!;
    expect(starting.extension).toMatchObject({ delay_ms: 1000 });
    console.log(`failover after kill: ${ms} ms (computed delay 1000 ms)`);
  });

  test("isolate the active node (shutdown): it stops, the majority promotes; heal keeps one Primary", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"] });
    await h.clock.advance(1000);
    h.sim.isolate("alpha");
    await settle();
    expect(h.node("alpha").runner.running).toBe(false);
    expect(h.node("alpha").types()).toContain("DRBD_PROMOTER_STOPPED:quorum lost");
    const ms = await h.until(() => h.active().length > 0, 10_000, 50);
    expect(h.active()).toEqual(["bravo"]);
    console.log(`failover after isolation (shutdown): ${ms} ms`);
    h.sim.heal();
    // Under policy always, alpha (more preferred) coming back UpToDate makes bravo hand over.
    for (let i = 0; i < 40; i++) {
      await h.clock.advance(100);
      expect(h.sim.primaries().length).toBeLessThanOrEqual(1);
    }
    expect(h.active()).toEqual(["alpha"]);
    expect(h.node("bravo").types()).toContain("DRBD_PROMOTER_STOPPED:more preferred node alpha is UpToDate (fail back)");
  });

  test("a partial heal (alpha reaches charlie before bravo): the refused start does not swallow the fail-back", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"] }, { "retry-interval": "30s" });
    await h.clock.advance(1000);
    h.sim.isolate("alpha");
    await h.clock.advance(2000);
    expect(h.active()).toEqual(["bravo"]);
    // alpha <-> charlie back first: alpha has quorum and no Primary in sight, tries, charlie declines;
    // its `systemctl start` returns 300 ms later, and the full heal comes within that time.
    h.node("alpha").runner.failLatencyMs = 300;
    h.sim.setCuts(["alpha|bravo"]);
    await h.clock.advance(100);
    h.sim.heal();
    await h.clock.advance(400);
    expect(h.node("alpha").types()).toContain("DRBD_PROMOTER_FAILED:may_promote");
    expect(h.node("alpha").events.find((e) => e.event_type === "DRBD_PROMOTER_FAILED")!.extension).toMatchObject({
      error: "drbd-promote@ condition failed: r0: State change failed: (-10) State change was refused by peer node",
    });
    const ms = await h.until(() => h.active()[0] === "alpha", 5000, 50);
    expect(ms).toBeLessThan(1000); // not the 30 s retry
    expect(h.active()).toEqual(["alpha"]);
  });

  test("policy start-only: no fail-back after heal", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"], "preferred-nodes-policy": "start-only" });
    await h.clock.advance(1000);
    await kill("alpha");
    await h.clock.advance(3000);
    expect(h.active()).toEqual(["bravo"]);
    await boot("alpha", { "preferred-nodes": ["alpha", "bravo", "charlie"], "preferred-nodes-policy": "start-only" });
    await h.clock.advance(10_000);
    expect(h.active()).toEqual(["bravo"]);
  });

  test("isolate the active node (freeze): it freezes, the majority promotes, heal stops the frozen one", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"], "on-quorum-loss": "freeze" });
    await h.clock.advance(2500); // Secondaries add the freeze term (2 s) at cold start too
    expect(h.active()).toEqual(["alpha"]);
    h.sim.isolate("alpha");
    await settle();
    expect(h.node("alpha").runner.frozen).toBe(true);
    expect(h.node("alpha").types()).toContain("DRBD_PROMOTER_FROZEN:quorum lost");
    const ms = await h.until(() => h.active().includes("bravo"), 10_000, 50);
    expect(ms).toBe(3000); // rank 1 s + freeze term 2 s
    console.log(`failover after isolation (freeze): ${ms} ms`);
    h.sim.heal();
    await settle();
    expect(h.node("alpha").types()).toContain("DRBD_PROMOTER_STOPPED:forced to Secondary while frozen");
    expect(h.node("alpha").runner.running).toBe(false);
  });

  test("freeze, then quorum back before anyone promoted: the Primary thaws", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"], "on-quorum-loss": "freeze" });
    await h.clock.advance(2500); // Secondaries add the freeze term (2 s) at cold start too
    expect(h.active()).toEqual(["alpha"]);
    h.sim.isolate("alpha");
    await h.clock.advance(1500); // bravo would need 3 s
    h.sim.heal();
    await h.clock.advance(5000);
    expect(h.active()).toEqual(["alpha"]);
    expect(h.node("alpha").runner.frozen).toBe(false);
    expect(h.node("alpha").types().slice(-2)).toEqual(["DRBD_PROMOTER_FROZEN:quorum lost", "DRBD_PROMOTER_STARTED:quorum regained"]);
    expect(h.node("bravo").runner.calls).toEqual([]);
  });

  test("on-disk-detach = fail-over: the Primary that lost its disk hands over", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"], "on-disk-detach": "fail-over" });
    await h.clock.advance(1000);
    h.sim.setDisk("alpha", "Diskless");
    await settle();
    expect(h.node("alpha").types()).toContain("DRBD_PROMOTER_STOPPED:local disk detached, bravo is UpToDate");
    await h.clock.advance(2000);
    expect(h.active()).toEqual(["bravo"]);
  });

  test("evict --to charlie (issued on every node): the stack moves to charlie, not to bravo", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"] });
    await h.clock.advance(1000);
    const results = await Promise.all(h.nodes.map((n) => n.controller!.engine("r0").evict("charlie")));
    expect(results.every((r) => r.ok)).toBe(true);
    const ms = await h.until(() => h.active().length > 0, 10_000, 50);
    expect(h.active()).toEqual(["charlie"]);
    expect(ms).toBe(0);
    expect(h.node("charlie").events.at(-2)!.extension).toMatchObject({ favoured: true, delay_ms: 0 });
    // The hold ends once charlie is Primary: bravo and alpha are free again (would take over if charlie died).
    expect(h.node("bravo").controller!.engine("r0").status().evict).toBeNull();
  });

  test("evict without --to: the node steps down and stays out for the hold time", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"] }, { "evict-hold": "30s" });
    await h.clock.advance(1000);
    const r = await h.node("alpha").controller!.engine("r0").evict();
    expect(r.message).toContain("stopped here");
    await h.clock.advance(1500);
    expect(h.active()).toEqual(["bravo"]);
  });

  test("a stack stopped outside the promoter (drbd-reactorctl evict: runtime mask, systemctl stop) is taken back at the next chance", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"] });
    await h.clock.advance(1000);
    expect(h.active()).toEqual(["alpha"]);
    // What `drbd-reactorctl evict` does: mask the target (starts fail), stop it.
    const evictOutside = async (name: string) => {
      const runner = h.node(name).runner;
      const start = runner.start.bind(runner);
      runner.start = async () => {
        runner.calls.push("start");
        throw new Error("Unit drbd-services@r0.target is masked.");
      };
      await runner.stop({ "secondary-force": true } as never);
      await settle();
      return () => void (runner.start = start); // unmask
    };
    const unmaskAlpha = await evictOutside("alpha");
    await h.clock.advance(3000);
    expect(h.active()).toEqual(["bravo"]);
    unmaskAlpha();
    await evictOutside("bravo");
    // alpha, the most preferred, takes over after its own sleep, not a retry-interval (20 s) later.
    const ms = await h.until(() => h.active().length > 0, 5000, 50);
    expect(h.active()).toEqual(["alpha"]);
    expect(ms).toBeLessThan(2000);
  });

  test("maintenance: no decisions while set, the services keep running; off resumes", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"] });
    await h.clock.advance(1000);
    const a = h.node("alpha");
    a.controller!.engine("r0").setMaintenance(true);
    const before = a.events.length;
    h.sim.isolate("alpha");
    await h.clock.advance(5000);
    expect(a.runner.running).toBe(true); // not stopped despite quorum loss
    expect(a.events.length).toBe(before);
    expect(a.controller!.engine("r0").status()).toMatchObject({ maintenance: true, quorum: false });
    h.sim.heal();
    await settle();
    a.controller!.engine("r0").setMaintenance(false);
    await settle();
    expect(a.controller!.engine("r0").status().maintenance).toBe(false);
  });

  /** alpha runs r0, goes into maintenance and is isolated: bravo (no maintenance there) promotes
   * after its sleep, alpha keeps running without quorum. */
  async function isolatedInMaintenance() {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"] });
    await h.clock.advance(1000);
    const a = h.node("alpha");
    a.controller!.engine("r0").setMaintenance(true);
    h.sim.isolate("alpha");
    await h.clock.advance(5000);
    expect(h.active()).toEqual(["alpha", "bravo"]);
    return a;
  }

  test("maintenance off re-reads the state: a Primary that lost quorum meanwhile stops, as on-quorum-loss says", async () => {
    const a = await isolatedInMaintenance();
    a.controller!.engine("r0").setMaintenance(false);
    await h.clock.advance(100);
    expect(a.runner.running).toBe(false);
    expect(a.types().at(-1)).toBe("DRBD_PROMOTER_STOPPED:quorum lost (maintenance off)");
    expect(h.active()).toEqual(["bravo"]);
  });

  test("maintenance off re-reads the state: services left running on a node forced to Secondary stop", async () => {
    const a = await isolatedInMaintenance();
    h.sim.heal(); // bravo promoted later: alpha is forced to Secondary, its services still run
    await h.clock.advance(100);
    expect(h.sim.role.get("alpha")).toBe("Secondary");
    expect(a.runner.running).toBe(true);
    a.controller!.engine("r0").setMaintenance(false);
    // bravo stepped back for alpha (policy always) while alpha was in maintenance: alpha stops what
    // ran on its Secondary, then promotes (rank 0, no sleep).
    await h.clock.advance(1000);
    expect(h.active()).toEqual(["alpha"]);
    expect(a.types().slice(-3)).toEqual([
      "DRBD_PROMOTER_STOPPED:not Primary (maintenance off)", "DRBD_PROMOTER_STARTING:may_promote at start", "DRBD_PROMOTER_STARTED:may_promote at start",
    ]);
  });

  test("disable --now stops here and keeps this node out; enable lets it promote again", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"] });
    await h.clock.advance(1000);
    await h.node("alpha").controller!.engine("r0").disable(true);
    await h.clock.advance(1500);
    expect(h.active()).toEqual(["bravo"]);
    await kill("bravo");
    await kill("charlie");
    h.sim.boot("charlie");
    await h.node("charlie").start(opts({ "preferred-nodes": ["alpha", "bravo", "charlie"] }));
    await h.clock.advance(1000);
    // charlie (rank 2) sleeps 2 s; alpha is disabled and never starts.
    await h.clock.advance(1500);
    expect(h.active()).toEqual(["charlie"]);
    expect(h.node("alpha").runner.calls.filter((c) => c === "start")).toEqual(["start"]);
    h.node("alpha").controller!.engine("r0").enable();
    expect(h.node("alpha").controller!.engine("r0").status().disabled).toBe(false);
  });

  test("stop-services-on-exit: stopping the daemon stops the services and another node takes over", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"], "stop-services-on-exit": true });
    await h.clock.advance(1000);
    await h.node("alpha").stop();
    expect(h.node("alpha").runner.running).toBe(false);
    expect(h.node("alpha").types().at(-1)).toBe("DRBD_PROMOTER_STOPPED:stop-services-on-exit");
    await h.clock.advance(1500);
    expect(h.active()).toEqual(["bravo"]);
  });

  test("without stop-services-on-exit the services outlive the daemon", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"] });
    await h.clock.advance(1000);
    await h.node("alpha").stop();
    expect(h.node("alpha").runner.running).toBe(true);
    await h.clock.advance(5000);
    expect(h.active()).toEqual(["alpha"]);
  });

  test("fencing (quorum off): the survivor waits fencing-promote-delay for the dead peer to be fenced", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"], "fencing-promote-delay": 3 });
    for (const n of h.nodes) n.controller!.engine("r0").policy = "fencing";
    await h.clock.advance(1000);
    expect(h.active()).toEqual(["alpha"]);
    await kill("alpha");
    const ms = await h.until(() => h.active().length > 0, 10_000, 50);
    expect([h.active(), ms]).toEqual([["bravo"], 4000]); // rank 1 s + fencing 3 s
  });

  test("a refused resource (no split-brain avoidance) is never started", async () => {
    h = new SimHarness(new SimCluster("r0", NODES));
    const alpha = h.node("alpha");
    await alpha.start(opts());
    alpha.controller!.engine("r0").refuse("quorum is off and fencing is dont-care");
    await h.clock.advance(30_000);
    expect(alpha.runner.calls).toEqual([]);
    expect(alpha.controller!.engine("r0").status().refused).toBe("quorum is off and fencing is dont-care");
    expect(alpha.types()).toContain("DRBD_PROMOTER_FAILED:quorum is off and fencing is dont-care");
  });

  test("a daemon restart on the Primary adopts running services; missing ones are started again", async () => {
    await cluster({ "preferred-nodes": ["alpha", "bravo", "charlie"] });
    await h.clock.advance(1000);
    const alpha = h.node("alpha");
    await alpha.stop();
    alpha.runner.calls.length = 0;
    await alpha.start(opts({ "preferred-nodes": ["alpha", "bravo", "charlie"] }));
    await h.clock.advance(100);
    expect(alpha.runner.calls).toEqual([]);
    expect(alpha.controller!.engine("r0").status().state).toBe("active");
    // The services died while the daemon was down: the Primary gets them back.
    await alpha.stop();
    alpha.runner.running = false;
    await alpha.start(opts({ "preferred-nodes": ["alpha", "bravo", "charlie"] }));
    await h.clock.advance(100);
    expect(alpha.runner.calls).toEqual(["start"]);
    expect(h.active()).toEqual(["alpha"]);
    expect(alpha.types().at(-1)).toBe("DRBD_PROMOTER_STARTED:Primary, services not running");
  });

  test("a failed start is stopped again and retried every retry-interval while may_promote holds", async () => {
    h = new SimHarness(new SimCluster("r0", NODES));
    const alpha = h.node("alpha");
    let fail = 1;
    const orig = alpha.runner.start.bind(alpha.runner);
    alpha.runner.start = async (r) => {
      if (fail-- > 0) {
        alpha.runner.calls.push("start");
        throw new Error("app.service: start request repeated too quickly");
      }
      return orig(r);
    };
    await alpha.start(opts({}, { "retry-interval": "5s" }));
    await settle();
    await h.clock.advance(100);
    expect(alpha.types()).toEqual([
      "DRBD_PROMOTER_STARTING:may_promote", "DRBD_PROMOTER_FAILED:may_promote",
    ]);
    expect(alpha.events[1]!.extension).toMatchObject({ action: "start", error: "app.service: start request repeated too quickly" });
    await h.clock.advance(5000);
    expect(alpha.runner.calls).toEqual(["start", "stop", "start"]);
    expect(h.active()).toEqual(["alpha"]);
    expect(alpha.types().slice(-2)).toEqual(["DRBD_PROMOTER_STARTING:may_promote holds, target not active", "DRBD_PROMOTER_STARTED:may_promote holds, target not active"]);
  });
});

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, once() {} };

/** Two simulated resources seen by one node (alpha), one model, one SimRunner each. */
function twoResources(a: string, b: string) {
  const clock = new FakeClock();
  const sims = [new SimCluster(a, NODES, 1000), new SimCluster(b, NODES, 1001)] as const;
  const model = new DrbdModel();
  const feed = (l: string) => model.apply(tokenizeEvents2Line(l)!, () => undefined);
  const runners = [new SimRunner(sims[0], "alpha", clock), new SimRunner(sims[1], "alpha", clock)] as const;
  /** The initial dump of both, then their changes. */
  const connect = () => {
    for (const l of [...sims[0].dump("alpha").slice(0, -1), ...sims[1].dump("alpha")]) feed(l);
    for (const s of sims) s.subscribe("alpha", feed);
  };
  return { clock, sims, model, runners, connect };
}

describe("independence and reload", () => {
  test("a slow start of one resource does not delay another resource's decisions", async () => {
    const { clock, sims: [, fast], model, runners: [slowRunner, fastRunner], connect } = twoResources("slow", "fast");
    const runners = { slow: slowRunner, fast: fastRunner };
    runners.slow.startDelayMs = 60_000;
    const events: EventDraft[] = [];
    const cfg = v.parse(PromoterSchema, {
      "node-name": "alpha", resources: { slow: { start: ["slow.service"] }, fast: { start: ["fast.service"] } },
    });
    const c = new PromoterController(cfg, {
      model, emit: (d) => void events.push(d), log: quiet, clock, dryRun: true,
      runnerFor: (r) => runners[r.name as "slow" | "fast"],
    });
    await c.open();
    connect();
    await clock.advance(100);
    expect(runners.fast.running).toBe(true);
    expect(runners.slow.running).toBe(false);
    expect(events.filter((e) => e.event_type === "DRBD_PROMOTER_STARTED").map((e) => (e.extension as { resource: string }).resource)).toEqual(["fast"]);
    // While slow's start is still running, fast loses quorum and is stopped at once.
    fast.isolate("alpha");
    await settle();
    expect(runners.fast.running).toBe(false);
    expect(runners.slow.running).toBe(false);
    await clock.advance(60_000);
    expect(runners.slow.running).toBe(true);
    await c.close();
  });

  test("replacing one [[promoter]] (a reload) leaves the other instance's services untouched", async () => {
    const { clock, model, runners: [r1, r2], connect } = twoResources("r1", "r2");
    const hub = new PromoterHub();
    const make = (res: string, runner: SimRunner, extra: Record<string, unknown> = {}) => {
      const cfg = v.parse(PromoterSchema, { "node-name": "alpha", resources: { [res]: { start: [`${res}.service`], ...extra } } });
      const c = new PromoterController(cfg, { model, emit: () => undefined, log: quiet, clock, dryRun: true, runnerFor: () => runner });
      hub.add(c);
      return c;
    };
    const c1 = make("r1", r1);
    const c2 = make("r2", r2);
    await c1.open();
    await c2.open();
    connect();
    await clock.advance(100);
    expect([r1.running, r2.running]).toEqual([true, true]);
    const r2calls = [...r2.calls];
    // Reload: instance 1 changed (a new preferred list), instance 2 kept as is.
    hub.remove(c1);
    await c1.close();
    const c1b = make("r1", r1, { "preferred-nodes": ["alpha", "bravo"] });
    await c1b.open();
    await clock.advance(30_000);
    expect(r2.calls).toEqual(r2calls);
    expect([r1.running, r2.running]).toEqual([true, true]);
    expect(r1.calls.filter((x) => x === "stop")).toEqual([]);
    const st = await hub.status();
    expect(st.map((s) => [s.resource, s.state, s.role])).toEqual([["r1", "active", "Primary"], ["r2", "active", "Primary"]]);
    await c1b.close();
    await c2.close();
  });
});
