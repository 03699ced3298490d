// A promoter across a reload: a resource whose start list did not change keeps its services running
// (no stop, no start, its Before= drop-in stays) even with stop-services-on-exit; a change of one
// [[promoter]] leaves another's resource untouched; a changed start list does stop the old stack.
// In-process nodes (harness.ts) for the decisions, then the plugin through Pipeline.apply() with
// the fake systemctl for the units and drop-ins.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { DrbdModel } from "../../src/drbd/model.ts";
import { tokenizeEvents2Line } from "../../src/drbd/events2.ts";
import type { Logger } from "../../src/plugin-api.ts";
import { PromoterSchema } from "../../plugins/receiver/promoter/config.ts";
import { PromoterController, PromoterHub } from "../../plugins/receiver/promoter/controller.ts";
import plugins from "../../plugins/all.ts";
import { Registry } from "../../src/registry.ts";
import { loadConfig } from "../../src/config/load.ts";
import { Pipeline } from "../../src/pipeline.ts";
import { RootLog } from "../../src/util/log.ts";
import { ServiceMap } from "../../src/util/services.ts";
import { createDeviceDirectory } from "../../src/devices/index.ts";
import { FakeClock, SimRunner } from "./harness.ts";
import { SimCluster } from "./sim.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, once() {} };
const tmp = mkdtempSync(join(tmpdir(), "core-life-promoter-reload-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("promoter reload (in-process nodes)", () => {
  test("an unchanged start list hands running services over; a changed one stops them (stop-services-on-exit)", async () => {
    const clock = new FakeClock();
    const sim = new SimCluster("r1", ["alpha", "bravo", "charlie"], 1000);
    const model = new DrbdModel();
    const runner = new SimRunner(sim, "alpha", clock);
    const hub = new PromoterHub();
    // As the plugin does: every built controller is announced, before the old one closes.
    const make = (extra: Record<string, unknown>, start = ["r1.service"]) => {
      const cfg = v.parse(PromoterSchema, { "node-name": "alpha", resources: { r1: { start, "stop-services-on-exit": true, ...extra } } });
      const c: PromoterController = new PromoterController(cfg, {
        model, emit: () => undefined, log: quiet, clock, dryRun: true, runnerFor: () => runner,
        handsOver: (r) => hub.handsOver(c, r),
      });
      hub.announce(c);
      return c;
    };
    const replace = async (old: PromoterController, next: PromoterController) => {
      await old.close();
      hub.withdraw(old);
      await next.open();
      await clock.advance(30_000);
    };
    const c1 = make({});
    await c1.open();
    for (const l of sim.dump("alpha")) model.apply(tokenizeEvents2Line(l)!, () => undefined);
    sim.subscribe("alpha", (l) => void model.apply(tokenizeEvents2Line(l)!, () => undefined));
    await clock.advance(100);
    expect(runner.running).toBe(true);
    expect(runner.calls).toEqual(["start"]);

    const c2 = make({ "preferred-nodes": ["alpha", "bravo"] });
    await replace(c1, c2);
    expect(runner.calls).toEqual(["start"]); // neither stopped nor started again
    expect(runner.running).toBe(true);
    expect(sim.role.get("alpha")).toBe("Primary");
    expect(c2.statusSync().map((s) => s.state)).toEqual(["active"]);

    const c3 = make({}, ["r1.service", "r1-extra.service"]);
    await replace(c2, c3);
    expect(runner.calls.slice(0, 2)).toEqual(["start", "stop"]); // the old stack went down with its instance
    await c3.close();
  });
});

describe("promoter reload (plugin, Pipeline.apply, fake systemctl)", () => {
  const testdata = join(import.meta.dir, "../../plugins/receiver/promoter/testdata");
  const registry = new Registry(plugins);
  const units = join(tmp, "units");
  const log = join(tmp, "systemctl.log");
  const promoter = (res: string, start: string[], extra = "") => `[[promoter]]
node-name = "alpha"
unit-dir = "${units}"
systemctl = "${join(testdata, "systemctl")}"
drbdsetup = "/bin/false"
drbdadm = "/bin/true"
[promoter.resources.${res}]
start = ${JSON.stringify(start)}
stop-services-on-exit = true
${extra}
`;
  const config = (body: string) =>
    loadConfig({ registry, text: `[main]\nhostname = "alpha"\nstate_dir = "${tmp}"\n${body}`, path: "promoter-reload.toml", validate: false });
  const calls = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : []);
  const dropIn = (res: string) => join(units, `drbd-services@${res}.target.d`, "reactor-50-before.conf");

  test("changing one [[promoter]] keeps its running services and leaves the other resource untouched", async () => {
    process.env.FAKE_SYSTEMCTL_LOG = log;
    process.env.FAKE_SYSTEMCTL_STATE = "active";
    const p = new Pipeline({
      registry, log: new RootLog({ write: () => undefined }), devices: createDeviceDirectory(), services: new ServiceMap(),
      native: null, mode: "daemon",
    });
    // Both resources are Primary here with their services running (a daemon restart found them so).
    for (const res of ["r0", "r1"]) {
      for (const l of [
        `exists resource name:${res} role:Primary suspended:no force-io-failures:no write-ordering:flush may_promote:no promotion_score:10101`,
        `exists device name:${res} volume:0 minor:${res === "r0" ? 1000 : 1001} backing_dev:/dev/vg0/${res} disk:UpToDate client:no open:yes quorum:yes size:1048576 read:0 written:0 al-writes:0 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no`,
      ]) p.drbd.apply(tokenizeEvents2Line(l)!, () => undefined);
    }
    p.drbd.apply(tokenizeEvents2Line("exists -")!, () => undefined);
    const r1 = promoter("r1", ["b.service"]);
    await p.apply(config(promoter("r0", ["a.service"]) + r1));
    await Bun.sleep(300);
    expect(existsSync(dropIn("r0")) && existsSync(dropIn("r1"))).toBe(true);
    const before = calls().length;

    const res = await p.apply(config(promoter("r0", ["a.service"], `preferred-nodes = ["alpha", "bravo"]`) + r1));
    expect(res.failed).toEqual([]);
    expect(res.started).toEqual(["promoter[0]"]);
    expect(res.kept).toContain("promoter[1]");
    await Bun.sleep(300);
    const after = calls().slice(before);
    expect(after.filter((c) => /^(stop|start|restart|reset-failed)\b/.test(c))).toEqual([]);
    expect(after.filter((c) => c.includes("r1"))).toEqual([]);
    expect(existsSync(dropIn("r0"))).toBe(true);
    expect(existsSync(dropIn("r1"))).toBe(true);
    const st = p.instances().find((i) => i.name === "promoter[0]")!.extra as { resources: { state: string }[] };
    expect(st.resources.map((r) => r.state)).toEqual(["active"]);

    // A changed start list is another stack: the old one stops (stop-services-on-exit), r1 still untouched.
    const mark = calls().length;
    await p.apply(config(promoter("r0", ["a.service", "c.service"]) + r1));
    await Bun.sleep(300);
    const changed = calls().slice(mark);
    expect(changed).toContain("stop drbd-services@r0.target drbd-promote@r0.service");
    expect(changed.filter((c) => c.includes("r1"))).toEqual([]);
    // Shutdown is no reload: every instance stops its own stack (stop-services-on-exit).
    const down = calls().length;
    await p.stop(2000);
    expect(calls().slice(down)).toContain("stop drbd-services@r1.target drbd-promote@r1.service");
    expect(existsSync(dropIn("r1"))).toBe(false);
  });
});
