// Parser plugin "ata": ATA_LINK_DOWN, ATA_LINK_UP, ATA_EXCEPTION.
import * as v from "valibot";
import { definePlugin } from "../../../src/plugin-api.ts";
import { durationMs, kmsgParser } from "../../../src/util/kpattern.ts";
import sample from "./sample.toml" with { type: "text" };
import { AtaParser } from "./ata.ts";

const schema = v.strictObject({
  report_hold: v.optional(
    v.pipe(v.string(), v.regex(/^\d+(ms|s|m)$/, 'a duration like "1s" or "500ms"'),
      v.description("How long an exception report (exception line, SError, failed command, cmd/res, status) is held for more lines of the same port before it is emitted as it is.")),
    "1s",
  ),
});

export default definePlugin({
  kind: "parser",
  name: "ata",
  description: "SATA link up/down and libata error handler exceptions (kernel log)",
  schema,
  sample,
  create(config, ctx) {
    return kmsgParser(ctx, new AtaParser(durationMs(config.report_hold)));
  },
});
