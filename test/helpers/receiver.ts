// Helpers for receiver tests: realistic events, a receiver context, the sample/README check.
import { expect } from "bun:test";
import { readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import * as v from "valibot";
import type { AnyPluginDef, ReceiverContext, StorageEvent } from "../../src/plugin-api.ts";
import { formatTime, nowUs } from "../../src/event.ts";
import { makeContext, type Recorded } from "./context.ts";

let seq = 0;

/** A realistic multipath path-down event; `over` replaces fields. */
export function makeEvent(over: Partial<StorageEvent> = {}): StorageEvent {
  seq++;
  return {
    event_id: crypto.randomUUID(),
    time: formatTime(nowUs()),
    hostname: "node-a",
    severity: "error",
    system: "multipath",
    event_type: "DM_MPATH_PATH_DOWN",
    dev_name: "sdc",
    dev_path: "/dev/sdc",
    dev_wwid: "naa.600a098038304437415d4b6a59684a52",
    owners: [{ dev_name: "dm-3", dev_wwid: "3600a098038304437415d4b6a59684a52" }],
    msg: `multipath path sdc (8:32) of mpatha failed (${seq})`,
    source: "kmsg",
    raw: "device-mapper: multipath: 253:3: Failing path 8:32.",
    extension: { map: "mpatha", nr_valid_paths: 1, path_devt: "8:32" },
    ...over,
  };
}

export function receiverContext(): { ctx: ReceiverContext; rec: Recorded; abort: AbortController } {
  return makeContext({ instance: "test-receiver" });
}

/** Strips the core's common keys (type, plugin, filter, queue) like the config loader does. */
export function pluginOptions(table: Record<string, unknown>): Record<string, unknown> {
  const { type: _t, plugin: _p, filter: _f, queue: _q, ...rest } = table;
  return rest;
}

/** sample.toml parses, validates against the schema, and equals the README's Configuration block. */
export function checkSampleAndReadme(def: AnyPluginDef, dir: string): void {
  const sample = readFileSync(join(dir, "sample.toml"), "utf8");
  expect(def.sample).toBe(sample);
  const doc = parseToml(sample) as Record<string, Record<string, unknown>>;
  const tables = Object.values(doc);
  expect(tables.length).toBeGreaterThan(0);
  for (const t of tables) {
    expect(t.type).toBe("receiver");
    expect(t.plugin ?? def.name).toBe(def.name);
    const r = v.safeParse(def.schema, pluginOptions(t));
    expect(r.issues?.map((i) => i.message) ?? []).toEqual([]);
  }
  const readme = readFileSync(join(dir, "README.md"), "utf8");
  const m = /## Configuration\s*\n+```toml\n([\s\S]*?)```/.exec(readme);
  expect(m?.[1]).toBe(sample);
}

/** The issues' messages (with key paths) when options fail the schema, [] when valid. */
export function schemaErrors(def: AnyPluginDef, opts: Record<string, unknown>): string[] {
  const r = v.safeParse(def.schema, opts);
  return (r.issues ?? []).map((i) => `${v.getDotPath(i) ?? ""}: ${i.message}`);
}

/** A TCP port on 127.0.0.1 that was free a moment ago (servers started by tests bind it). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Polls until f() holds or ms pass. */
export async function until(f: () => boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!f() && performance.now() < end) await Bun.sleep(20);
}

/** Waits until something accepts TCP connections on 127.0.0.1:port (a server the test started). */
export async function waitForPort(port: number, what: string, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => (s.destroy(), r(true)));
      s.on("error", () => r(false));
    });
    if (ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`${what} does not accept connections on port ${port}`);
}
