// The receivers through the compiled binary: `storeventd check` reports their config errors with
// file:line, and `run` delivers the daemon's own events to a real journald (journal namespace,
// through the embedded addon) and to an exec recorder.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin, startDaemon } from "./helpers/bin.ts";
import { JOURNALD, startJournalNamespace } from "./helpers/journald.ts";
import { need, rootAnd } from "./helpers/need.ts";

const dir = mkdtempSync(join(tmpdir(), "sevd-rcvbin-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("check names every receiver's config error with key, file and line", async () => {
  const bad = join(dir, "bad.toml");
  writeFileSync(bad, `[main]
hostname = "n1"
[alerts]
type = "receiver"
plugin = "multicast"
group = "10.0.0.1:6699"
[mail]
type = "receiver"
plugin = "email"
server = "mx.example:25"
from = "a@b.c"
to = []
[chat]
type = "receiver"
plugin = "irc"
server = "irc.example:6667"
nick = "9lives"
channel = "#x"
[bus]
type = "receiver"
plugin = "nats"
servers = ["http://nats:4222"]
[script]
type = "receiver"
plugin = "exec"
command = []
[journal]
type = "receiver"
plugin = "journald"
path = "run/journal"
`);
  const r = await runBin(["check", "-c", bad]);
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split("\n")).toEqual([
    `[alerts] group: bad group: 10.0.0.1 is not an IPv4 multicast address (224.0.0.0/4) (${bad}:6)`,
    `[mail] to: to needs at least one recipient (${bad}:12)`,
    `[chat] nick: not a valid IRC nickname (${bad}:17)`,
    `[bus] servers[0]: not a NATS server URL ("nats://host:4222", "tls://host:4222" or "host:4222") (${bad}:22)`,
    `[script] command: command needs at least the program: command = ["/path/to/prog", "arg"] (${bad}:26)`,
    `[journal] path: must be an absolute socket path (or @abstract) (${bad}:30)`,
  ]);
});

test("check accepts a config with all six receivers", async () => {
  const good = join(dir, "good.toml");
  writeFileSync(good, `[main]
hostname = "n1"
[alerts]
type = "receiver"
plugin = "multicast"
group = "[ff05::77]:6699"
interface = "eth0"
[mail]
type = "receiver"
plugin = "email"
server = "mx.example"
from = "a@b.c"
to = ["x@y.z"]
[chat]
type = "receiver"
plugin = "irc"
server = "irc.example"
nick = "sevd"
channel = "#x"
[bus]
type = "receiver"
plugin = "nats"
jetstream = true
[script]
type = "receiver"
plugin = "exec"
command = ["/bin/true"]
[journal]
type = "receiver"
plugin = "journald"
`);
  const r = await runBin(["check", "-c", good]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("receivers: alerts (multicast), mail (email), chat (irc), bus (nats), script (exec), journal (journald)");
});

test("run: DAEMON_STARTED/STOPPING reach a real journald through the binary's addon, and an exec recorder", async () => {
  need(rootAnd(JOURNALD));
  const jd = await startJournalNamespace("sevdbin");
  const socket = jd.socket;
  const rec = join(dir, "rec");
  try {
    const cfg = join(dir, "run.toml");
    writeFileSync(cfg, `[main]
hostname = "n1"
state_dir = "${dir}/state"
[journal]
type = "receiver"
plugin = "journald"
path = "${socket}"
[script]
type = "receiver"
plugin = "exec"
command = ["${join(import.meta.dir, "../plugins/receiver/exec/testdata/recorder.sh")}"]
env = { REC_DIR = "${rec}" }
`);
    mkdirSync(join(dir, "bun-tmp"));
    const d = await startDaemon(["run", "-c", cfg], (s) => s.includes("started"), { BUN_TMPDIR: join(dir, "bun-tmp") });
    await Bun.sleep(300);
    d.proc.kill("SIGTERM");
    expect(await d.proc.exited).toBe(0);
    const entries = await jd.entries(["SYSLOG_IDENTIFIER=storeventd"], 2);
    expect(entries.map((e) => e.STOREVENTD_EVENT_TYPE)).toEqual(["DAEMON_STARTED", "DAEMON_STOPPING"]);
    expect(entries[0]!.STOREVENTD_SYSTEM).toBe("daemon");
    expect(JSON.parse(entries[0]!.STOREVENTD_JSON!).hostname).toBe("n1");
    expect(entries[0]!.STOREVENTD_EXT_ADDON).toBe("true"); // the embedded addon loaded
    const runs = readdirSync(rec).filter((f) => f.startsWith("run."));
    const types = runs.map((r) => readFileSync(join(rec, r, "env"), "utf8").split("\0").find((kv) => kv.startsWith("STOREVENTD_EVENT_TYPE="))).sort();
    expect(types).toEqual(["STOREVENTD_EVENT_TYPE=DAEMON_STARTED", "STOREVENTD_EVENT_TYPE=DAEMON_STOPPING"]);

    // Without the addon: the documented fallback, sd-daemon prefixed lines on stderr, said once.
    const f = await startDaemon(["run", "-c", cfg], (s) => s.includes("<6>DAEMON_STARTED"), { STOREVENTD_NO_ADDON: "1" });
    f.proc.kill("SIGTERM");
    expect(await f.proc.exited).toBe(0);
    expect(f.stderr()).toMatch(/^<6>DAEMON_STARTED: storeventd \S+ started$/m);
    expect(f.stderr()).toMatch(/^<6>DAEMON_STOPPING: storeventd stopping$/m);
    expect(f.stderr().match(/native addon not loaded; writing events to stderr/g)).toHaveLength(1);
  } finally {
    await jd.stop();
  }
}, 30_000);
