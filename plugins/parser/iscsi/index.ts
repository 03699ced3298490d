// Parser plugin "iscsi": ISCSI_CONN_ERROR, ISCSI_SESSION_RECOVERY_TIMEOUT.
import * as v from "valibot";
import { definePlugin } from "../../../src/plugin-api.ts";
import { kmsgParser } from "../../../src/util/kpattern.ts";
import sample from "./sample.toml" with { type: "text" };
import { iscsiParser } from "./iscsi.ts";
import { EVENTS } from "./events.ts";

export default definePlugin({
  kind: "parser",
  name: "iscsi",
  emits: EVENTS,
  description: "iSCSI connection errors and session recovery timeouts (kernel log)",
  schema: v.strictObject({}),
  sample,
  create(_config, ctx) {
    return kmsgParser(ctx, iscsiParser());
  },
});
