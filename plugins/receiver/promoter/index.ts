// Receiver `promoter` (drbd-reactor's [[promoter]]): starts a resource's service stack on the one
// node DRBD lets promote and moves it when that node fails. Options are drbd-reactor's, unchanged
// (config.ts); decisions follow the DRBD model's updates (decide.ts), one
// independent engine per resource (engine.ts); `storeventd promoter` (cli.ts) and /v1/promoter (http.ts). Its events come from the engine, not
// from the router: send() ignores what it is sent.
import { DRBD_MODEL_SERVICE } from "../../../src/plugin-kit/drbd.ts";
import { definePlugin } from "../../../src/plugin-api.ts";
import type { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import { PromoterSchema } from "./config.ts";
import { hubOf, PromoterController } from "./controller.ts";
import { promoterRoute } from "./http.ts";
import { promoterCommand } from "./cli.ts";
import { readPromoterSnippet } from "./ctl-snippet.ts";
import sample from "./sample.toml" with { type: "text" };
import { EVENTS } from "./events.ts";
import { promoterStatus } from "./ctl-status.ts";
import { checkMount, startUntil, stopTargets } from "./ctl-verbs.ts";
import { evict } from "./ctl-evict.ts";

export default definePlugin({
  kind: "receiver",
  name: "promoter",
  reactorTable: "promoter",
  ctl: {
    order: 1,
    read: readPromoterSnippet,
    status: promoterStatus,
    stop: stopTargets,
    checkEdit: checkMount,
    verbs: { evict, "start-until": startUntil },
    template: `[[promoter]]
[promoter.resources.$resname]
start = ["$service.mount", "$service.service"]
# on-drbd-demote-failure = "reboot"
# stop-services-on-exit = false
# on-disk-detach = "ignore"`,
  },
  needs: ["events2"],
  commands: { promoter: { summary: "drbd-reactor promoter: status, evict, disable, enable, maintenance", after: "info", run: promoterCommand } },
  routes: [promoterRoute],
  emits: EVENTS,
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
