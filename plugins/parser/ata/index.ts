// Parser plugin "ata": ATA_LINK_DOWN, ATA_LINK_UP, ATA_EXCEPTION, ATA_DEVICE_DISABLED.
import * as v from "valibot";
import { definePlugin, Duration } from "../../../src/plugin-api.ts";
import { kmsgParser } from "../../../src/plugin-kit/kernel.ts";
import sample from "./sample.toml" with { type: "text" };
import { AtaParser } from "./ata.ts";
import { EVENTS } from "./events.ts";

const schema = v.strictObject({
  report_hold: v.pipe(v.optional(Duration), v.description("How long an exception report (exception line, SError, failed command, cmd/res, status) is held for more lines of the same port before it is emitted as it is. Default: [main] hold_max (250 ms)."))
});

export default definePlugin({
  kind: "parser",
  name: "ata",
  emits: EVENTS,
  description: "SATA link up/down and libata error handler exceptions (kernel log)",
  schema,
  sample,
  create(config, ctx) {
    return kmsgParser(ctx, new AtaParser(config.report_hold ?? ctx.holdMaxMs, ctx.clock));
  },
});
