// Parser plugin "block": BLK_IO_ERROR, BLK_CRITICAL_MEDIUM_ERROR, BLK_WRITE_CACHE_CHANGED.
import * as v from "valibot";
import { definePlugin } from "../../../src/plugin-api.ts";
import { kmsgParser } from "../../../src/plugin-kit/kernel.ts";
import sample from "./sample.toml" with { type: "text" };
import { blockParser } from "./block.ts";
import { EVENTS } from "./events.ts";

export default definePlugin({
  kind: "parser",
  name: "block",
  emits: EVENTS,
  description: "Block layer I/O errors, critical medium errors, disk write cache mode (kernel log)",
  schema: v.strictObject({}),
  sample,
  create(_config, ctx) {
    return kmsgParser(ctx, blockParser());
  },
});
