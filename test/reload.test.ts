// Reload through Pipeline.apply() with the real plugins: a port-binding receiver changed on the same
// port (the old one closes before the new one binds), a start that fails (the old one serves again
// and the result says so), and a reload rolled back by a creation error (umh spawns nothing).
import { afterAll, expect, test } from "bun:test";
import net from "node:net";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import plugins from "../plugins/all.ts";
import { Registry } from "../src/registry.ts";
import { loadConfig } from "../src/config/load.ts";
import { Pipeline } from "../src/pipeline.ts";
import { RootLog } from "../src/util/log.ts";
import { ServiceMap } from "../src/util/services.ts";
import { createDeviceDirectory } from "../src/devices/index.ts";
import { decodeEvents2Text } from "../src/drbd/events2.ts";
import { freePort } from "./helpers/receiver.ts";
import { startDaemon } from "./helpers/bin.ts";

const registry = new Registry(plugins);
const tmp = mkdtempSync(join(tmpdir(), "core-life-reload-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function pipeline() {
  const logs: string[] = [];
  const p = new Pipeline({
    registry, log: new RootLog({ write: (l) => void logs.push(l) }), devices: createDeviceDirectory(),
    services: new ServiceMap(), native: null, mode: "daemon",
  });
  return { p, logs };
}

const config = (body: string, validate = true) =>
  loadConfig({ registry, text: `[main]\nhostname = "node-a"\nstate_dir = "${tmp}"\n${body}`, path: "reload.toml", validate });

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

test("a [[prometheus]] changed on the same port reloads (the old one closes before the new one binds)", async () => {
  const { p } = pipeline();
  const port = await freePort();
  const first = await p.apply(config(`[[prometheus]]\naddress = "127.0.0.1:${port}"\n`));
  expect(first.failed).toEqual([]);
  expect(await scrape(port)).toContain("drbd_");
  const r = await p.apply(config(`[[prometheus]]\naddress = "127.0.0.1:${port}"\nenums = true\n`));
  expect(r.failed).toEqual([]);
  expect(r.started).toContain("prometheus[0]");
  expect(r.stopped).toContain("prometheus[0]");
  expect(r.restored).toEqual([]);
  const st = p.instances().find((i) => i.name === "prometheus[0]")!;
  expect(st.extra).toMatchObject({ address: `127.0.0.1:${port}`, port });
  expect(await scrape(port)).toContain("drbd_");
  await p.stop(1000);
});

test("a start that fails is reported and the old instance serves again; unchanged ones are not touched", async () => {
  const { p } = pipeline();
  const port = await freePort();
  const busy = await freePort();
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(busy, "127.0.0.1", () => r()));
  try {
    const out = join(tmp, "kept.ndjson");
    const base = `[kept]\nplugin = "file"\npath = "${out}"\n`;
    await p.apply(config(`${base}[[prometheus]]\naddress = "127.0.0.1:${port}"\n`));
    p.emitDraft({ severity: "info", system: "daemon", event_type: "TEST", msg: "before reload" });
    await Bun.sleep(50);
    const r = await p.apply(config(`${base}[[prometheus]]\naddress = "127.0.0.1:${busy}"\n`));
    expect(r.failed.map((f) => f.instance)).toEqual(["prometheus[0]"]);
    expect(r.failed[0]!.error).toContain("cannot start");
    expect(r.restored).toEqual(["prometheus[0]"]);
    expect(r.kept).toContain("kept");
    expect(r.started).not.toContain("prometheus[0]");
    // The old address serves again, the instance runs with its old config.
    expect(await scrape(port)).toContain("drbd_");
    expect(p.instances().find((i) => i.name === "prometheus[0]")!.extra).toMatchObject({ port });
    // The file receiver is the very same instance (its counters carry on).
    p.emitDraft({ severity: "info", system: "daemon", event_type: "TEST", msg: "after reload" });
    await Bun.sleep(50);
    expect(p.instances().find((i) => i.name === "kept")!.counters).toEqual({ written: 2 });
    expect(readFileSync(out, "utf8")).toContain("after reload");
  } finally {
    holder.close();
    await p.stop(1000);
  }
});

test("a reload rolled back (a creation error) never runs umh handlers, its replay included", async () => {
  const { p } = pipeline();
  const marker = join(tmp, "umh-ran");
  const script = join(tmp, "mark.sh");
  writeFileSync(script, `#!/bin/sh\necho "$DRBD_RES_NAME" >> ${marker}\n`, { mode: 0o755 });
  // The model holds resources already (a reload): a new umh is replayed their Exists updates.
  const dump = readFileSync(join(import.meta.dir, "drbd/streams/dump.events2"), "utf8");
  for (const r of decodeEvents2Text(dump)) p.drbd.apply(r, () => {});
  expect(p.drbd.isInitialized).toBe(true);
  await p.apply(config(""));
  const umh = `[[umh]]\n[[umh.resource]]\nname = "any"\ncommand = "${script}"\nevent-type = "Exists"\n`;
  // exec's create() refuses a program that is not there: the whole reload is rolled back.
  const bad = `[broken]\nplugin = "exec"\ncommand = ["/nonexistent/core-life-prog"]\n`;
  await expect(p.apply(config(umh + bad, false))).rejects.toThrow("/nonexistent/core-life-prog");
  await Bun.sleep(300);
  expect(existsSync(marker)).toBe(false);
  expect(p.instances().some((i) => i.plugin === "umh")).toBe(false);
  // Control: the same umh in a reload that goes through runs the rule on the replay.
  await p.apply(config(umh));
  const end = performance.now() + 5000;
  while (!existsSync(marker) && performance.now() < end) await Bun.sleep(20);
  expect(existsSync(marker)).toBe(true);
  await p.stop(1000);
});

test("the binary: SIGHUP after changing enums of a [[prometheus]] reloads it on the same port", async () => {
  const port = await freePort();
  const cfg = join(tmp, "prom.toml");
  const write = (enums: boolean) => writeFileSync(cfg, `[main]
hostname = "n1"
state_dir = "${tmp}/bin-state"
control_socket = "${tmp}/bin-ctl.sock"
[[prometheus]]
address = "127.0.0.1:${port}"
enums = ${enums}
`);
  write(false);
  const d = await startDaemon(["run", "-c", cfg], (s) => s.includes("started"));
  try {
    expect(await scrape(port)).toContain("drbd_");
    write(true);
    d.proc.kill("SIGHUP");
    await d.waitStderr((s) => s.includes("reloaded") || s.includes("reload failed") || s.includes("failed to start"));
    expect(d.stderr()).toContain("reloaded: started [prometheus[0]] stopped [prometheus[0]]");
    expect(d.stderr()).not.toContain("in use");
    expect(await scrape(port)).toContain("drbd_");
  } finally {
    d.proc.kill("SIGTERM");
    await d.proc.exited;
  }
});
