import * as v from "valibot";
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync, constants } from "node:fs";
import { dirname } from "node:path";
import { definePlugin, Duration, type StorageEvent } from "../../../src/plugin-api.ts";
import sample from "./sample.toml" with { type: "text" };

export const schema = v.strictObject({
  path: v.pipe(v.string(), v.minLength(1), v.description("The file; created with mode 0640 if missing. SIGHUP reopens it (logrotate).")),
  fsync: v.pipe(
    v.optional(v.picklist(["always", "interval", "never"]), "interval"),
    v.description('"always" (fsync after every batch), "interval" (at most every fsync_interval), or "never".'),
  ),
  fsync_interval: v.pipe(v.optional(Duration, "1s"), v.description('With fsync = "interval": the longest a written event waits for fsync.')),
});

export default definePlugin({
  kind: "receiver",
  name: "file",
  description: "Appends events as NDJSON to a file, with a configurable fsync policy; reopens on SIGHUP.",
  schema,
  sample,
  create(config, ctx) {
    const open = () => {
      mkdirSync(dirname(config.path), { recursive: true });
      return openSync(config.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o640);
    };
    let fd = -1;
    let dirty = false;
    let timer: Timer | undefined;
    const sync = () => {
      timer = undefined;
      if (dirty && fd >= 0) {
        fsyncSync(fd);
        dirty = false;
        ctx.count("fsyncs");
      }
    };
    return {
      start() {
        fd = open();
      },
      send(events: readonly StorageEvent[]) {
        const buf = Buffer.from(events.map((e) => JSON.stringify(e) + "\n").join(""));
        for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
        ctx.count("written", events.length);
        dirty = true;
        if (config.fsync === "always") sync();
        else if (config.fsync === "interval") timer ??= setTimeout(sync, config.fsync_interval);
      },
      reopen() {
        if (fd < 0) return;
        sync();
        const next = open();
        closeSync(fd);
        fd = next;
        ctx.count("reopens");
      },
      close() {
        clearTimeout(timer);
        if (fd < 0) return;
        if (config.fsync !== "never") sync();
        closeSync(fd);
        fd = -1;
      },
      status: () => ({ path: config.path }),
    };
  },
});
