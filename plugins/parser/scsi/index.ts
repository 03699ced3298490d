// Parser plugin "scsi": SCSI midlayer and sd kernel messages -> SCSI_SENSE, SCSI_TIMEOUT,
// SCSI_CMD_FAILED, SCSI_DEVICE_OFFLINE, SCSI_DEVICE_ADDED, SCSI_DEVICE_REMOVED.
import * as v from "valibot";
import { definePlugin, Duration } from "../../../src/plugin-api.ts";
import { kmsgParser } from "../../../src/plugin-kit/kernel.ts";
import sample from "./sample.toml" with { type: "text" };
import { ScsiParser } from "./scsi.ts";
import { EVENTS } from "./events.ts";

const schema = v.strictObject({
  report_hold: v.pipe(v.optional(Duration), v.description("How long an incomplete multi-record failure report (Result, Sense Key, Add. Sense, CDB) is held before it is emitted as it is. Default: [main] hold_max (250 ms)."))
});

export default definePlugin({
  kind: "parser",
  name: "scsi",
  emits: EVENTS,
  description: "SCSI sense data, command timeouts and failures, offline devices, disk attach (kernel log)",
  schema,
  sample,
  create(config, ctx) {
    return kmsgParser(ctx, new ScsiParser(config.report_hold ?? ctx.holdMaxMs, ctx.clock));
  },
});
