// The kernel-log parsers inside the core pipeline (config -> registry -> pipeline -> fold): every
// fixture record of scsi, block, nvme, ata and iscsi goes in once; what comes out are complete,
// schema-valid storage events, one per expected draft (or folded, and counted as such).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import plugins from "../plugins/all.ts";
import { Registry } from "../src/registry.ts";
import { loadConfig } from "../src/config/load.ts";
import { Pipeline } from "../src/pipeline.ts";
import { createDeviceDirectory } from "../src/devices/index.ts";
import { ServiceMap } from "../src/util/services.ts";
import { RootLog } from "../src/util/log.ts";
import { EventSchema, formatTime, type StorageEvent } from "../src/event.ts";
import { fixtureCases, makeParser, readKmsgFixture, runRecords } from "./helpers/parser-fixtures.ts";

const PARSERS = ["scsi", "block", "nvme", "ata", "iscsi"];

test("fixture records through the pipeline become schema-valid events matching the parsers' drafts", async () => {
  const registry = new Registry(plugins);
  const text = PARSERS.map((p) => `[${p}]\ntype = "parser"\n`).join("\n") + '\n[main]\nhostname = "node-a"\n';
  const cfg = loadConfig({ registry, text, path: "parsers.toml" });
  const logs: string[] = [];
  const pipeline = new Pipeline({
    registry, log: new RootLog({ write: (l) => void logs.push(l) }), devices: createDeviceDirectory(),
    services: new ServiceMap(), native: null, mode: "replay",
  });
  await pipeline.apply(cfg);
  const got: StorageEvent[] = [];
  pipeline.subscribe((e) => void got.push(e));

  let want = 0;
  const wantTypes = new Map<string, number>();
  for (const p of PARSERS) {
    const dir = join(import.meta.dir, "../plugins/parser", p, "testdata");
    for (const c of fixtureCases(dir)) {
      const recs = readKmsgFixture(readFileSync(join(dir, c, "input.kmsg"), "utf8"));
      for (const r of recs) pipeline.handleRecord(r);
      // Every parser sees every record in the pipeline (the block line of a SCSI case too).
      for (const name of PARSERS) {
        const { parser } = await makeParser(registry.get("parser", name)!);
        for (const d of runRecords(parser, recs)) {
          want++;
          wantTypes.set(d.event_type, (wantTypes.get(d.event_type) ?? 0) + 1);
        }
      }
    }
  }
  pipeline.flushAll();

  expect(logs.filter((l) => /error|fail/i.test(l))).toEqual([]);
  expect(pipeline.counters.get("parser_errors") ?? 0).toBe(0);
  for (const e of got) {
    expect(() => v.parse(EventSchema, e)).not.toThrow();
    expect(e.hostname).toBe("node-a");
    expect(e.source).toBe("kmsg");
    expect(e.raw.length).toBeGreaterThan(0);
  }
  // Every expected draft is an event unless the fold merged it into an identical one (counted).
  expect(got.length + pipeline.folded).toBe(want);
  const types = new Set(got.map((e) => e.event_type));
  expect([...wantTypes.keys()].filter((t) => !types.has(t))).toEqual([]);
  // The kernel timestamp becomes the event time (RFC 3339, µs).
  const medium = got.find((e) => e.event_type === "SCSI_SENSE" && e.raw.includes(";sd 2:0:0:1: [sdb] tag#12 FAILED Result"))!;
  expect(medium.time).toBe(formatTime(1_767_225_600_000_000 + 5_123_456));
  expect(medium.extension).toMatchObject({ sense_key_text: "Medium Error", asc_text: "Unrecovered read error" });
});
