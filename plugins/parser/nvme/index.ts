// Parser plugin "nvme": NVME_IO_TIMEOUT, NVME_IO_ERROR, NVME_CTRL_RESET, NVME_CTRL_DEAD.
import * as v from "valibot";
import { definePlugin } from "../../../src/plugin-api.ts";
import { kmsgParser } from "../../../src/plugin-kit/kernel.ts";
import sample from "./sample.toml" with { type: "text" };
import { nvmeParser } from "./nvme.ts";
import { EVENTS } from "./events.ts";

export default definePlugin({
  kind: "parser",
  name: "nvme",
  emits: EVENTS,
  description: "NVMe command timeouts and errors, controller resets and dead controllers (kernel log)",
  schema: v.strictObject({}),
  sample,
  create(_config, ctx) {
    return kmsgParser(ctx, nvmeParser(ctx.clock));
  },
});
