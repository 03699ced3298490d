// "A receiver whose server is down never delays the others" (SPEC §6), measured with the real
// router: the file receiver's latency while email, irc, nats and exec receivers face servers that
// refuse, hang or are missing, against the same receiver alone in the same run.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import plugins from "../plugins/all.ts";
import { Pipeline } from "../src/pipeline.ts";
import { Registry } from "../src/registry.ts";
import { RootLog } from "../src/util/log.ts";
import { ServiceMap } from "../src/util/services.ts";
import { createDeviceDirectory } from "../src/devices/index.ts";
import { loadConfig } from "../src/config/load.ts";
import { freePort } from "./helpers/receiver.ts";

const tmp = mkdtempSync(join(tmpdir(), "sevd-isolation-"));
const hung: net.Socket[] = [];
const blackhole = net.createServer((s) => void hung.push(s)); // accepts, never answers
afterAll(() => {
  for (const s of hung) s.destroy();
  blackhole.close();
  rmSync(tmp, { recursive: true, force: true });
});

function pipeline(toml: string) {
  const registry = new Registry(plugins);
  const p = new Pipeline({
    registry, log: new RootLog({ write: () => {} }), devices: createDeviceDirectory(), services: new ServiceMap(), native: null, mode: "daemon",
  });
  return { p, cfg: loadConfig({ registry, text: toml, path: "isolation.toml" }) };
}

/** Emits n events one at a time; per event, the ms until the file receiver has written it. */
async function fileLatencies(p: Pipeline, path: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = (() => { try { return statSync(path).size; } catch { return 0; } })();
    const t0 = performance.now();
    p.emitDraft({ severity: "error", system: "scsi", event_type: "SCSI_TIMEOUT", msg: `isolation ${i}`, dev_name: "sdq" });
    for (;;) {
      let size = 0;
      try { size = statSync(path).size; } catch {}
      if (size > before) break;
      await Bun.sleep(0);
    }
    out.push(performance.now() - t0);
    await Bun.sleep(2);
  }
  return out;
}

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

test("the file receiver's latency is the same while email, irc, nats and exec receivers are stuck", async () => {
  await new Promise<void>((r) => blackhole.listen(0, "127.0.0.1", () => r()));
  const hole = (blackhole.address() as net.AddressInfo).port;
  const refused = await freePort();
  const N = 150;

  const alone = pipeline(`[main]\nhostname = "iso"\n[log]\ntype = "receiver"\nplugin = "file"\npath = "${join(tmp, "alone.ndjson")}"\nfsync = "never"\n`);
  await alone.p.apply(alone.cfg);
  const base = await fileLatencies(alone.p, join(tmp, "alone.ndjson"), N);
  await alone.p.stop(1000);

  const busy = pipeline(`[main]
hostname = "iso"
[log]
type = "receiver"
plugin = "file"
path = "${join(tmp, "busy.ndjson")}"
fsync = "never"
[mail_hang]
type = "receiver"
plugin = "email"
server = "127.0.0.1:${hole}"
security = "none"
from = "a@b.c"
to = ["x@y.z"]
batch_max = 1
timeout = "1m"
[mail_refused]
type = "receiver"
plugin = "email"
server = "127.0.0.1:${refused}"
security = "none"
from = "a@b.c"
to = ["x@y.z"]
batch_max = 1
retry_wait = "10ms"
[chat]
type = "receiver"
plugin = "irc"
server = "127.0.0.1:${hole}"
nick = "iso"
channel = "#iso"
[bus]
type = "receiver"
plugin = "nats"
servers = ["127.0.0.1:${refused}"]
jetstream = true
[script]
type = "receiver"
plugin = "exec"
command = ["sleep", "30"]
parallel = 1
timeout = "1m"
`);
  await busy.p.apply(busy.cfg);
  const loaded = await fileLatencies(busy.p, join(tmp, "busy.ndjson"), N);
  const status = Object.fromEntries(busy.p.instances().map((i) => [i.name, i]));
  // The others really were stuck: nothing delivered, events waiting or failing.
  expect(status.mail_hang!.counters.sent ?? 0).toBe(0);
  expect(status.mail_refused!.counters.sent ?? 0).toBe(0);
  expect(status.mail_refused!.counters.retries ?? 0).toBeGreaterThan(0);
  expect(status.chat!.counters.sent ?? 0).toBe(0);
  expect(status.bus!.counters.sent ?? 0).toBe(0);
  expect(status.script!.counters.sent ?? 0).toBe(0);
  const lines = readFileSync(join(tmp, "busy.ndjson"), "utf8").trim().split("\n").map((l) => JSON.parse(l).msg);
  expect(lines.filter((m: string) => m.startsWith("isolation "))).toEqual(Array.from({ length: N }, (_, i) => `isolation ${i}`));
  console.log(`file receiver latency ms, alone: p50 ${pct(base, 0.5).toFixed(2)} p99 ${pct(base, 0.99).toFixed(2)} max ${Math.max(...base).toFixed(2)}; ` +
    `with 5 stuck receivers: p50 ${pct(loaded, 0.5).toFixed(2)} p99 ${pct(loaded, 0.99).toFixed(2)} max ${Math.max(...loaded).toFixed(2)}`);
  // Not a speed goal: a stuck receiver would show up as seconds (its timeouts), not milliseconds.
  expect(Math.max(...loaded)).toBeLessThan(250);
  await busy.p.stop(200);
}, 30_000);
