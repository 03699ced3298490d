// Receiver `debugger` (drbd-reactor's [[debugger]]): logs every DRBD model update (object, event
// type, old and new state) and every DRBD event it is sent, at debug level as drbd-reactor does
// (run with log level debug to see them).
import { DRBD_MODEL_SERVICE } from "../../../src/plugin-kit/drbd.ts";
import * as v from "valibot";
import { definePlugin, type StorageEvent } from "../../../src/plugin-api.ts";
import type { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import sample from "./sample.toml" with { type: "text" };
import { startedSection } from "../../../src/plugin-kit/ctl.ts";

const schema = v.strictObject({
  id: v.pipe(v.optional(v.string()), v.description("deprecated in drbd-reactor; accepted and ignored")),
});

export default definePlugin({
  kind: "receiver",
  name: "debugger",
  reactorTable: "debugger",
  ctl: {
    order: 3,
    status: startedSection("debugger", "Debugger"),
    template: `[[debugger]]
# NOTE: the log level of a [[log]] section must be at least 'debug'`,
  },
  needs: ["events2"],
  description: "drbd-reactor's debugger: logs every DRBD update and event at debug level",
  schema,
  sample,
  create(_config, ctx) {
    let unsubscribe: (() => void) | undefined;
    const follow = () => ctx.services.get(DRBD_MODEL_SERVICE)?.subscribe((u) => {
      ctx.count("updates");
      ctx.log.debug(`update ${u.kind} ${u.eventType} ${u.resource}: ${JSON.stringify(u.old)} -> ${JSON.stringify(u.new)}`, {
        ...("volume" in u ? { volume: u.volume } : {}), ...("peerNodeId" in u ? { peer_node_id: u.peerNodeId } : {}),
      });
    }, { replay: true, owner: ctx });
    return {
      start() {
        unsubscribe = follow();
      },
      send(events: readonly StorageEvent[]) {
        for (const e of events) {
          if (e.system !== "drbd") continue;
          ctx.count("events");
          ctx.log.debug(`event ${e.event_type}: ${e.msg}`, e.extension);
        }
      },
      close() {
        unsubscribe?.();
      },
    };
  },
});
