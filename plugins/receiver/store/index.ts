// The local event store: every event it receives goes into SQLite (sqlite.ts) in state_dir, one
// transaction per flush; the control API reads it through the "store" service (query, status).
import * as v from "valibot";
import { join } from "node:path";
import { definePlugin, Duration } from "../../../src/plugin-api.ts";
import { STORE_SERVICE, type EventStoreService } from "../../../src/plugin-kit/store.ts";
import { EventStore } from "./sqlite.ts";
import { parseSize } from "./size.ts";
import sample from "./sample.toml" with { type: "text" };

const Size = v.pipe(v.string(), v.check((s) => parseSize(s) !== undefined, "a size like 256MB, 1GiB or a byte count"));

const schema = v.strictObject({
  path: v.pipe(v.optional(v.string(), ""), v.description("Database file; empty means <state_dir>/events.db.")),
  flush_interval: v.pipe(v.optional(Duration, "1s"), v.description(
    "How often buffered events are written (one transaction each). A crash (kill -9) loses at most this much.")),
  max_age: v.pipe(v.optional(Duration, "30d"), v.description("Events older than this are deleted; \"0s\" keeps them.")),
  max_size: v.pipe(v.optional(Size, "256MB"), v.description("The oldest events are deleted while the data exceeds this; \"0\" means no limit.")),
  max_pending: v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 10000), v.description(
    "Events buffered before a flush is forced ahead of the interval.")),
});

export default definePlugin({
  kind: "receiver",
  name: "store",
  embeddedDefault: { order: 50 },
  description: "Keeps events in a local SQLite database for `storeventd query`, `info` and the follow replay.",
  schema,
  sample,
  create(config, ctx) {
    const path = config.path || join(ctx.stateDir, "events.db");
    let store!: EventStore;
    let timer: Timer | undefined;
    const flush = () => {
      const n = store.pendingCount;
      try {
        store.flush();
        if (n) ctx.count("written", n);
      } catch (err) {
        ctx.count("dropped", n);
        ctx.log.once("write_failed", `cannot write ${store.path}: ${(err as Error).message}`);
      }
    };
    let closed = true;
    return {
      start() {
        store = new EventStore({ path, maxAgeUs: config.max_age * 1000, maxBytes: parseSize(config.max_size)! });
        closed = false;
        timer = setInterval(flush, Math.max(10, config.flush_interval));
        ctx.services.provide(STORE_SERVICE, store);
      },
      send(events) {
        if (closed) return;
        store.add(events);
        if (store.pendingCount >= config.max_pending) flush();
      },
      sync: flush,
      close() {
        if (closed) return;
        closed = true;
        clearInterval(timer);
        if (ctx.services.get(STORE_SERVICE) === store) ctx.services.provide(STORE_SERVICE, undefined);
        try { store.close(); } catch (err) { ctx.log.error(`closing ${store.path}: ${(err as Error).message}`); }
      },
      status() {
        return store ? { ...store.stats() } : { path };
      },
    };
  },
});
