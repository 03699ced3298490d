// The kernel-log parsers inside the core pipeline (config -> registry -> pipeline -> fold): each
// parser gets its fixtures' records; what comes out are complete, schema-valid storage events, the
// same distinct events as the fixtures' expected.ndjson (written from the kernel format strings,
// not by running the parsers); identical raw kernel text may fold, and is counted.
import { expect, test } from "bun:test";
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
import { expectedEvents, fixtureCases, loadCase } from "./helpers/parser-fixtures.ts";

const PARSERS = ["scsi", "block", "nvme", "ata", "iscsi", "mdraid"];
const key = (e: { event_type: string; dev_name?: string; msg: string; raw?: string; severity: string }) =>
  JSON.stringify([e.event_type, e.dev_name ?? "", e.severity, e.msg, e.raw]);

test.each(PARSERS)("%s fixture records through the pipeline become the schema-valid expected events", async (p) => {
  const registry = new Registry(plugins);
  const cfg = loadConfig({ registry, text: `[${p}]\ntype = "parser"\n\n[main]\nhostname = "node-a"\n`, path: "parsers.toml" });
  const logs: string[] = [];
  const pipeline = new Pipeline({
    registry, log: new RootLog({ write: (l) => void logs.push(l) }), devices: createDeviceDirectory(),
    services: new ServiceMap(), native: null, mode: "replay",
  });
  await pipeline.apply(cfg);
  const got: StorageEvent[] = [];
  pipeline.subscribe((e) => void got.push(e));

  const dir = join(import.meta.dir, "../plugins/parser", p, "testdata");
  const want = [];
  for (const c of fixtureCases(dir)) {
    const { records, dir: caseDir } = loadCase(dir, c);
    for (const r of records) pipeline.handleRecord(r);
    pipeline.flushAll(); // cases are separate captures: no report spans two
    want.push(...expectedEvents(caseDir));
  }

  expect(logs.filter((l) => /error|fail/i.test(l))).toEqual([]);
  expect(pipeline.counters.get("parser_errors") ?? 0).toBe(0);
  for (const e of got) {
    expect(() => v.parse(EventSchema, e)).not.toThrow();
    expect(e.hostname).toBe("node-a");
    expect(e.source).toBe("kmsg");
    expect(e.raw.length).toBeGreaterThan(0);
    // The kernel timestamp becomes the event time (RFC 3339, µs).
    expect(want.some((d) => d.time_us !== undefined && formatTime(d.time_us) === e.time)).toBe(true);
  }
  expect([...new Set(got.map(key))].sort()).toEqual([...new Set(want.map(key))].sort());
  expect(got.length + pipeline.folder.folded).toBe(want.length);
});

test("a SCSI medium error keeps its kernel time and decoded sense through the pipeline", async () => {
  const registry = new Registry(plugins);
  const cfg = loadConfig({ registry, text: `[scsi]\ntype = "parser"\n`, path: "parsers.toml" });
  const pipeline = new Pipeline({
    registry, log: new RootLog({ write: () => {} }), devices: createDeviceDirectory(), services: new ServiceMap(), native: null, mode: "replay",
  });
  await pipeline.apply(cfg);
  const got: StorageEvent[] = [];
  pipeline.subscribe((e) => void got.push(e));
  const c = loadCase(join(import.meta.dir, "../plugins/parser/scsi/testdata"), "sense-medium-error-6x");
  for (const r of c.records) pipeline.handleRecord(r);
  pipeline.flushAll();
  const medium = got.find((e) => e.event_type === "SCSI_SENSE" && e.raw.includes(";sd 2:0:0:1: [sdb] tag#12 FAILED Result"))!;
  // 5 123 456 µs after the fixture boot (2026-01-01T00:00:00Z), from the record's timestamp field.
  expect(medium.time).toBe("2026-01-01T00:00:05.123456Z");
  expect(medium.extension).toMatchObject({ sense_key_text: "Medium Error", asc_text: "Unrecovered read error" });
});
