// The journal sender through the compiled binary against a journald of its own (a journal namespace
// that also reads /dev/kmsg): every parser fixture line, written with `logger` under the daemon's
// identifier and priority, gives its event once; a restart resumes from the cursor with nothing
// twice; kernel-transport entries and other users' entries are ignored; the journalctl fallback gives the same events; a
// kernel line (kmsg) and multipathd's lines (journal) about one path are one event.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin, startDaemon } from "../../../test/helpers/bin.ts";
import { startJournalNamespace, type JournalNamespace } from "../../../test/helpers/journald.ts";
import { expectedEvents, PRIORITIES, readJournalFixture, type JournalFixtureLine } from "../../../test/helpers/journal-fixtures.ts";
import { waitFor } from "../../../test/helpers/wait.ts";
import type { StorageEvent } from "../../../src/plugin-kit/event.ts";
import { journalctlArgs } from "../../../src/plugin-kit/readers.ts";

const root = join(import.meta.dir, "../../..");
const FIXTURES = [
  "plugins/parser/smart/testdata/smartd.journal",
  "plugins/parser/lvm/testdata/dmeventd.journal",
  "plugins/parser/mdraid/testdata/mdadm.journal",
  "plugins/parser/iscsi/testdata/iscsid.journal",
  "plugins/parser/dm/testdata/multipathd.journal",
];
const lines = FIXTURES.flatMap((f) => readJournalFixture(join(root, f)));
const key = (e: { event_type: string; severity: string }) => `${e.event_type} ${e.severity}`;
const expected = expectedEvents(lines).map(([t, s]) => `${t} ${s}`).sort();

let jd: JournalNamespace;
let dir: string;

