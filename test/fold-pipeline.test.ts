// The fold in the pipeline (SPEC §2): a kmsg-plugin instance of any name folds at once, on the
// monotonic clock. (The Folder itself: src/router/fold.test.ts.)
import { afterAll, expect, setSystemTime, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import type { StorageEvent } from "../src/event.ts";
import { Pipeline } from "../src/pipeline.ts";
import { Registry } from "../src/registry.ts";
import { RootLog } from "../src/util/log.ts";
import { ServiceMap } from "../src/util/services.ts";
import { createDeviceDirectory } from "../src/devices/index.ts";
import { loadConfig } from "../src/config/load.ts";
import { definePlugin, type AnyPluginDef } from "../src/plugin-api.ts";
import kmsg from "../plugins/sender/kmsg/index.ts";
import block from "../plugins/parser/block/index.ts";
import { waitFor } from "./helpers/wait.ts";

const TEXT = "Buffer I/O error on dev sdb1, logical block 0, async page read";

// End to end: a kmsg instance named "kernel" (not "kmsg") reading a recorded ring, the block parser, a receiver.
const got: StorageEvent[] = [];
const mem = definePlugin({
  kind: "receiver", name: "mem", description: "test receiver", schema: v.strictObject({}),
  create: () => ({ send: (events) => void got.push(...events) }),
}) as unknown as AnyPluginDef;
const dir = mkdtempSync(join(tmpdir(), "core-fold-"));
afterAll(() => {
  setSystemTime();
  rmSync(dir, { recursive: true, force: true });
});

test("Pipeline: a kmsg instance of any name folds at once; a wall-clock step back neither stalls nor releases the window", async () => {
  const ring = join(dir, "ring");
  const lines = [`3,1,1000,-;${TEXT}`, `3,2,1100,-;${TEXT}`, `3,3,1200,-;${TEXT}`, "3,4,1300,-;Buffer I/O error on dev sdc, logical block 7, async page read"];
  writeFileSync(ring, lines.join("\n") + "\n");
  const registry = new Registry([kmsg as unknown as AnyPluginDef, block as unknown as AnyPluginDef, mem]);
  const p = new Pipeline({
    registry, log: new RootLog({ write: () => {} }), devices: createDeviceDirectory(), services: new ServiceMap(), native: null, mode: "daemon",
  });
  const cfg = loadConfig({
    registry, path: "t.toml",
    text: `[main]\nhostname="h"\nstate_dir="${dir}"\ndedup_window="1500ms"\n[kernel]\ntype="sender"\nplugin="kmsg"\npath="${ring}"\nfrom="start"\n[block]\ntype="parser"\n[sink]\ntype="receiver"\nplugin="mem"\n`,
  });
  await p.apply(cfg);
  const t0 = performance.now();
  await waitFor(() => got.length >= 2, 2000, "the first two events");
  expect(performance.now() - t0).toBeLessThan(1000); // nothing waited for the 1.5 s window
  expect(got.map((e) => e.dev_name)).toEqual(["sdb1", "sdc"]);
  expect(p.folder.folded).toBe(2);
  setSystemTime(new Date(Date.now() - 3600_000)); // the wall clock steps back an hour
  p.tick();
  expect(got).toHaveLength(2); // the window (monotonic) is still open
  await Bun.sleep(1550);
  p.tick();
  setSystemTime();
  await waitFor(() => got.length >= 3, 1000, "the follow-up");
  expect(got[2]!.extension).toMatchObject({ repeat: 2, first_event_id: got[0]!.event_id });
  expect(got[2]!.raw).toBe(`3,3,1200,-;${TEXT}`);
  await p.stop(1000);
});
