// Parser plugin "iscsi": ISCSI_CONN_ERROR, ISCSI_SESSION_RECOVERY_TIMEOUT (kernel log), and iscsid's
// journal lines (iscsid.ts): connection errors joined with the kernel's, recoveries, login failures.
import * as v from "valibot";
import { definePlugin, type EventDraft, type RawRecord } from "../../../src/plugin-api.ts";
import { kmsgParser } from "../../../src/plugin-kit/kernel.ts";
import sample from "./sample.toml" with { type: "text" };
import { iscsiParser } from "./iscsi.ts";
import { IscsidLines } from "./iscsid.ts";
import { EVENTS } from "./events.ts";

export default definePlugin({
  kind: "parser",
  name: "iscsi",
  emits: EVENTS,
  description: "iSCSI connection errors and session recovery timeouts (kernel log); iscsid's connection errors, recoveries and login failures (journal)",
  schema: v.strictObject({
    iscsid_daemons: v.pipe(v.optional(v.array(v.string()), ["iscsid"]), v.description(
      "Journal identifiers whose lines are read as iscsid's (journal sender).",
    )),
  }),
  sample,
  create(config, ctx) {
    const kernel = kmsgParser(ctx, iscsiParser(ctx.clock));
    const iscsid = new IscsidLines(10_000, (n) => ctx.count(n));
    const names = new Set(config.iscsid_daemons);
    return {
      ...kernel,
      accepts: ["kmsg", "journal"],
      parse(rec: RawRecord, emit: (d: EventDraft) => void) {
        if (rec.kind === "journal") return void (names.has(rec.daemon) && iscsid.parse(rec, emit));
        kernel.parse(rec, (d) => void (iscsid.kernel(d) && emit(d)));
      },
    };
  },
});