beforeAll(async () => {
  for (const tool of ["/usr/bin/logger", "/usr/bin/journalctl"]) if (!existsSync(tool)) throw new Error(`${tool} is needed`);
  jd = await startJournalNamespace("j21sender", "[Journal]\nReadKMsg=yes\n");
  dir = mkdtempSync(join(tmpdir(), "journal21-sender-"));
});
afterAll(async () => {
  await jd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One entry through the namespace's syslog socket, as the daemon would write it. */
function log(l: Pick<JournalFixtureLine, "daemon" | "priority" | "msg">): void {
  const p = Bun.spawnSync(["logger", "-u", `/run/systemd/journal.${jd.ns}/dev-log`, "-t", l.daemon, "-p", `daemon.${PRIORITIES[l.priority]}`, "--", l.msg]);
  if (p.exitCode !== 0) throw new Error(`logger: ${p.stderr.toString()}`);
}

function config(name: string, reader: string, extra = ""): string {
  const path = join(dir, `${name}.toml`);
  writeFileSync(path, `[main]
hostname = "j21"
state_dir = "${join(dir, `state-${name}`)}"
control_socket = "${join(dir, `${name}.sock`)}"
[journal]
type = "sender"
namespace = "${jd.ns}"
reader = "${reader}"
cursor_interval = "100ms"
${extra}
[out]
type = "receiver"
plugin = "stdout"
format = "json"
`);
  return path;
}

async function run(cfg: string, env: Record<string, string> = {}) {
  const d = await startDaemon(["run", "-c", cfg], (err) => err.includes("following the journal"), env);
  const events = () => d.stdout().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as StorageEvent)
    .filter((e) => e.system !== "daemon");
  const stop = async () => {
    d.proc.kill("SIGTERM");
    await d.proc.exited;
  };
  return { ...d, events, stop };
}

describe("journal sender (binary, own journald)", () => {
  let first: StorageEvent[] = [];

  test("sd-journal reader: each fixture line gives its event once; kernel and non-root entries are ignored", async () => {
    // A user-facility /dev/kmsg record: journald stores it as _TRANSPORT=kernel, SYSLOG_IDENTIFIER=multipathd.
    writeFileSync("/dev/kmsg", "<29>multipathd[999]: checker failed path 8:99 in map j21kernel\n");
    // Another user's line tagged as a storage daemon (journald sets _UID from its credentials).
    const nobody = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "logger", "-u", `/run/systemd/journal.${jd.ns}/dev-log`,
      "-t", "smartd", "-p", "daemon.crit", "--", "Device: /dev/sdj21nobody [SAT], FAILED SMART self-check. BACK UP DATA NOW!"]);
    expect(nobody.exitCode).toBe(0);
    await jd.entries(["_UID=65534"], 1).then((e) => expect(e.length).toBeGreaterThan(0));
    await jd.entries(["_TRANSPORT=kernel", "SYSLOG_IDENTIFIER=multipathd"], 1).then((e) => expect(e.length).toBeGreaterThan(0));
    const cfg = config("native", "sd-journal");
    const d = await run(cfg);
    expect(d.stderr()).toContain("(sd-journal reader)");
    const st = await runBin(["status", "--json", "-c", cfg]);
    const inst = (JSON.parse(st.stdout).instances as { name: string; extra?: Record<string, unknown> }[]).find((i) => i.name === "journal");
    expect(inst?.extra).toMatchObject({ reader: "sd-journal", namespace: jd.ns });
    for (const l of lines) log(l);
    await waitFor(() => d.events().length >= expected.length, 45_000, "the fixture events").catch(() => {});
    await Bun.sleep(1500); // the multipath merge window passes; nothing more may come
    first = d.events();
    await d.stop();
    expect(first.map(key).sort()).toEqual(expected);
    expect(first.some((e) => JSON.stringify(e).includes("j21kernel"))).toBe(false);
    expect(first.some((e) => JSON.stringify(e).includes("j21nobody"))).toBe(false);
    // Records carry the daemon, PID and the entry's own timestamp.
    const smart = first.find((e) => e.event_type === "SMART_FAILURE_PREDICTED" && e.dev_name === "sda")!;
    expect(smart.raw).toMatch(/^smartd\[\d+\]: Device: \/dev\/sda \[SAT\], FAILED SMART self-check/);
    expect(smart.source).toBe("journal");
    const entry = (await jd.entries(["SYSLOG_IDENTIFIER=smartd", "_UID=0"], 1))[0]!;
    expect(Date.parse(smart.time) * 1000).toBe(Math.floor(Number(entry.__REALTIME_TIMESTAMP) / 1000) * 1000);
  }, 90_000);

  test("a restart resumes after the cursor: only new entries, nothing twice", async () => {
    const cfg = config("native", "sd-journal");
    expect(readFileSync(join(dir, "state-native", "journal.cursor"), "utf8")).toContain("cursor");
    const d = await run(cfg);
    log({ daemon: "smartd", priority: 2, msg: "Device: /dev/sdz [SAT], 4 Currently unreadable (pending) sectors" });
    log({ daemon: "dmeventd", priority: 4, msg: "WARNING: Thin pool vgz-poolz-tpool data is now 90.00% full." });
    await waitFor(() => d.events().length >= 2, 10_000, "two new events");
    await Bun.sleep(800);
    const got = d.events();
    await d.stop();
    expect(got.map((e) => `${e.event_type} ${e.dev_name}`)).toEqual(["SMART_PENDING_SECTORS sdz", "LVM_THIN_POOL_USAGE vgz-poolz-tpool"]);
  }, 30_000);

  test("without the addon (so without libsystemd) the journalctl fallback gives the same events from the same entries", async () => {
    const d = await run(config("fallback", "auto"), { STOREVENTD_NO_ADDON: "1" });
    expect(d.stderr()).toContain("(journalctl reader)");
    await waitFor(() => d.events().length >= expected.length + 2, 45_000, "the fixture events").catch(() => {});
    await Bun.sleep(1500);
    const got = d.events();
    await d.stop();
    expect(got.map(key).sort()).toEqual([...expected, "SMART_PENDING_SECTORS error", "LVM_THIN_POOL_USAGE warn"].sort());
    expect(got.some((e) => JSON.stringify(e).includes("j21kernel"))).toBe(false);
    expect(got.some((e) => JSON.stringify(e).includes("j21nobody"))).toBe(false);
  }, 90_000);

  test("multipath: the kernel line (kmsg) and multipathd's lines (journal) are one event with remaining_paths", async () => {
    // drivers/md/dm-mpath.c fail_path(): DMWARN("%s: Failing path %s.") as a /dev/kmsg record, read from a file.
    const kmsg = join(dir, "mpath.kmsg");
    writeFileSync(kmsg, "4,77001,5123456789,-;device-mapper: multipath: 253:7: Failing path 8:208.\n");
    const d = await run(config("mpath", "sd-journal", `from = "end"\n[kmsg]\ntype = "sender"\npath = "${kmsg}"\nfrom = "start"\ncursor_file = "${join(dir, "kmsg.cursor")}"`));
    log({ daemon: "multipathd", priority: 5, msg: "checker failed path 8:208 in map j21mpath" });
    log({ daemon: "multipathd", priority: 5, msg: "j21mpath: remaining active paths: 1" });
    await waitFor(() => d.events().some((e) => e.event_type === "DM_MPATH_PATH_DOWN"), 10_000, "the path event");
    await Bun.sleep(1500);
    const got = d.events().filter((e) => e.system === "multipath");
    await d.stop();
    expect(got.length).toBe(1);
    expect(got[0]!.extension).toMatchObject({ path: "8:208", map: "253:7", map_name: "j21mpath", remaining_paths: 1, reported_by: ["kmsg", "multipathd"] });
  }, 30_000);
});

test("journalctlArgs() follows from the cursor, matching root's entries of the daemons by identifier or command", () => {
  const args = journalctlArgs({ daemons: ["smartd", "mdadm"], namespace: "x", directory: "", cursor: "s=1", sinceUs: 5e6, source: "j" });
  expect(args).toEqual(["journalctl", "--follow", "--output=export", "--all", "--no-pager", "--namespace=x", "--after-cursor=s=1", "--lines=all",
    "SYSLOG_IDENTIFIER=smartd", "SYSLOG_IDENTIFIER=mdadm", "_UID=0", "+", "_COMM=smartd", "_COMM=mdadm", "_UID=0"]);
});
