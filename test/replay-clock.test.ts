// Replay output depends on the records only: a parser's hold/join clock is the records' time, so
// the same input gives the same events however long the pipeline spends between records (a GC
// pause, a slow receiver). Before ParserContext.clock the fs parser added wall time elapsed since
// the latest record, and a slow event consumer kept a report open past its join window.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import plugins from "../plugins/all.ts";
import { Registry } from "../src/registry.ts";
import { loadConfig } from "../src/config/load.ts";
import { Pipeline } from "../src/pipeline.ts";
import { createDeviceDirectory } from "../src/devices/index.ts";
import { ServiceMap } from "../src/util/services.ts";
import { RootLog } from "../src/util/log.ts";
import type { StorageEvent } from "../src/event.ts";
import { readKmsgFixture } from "./helpers/parser-fixtures.ts";

const FIXTURE = join(import.meta.dir, "testdata/replay-clock.kmsg");
const CONFIG = `[fs]\ntype = "parser"\njoin_window = "20ms"\nmountinfo = "/dev/null"\n`;

/** Replays the fixture; each event costs the subscriber `stallMs` of busy time. */
async function replay(stallMs: number): Promise<string[]> {
  const registry = new Registry(plugins);
  const pipeline = new Pipeline({
    registry, log: new RootLog({ write() {} }), devices: createDeviceDirectory({ offline: true }),
    services: new ServiceMap(), native: null, mode: "replay",
  });
  await pipeline.apply(loadConfig({ registry, text: CONFIG, path: "replay-clock.toml" }));
  const got: StorageEvent[] = [];
  pipeline.subscribe((e) => {
    got.push(e);
    const until = performance.now() + stallMs;
    while (performance.now() < until);
  });
  for (const r of readKmsgFixture(readFileSync(FIXTURE, "utf8"))) pipeline.handleRecord(r);
  pipeline.flushAll();
  await pipeline.stop(100);
  return got.map((e) => JSON.stringify({ ...e, event_id: "" }));
}

test("replay gives the same events whether the consumer is fast or stalls longer than join_window", async () => {
  const fast = await replay(0);
  const slow = await replay(60);
  expect(slow).toEqual(fast);
  // By the records' clock the "Please unmount" line (21 ms after the shutdown) is past the 20 ms
  // window: the shutdown report is its own line only.
  const shutdown = fast.map((l) => JSON.parse(l) as StorageEvent).filter((e) => e.event_type === "FS_SHUTDOWN");
  expect(shutdown.map((e) => e.raw)).toEqual([
    "1,3,1001000,-;XFS (sdq1): Corruption of in-memory data (0x8) detected at xfs_trans_cancel+0x13b/0x170 [xfs] (fs/xfs/xfs_trans.c:1097).  Shutting down filesystem.",
  ]);
  expect(fast.map((l) => (JSON.parse(l) as StorageEvent).event_type)).toEqual(["FS_MOUNTED", "FS_SHUTDOWN"]);
});
