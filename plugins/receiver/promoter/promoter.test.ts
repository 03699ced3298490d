// The promoter plugin through definePlugin's create(): a drbd-reactor config from testdata/ writes
// exactly the expected units (testdata/CASE/expected/) under unit-dir, daemon-reloads, registers
// the "promoter" service, follows the DRBD model (start via systemctl), and on close with
// stop-services-on-exit removes the Before= drop-in and stops the target and the promote unit.
import { DRBD_MODEL_SERVICE } from "../../../src/plugin-kit/drbd.ts";
import { PROMOTER_SERVICE } from "../../../src/plugin-kit/services.ts";
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import * as v from "valibot";
import { parse } from "smol-toml";
import plugin from "./index.ts";
import { makeContext } from "../../../test/helpers/context.ts";
import { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import { tokenizeEvents2Line } from "../../../src/plugin-kit/drbd.ts";
import type { PromoterHub } from "./controller.ts";

const testdata = join(import.meta.dir, "testdata");
const cleanup: string[] = [];
afterEach(() => {
  for (const d of cleanup.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await Bun.sleep(10);
  }
}

function setup(caseName: string, extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "promoter-plugin-"));
  cleanup.push(dir);
  const log = join(dir, "systemctl.log");
  process.env.FAKE_SYSTEMCTL_LOG = log;
  process.env.FAKE_SYSTEMCTL_STATE = "inactive";
  const doc = parse(readFileSync(join(testdata, caseName, "config.toml"), "utf8")) as { promoter: Record<string, unknown>[] };
  const config = v.parse(plugin.schema, {
    ...doc.promoter[0], "unit-dir": join(dir, "units"), systemctl: join(testdata, "systemctl"), drbdsetup: "/bin/false",
    drbdadm: "/bin/true", "node-name": "alpha", ...extra,
  });
  const model = new DrbdModel();
  const { ctx, rec } = makeContext();
  ctx.services.provide(DRBD_MODEL_SERVICE, model);
  const calls = () => (readFileSync(log, "utf8").trim().split("\n"));
  return { dir, config, ctx, rec, model, calls };
}

describe("promoter plugin", () => {
  test("a drbd-reactor config writes the expected units and registers the control service", async () => {
    const { dir, config, ctx, calls } = setup("linstor-ha");
    const inst = await plugin.create(config, ctx);
    await inst.start?.();
    expect(tree(join(dir, "units"))).toEqual(tree(join(testdata, "linstor-ha/expected")));
    expect(calls()).toEqual(["daemon-reload"]);
    const ctl = ctx.services.get(PROMOTER_SERVICE)! as PromoterHub;
    const st = await ctl.status();
    expect(st.map((s) => [s.resource, s.node, s.state, s.runner, s.target])).toEqual([["linstor_db", "alpha", "idle", "systemd", "drbd-services@linstor_db.target"]]);
    expect(inst.status!()).toMatchObject({ node: "alpha", resources: [{ resource: "linstor_db", state: "idle" }] });
    await inst.close!();
    expect(ctx.services.get(PROMOTER_SERVICE)).toBe(ctl); // the hub stays for the next instances
    await expect(ctl.status("linstor_db")).rejects.toThrow(`no [[promoter]] manages resource "linstor_db"`);
  });

  test("may_promote from the model starts the target through systemctl; exit stops it when configured", async () => {
    const { dir, config, ctx, rec, model, calls } = setup("linstor-ha", {});
    config.resources["linstor_db"]!["stop-services-on-exit"] = true;
    const inst = await plugin.create(config, ctx);
    await inst.start?.();
    process.env.FAKE_SYSTEMCTL_STATE = "active";
    for (const line of [
      "exists resource name:linstor_db role:Secondary suspended:no force-io-failures:no write-ordering:flush may_promote:yes promotion_score:10101",
      "exists device name:linstor_db volume:0 minor:1000 backing_dev:/dev/vg0/linstor_db disk:UpToDate client:no open:no quorum:yes size:1048576 read:0 written:0 al-writes:0 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no",
      "exists -",
    ]) model.apply(tokenizeEvents2Line(line)!, () => undefined);
    await until(() => rec.events.some((e) => e.event_type === "DRBD_PROMOTER_STARTED"));
    expect(calls().slice(1)).toEqual([
      "reset-failed drbd-services@linstor_db.target", "start drbd-services@linstor_db.target",
      "show --property=ActiveState drbd-services@linstor_db.target",
    ]);
    expect(rec.events.map((e) => [e.event_type, e.system, e.severity])).toEqual([
      ["DRBD_PROMOTER_STARTING", "drbd", "info"], ["DRBD_PROMOTER_STARTED", "drbd", "info"],
    ]);
    expect(rec.events[1]!.extension).toMatchObject({ resource: "linstor_db", node: "alpha", state: "active", reason: "may_promote" });
    expect(rec.counts.get("started")).toBe(1);
    const [st] = await (ctx.services.get(PROMOTER_SERVICE)! as PromoterHub).status("linstor_db");
    expect(st!.units).toEqual([
      { unit: "drbd-services@linstor_db.target", state: "active (active)" },
      { unit: "drbd-promote@linstor_db.service", state: "active (exited)" },
      { unit: "var-lib-linstor.mount", state: "active (mounted)" },
      { unit: "linstor-controller.service", state: "active (running)" },
    ]);
    expect(calls().at(-1)).toBe("show --property=Id,ActiveState,SubState,FreezerState drbd-services@linstor_db.target " +
      "drbd-promote@linstor_db.service var-lib-linstor.mount linstor-controller.service");
    const before = join(dir, "units", "drbd-services@linstor_db.target.d", "reactor-50-before.conf");
    expect(statSync(before).isFile()).toBe(true);
    await inst.close!();
    expect(() => statSync(before)).toThrow();
    expect(calls().slice(5)).toEqual(["daemon-reload", "stop drbd-services@linstor_db.target drbd-promote@linstor_db.service"]);
    expect(rec.events.at(-1)!.event_type).toBe("DRBD_PROMOTER_STOPPED");
  });

  test("quorum loss under freeze freezes the start units (not the mount, not the promote unit)", async () => {
    const { config, ctx, rec, model, calls } = setup("linstor-ha");
    config.resources["linstor_db"]!["on-quorum-loss"] = "freeze";
    const inst = await plugin.create(config, ctx);
    await inst.start?.();
    for (const line of [
      "exists resource name:linstor_db role:Primary suspended:no force-io-failures:no write-ordering:flush may_promote:no promotion_score:10101",
      "exists device name:linstor_db volume:0 minor:1000 backing_dev:/dev/vg0/linstor_db disk:UpToDate client:no open:yes quorum:yes size:1048576 read:0 written:0 al-writes:0 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no",
      "exists -",
      "change device name:linstor_db volume:0 minor:1000 backing_dev:/dev/vg0/linstor_db disk:UpToDate client:no open:yes quorum:no size:1048576 read:0 written:0 al-writes:0 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no",
    ]) model.apply(tokenizeEvents2Line(line)!, () => undefined);
    await until(() => rec.events.some((e) => e.event_type === "DRBD_PROMOTER_FROZEN"));
    // The initial dump (quorum yes) is no "quorum regained": nothing was thawed at start.
    expect(calls().some((c) => c.startsWith("thaw"))).toBe(false);
    expect(calls().filter((c) => c.startsWith("freeze") || c.startsWith("list-dependencies"))).toEqual([
      "list-dependencies --no-pager --plain drbd-services@linstor_db.target", "freeze linstor-controller.service",
    ]);
    await inst.close!();
  });
});
