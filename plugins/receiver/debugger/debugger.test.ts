import { DRBD_MODEL_SERVICE } from "../../../src/plugin-kit/drbd.ts";
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import plugin from "./index.ts";
import { decodeEvents2Text, tokenizeEvents2Line } from "../../../src/plugin-kit/drbd.ts";
import { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import { makeContext } from "../../../test/helpers/context.ts";

test("debugger logs every update of the model and every DRBD event, at debug level", async () => {
  const model = new DrbdModel();
  const { ctx, rec } = makeContext({ instance: "debugger[0]", plugin: "debugger" });
  ctx.services.provide(DRBD_MODEL_SERVICE, model);
  const dbg = await plugin.create(v.parse(plugin.schema, { id: "legacy" }), ctx);
  await dbg.start?.();
  const text = readFileSync(join(import.meta.dir, "testdata/promote.events2"), "utf8");
  for (const r of decodeEvents2Text(text)) model.apply(r, () => {});
  await Bun.sleep(0); // updates reach a subscriber from its queue, after the records
  expect(rec.logs).toEqual([
    'debug: update resource Exists r0: {"role":"Unknown","may-promote":false,"promotion-score":0} -> {"role":"Secondary","may-promote":true,"promotion-score":10101}',
    'debug: update device Exists r0: {"disk-state":"DUnknown","client":false,"quorum":false,"size":0,"open":false} -> {"disk-state":"UpToDate","client":false,"quorum":true,"size":1048576,"open":false}',
    'debug: update resource Change r0: {"role":"Secondary","may-promote":true,"promotion-score":10101} -> {"role":"Primary","may-promote":false,"promotion-score":10101}',
  ]);
  dbg.send([{
    event_id: crypto.randomUUID(), time: "2026-11-26T00:00:00.000000Z", hostname: "h", severity: "info", system: "drbd",
    event_type: "DRBD_ROLE_CHANGED", dev_name: "", dev_path: "", dev_wwid: "", owners: [], msg: "DRBD resource r0 role Secondary -> Primary",
    source: "drbd", raw: "", extension: {},
  }]);
  expect(rec.logs.at(-1)).toBe("debug: event DRBD_ROLE_CHANGED: DRBD resource r0 role Secondary -> Primary");
  expect(rec.counts.get("updates")).toBe(3);
  await dbg.close?.();
  model.apply(tokenizeEvents2Line("change resource name:r0 role:Secondary may_promote:yes promotion_score:10101")!, () => {});
  expect(rec.counts.get("updates")).toBe(3);
});
