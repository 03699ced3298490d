// Receiver `promoter` (drbd-reactor's [[promoter]]): starts a resource's service stack on the one
// node DRBD lets promote and moves it when that node fails. Options are drbd-reactor's, unchanged
// (src/promoter/config.ts); decisions follow the DRBD model's updates (src/promoter/decide.ts), one
// independent engine per resource (src/promoter/engine.ts). Its events come from the engine, not
// from the router: send() ignores what it is sent.
import { DRBD_MODEL_SERVICE } from "../../../src/plugin-kit/drbd.ts";
import { definePlugin } from "../../../src/plugin-api.ts";
import type { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import { PromoterSchema } from "../../../src/promoter/config.ts";
import { hubOf, PromoterController } from "../../../src/promoter/controller.ts";
import sample from "./sample.toml" with { type: "text" };

export default definePlugin({
  kind: "receiver",
  name: "promoter",
  reactorTable: "promoter",
  needs: ["events2"],
  description: "drbd-reactor's promoter: runs a service stack where DRBD may promote, fails it over",
  schema: PromoterSchema,
  sample,
  create(config, ctx) {
    const hub = hubOf(ctx.services);
    const controller: PromoterController = new PromoterController(config, {
      model: ctx.services.get(DRBD_MODEL_SERVICE),
      emit: (d) => {
        ctx.count(d.event_type.replace(/^DRBD_PROMOTER_/, "").toLowerCase());
        ctx.emitEvent(d);
      },
      log: ctx.log,
      handsOver: (r) => hub.handsOver(controller, r),
      owner: ctx,
    });
    // Known to the hub (not to its control surface) from now: the instance it replaces sees it.
    hub.announce(controller);
    let started = false;
    return {
      // Units, daemon-reload and decisions start here, after a replaced instance has closed.
      async start() {
        started = true;
        await controller.open();
        hub.add(controller);
      },
      send() {
        // Decisions follow the model directly; routed events are not needed.
      },
      status() {
        return { node: controller.node, resources: controller.statusSync() };
      },
      async close() {
        // Never started (a reload rolled back before it): nothing of it runs, nothing to stop.
        if (!started) return void hub.withdraw(controller);
        hub.remove(controller);
        await controller.close();
        hub.withdraw(controller);
      },
    };
  },
});
