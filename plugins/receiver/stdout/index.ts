import * as v from "valibot";
import { definePlugin, type StorageEvent } from "../../../src/plugin-api.ts";
import { formatEventLine } from "../../../src/plugin-kit/format.ts";
import sample from "./sample.toml" with { type: "text" };

export const schema = v.strictObject({
  format: v.pipe(v.optional(v.picklist(["line", "json"]), "line"), v.description('"line" (one readable line per event) or "json" (NDJSON).')),
  color: v.pipe(v.optional(v.boolean(), true), v.description("Colour severities when stdout is a terminal.")),
});

export default definePlugin({
  kind: "receiver",
  name: "stdout",
  embeddedDefault: { order: 70, slot: "output" },
  description: "Prints each event on standard output, as a line or as NDJSON.",
  schema,
  sample,
  create(config, ctx) {
    // process.stdout is opened on first use: in start(), not here.
    let color = false;
    const write = (text: string) =>
      new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
    return {
      start() {
        color = config.color && process.stdout.isTTY === true;
      },
      async send(events: readonly StorageEvent[]) {
        const text = events.map((e) => (config.format === "json" ? JSON.stringify(e) : formatEventLine(e, color))).join("\n") + "\n";
        await write(text);
        ctx.count("written", events.length);
      },
    };
  },
});
