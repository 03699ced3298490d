// monitor, query, status and reload as functions against a real control server on a real socket.
import { STORE_SERVICE } from "../../src/store-api.ts";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startControlServer, type ControlServer } from "../../src/control/server.ts";
import { monitorCommand } from "../../src/cli/monitor.ts";
import { queryCommand } from "../../src/cli/query.ts";
import { statusCommand } from "../../src/cli/status.ts";
import { reloadCommand } from "../../src/cli/reload.ts";
import { nowUs, type StorageEvent } from "../../src/event.ts";
import { FakeDaemon, makeEvent, quietLog } from "../helpers/fake-daemon.ts";

let daemon: FakeDaemon;
let server: ControlServer | undefined;
let sock: string;

beforeEach(async () => {
  daemon = new FakeDaemon({ store: true });
  sock = join(daemon.dir, "control.sock");
  server = await startControlServer(daemon, { socketPath: sock, log: quietLog });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  daemon.cleanup();
});

function io(isTTY = false) {
  const o = { out: "", err: "", io: { out: (s: string) => void (o.out += s), err: (s: string) => void (o.err += s), isTTY } };
  return o;
}

/** Waits until the server has n follow clients. */
async function followers(n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const st = await fetch("http://localhost/v1/status", { unix: sock } as RequestInit).then((r) => r.json()) as { control: { follow_clients: number } };
    if (st.control.follow_clients >= n) return;
    await Bun.sleep(10);
  }
  throw new Error(`no ${n} follow clients`);
}

const T = nowUs() - 600e6;
function seed(): StorageEvent[] {
  const evs = [
    makeEvent({ time_us: T, system: "scsi", severity: "error", event_type: "SCSI_SENSE", dev_name: "sdb", msg: "sdb: Medium Error, unrecovered read error" }),
    makeEvent({ time_us: T + 1e6, system: "multipath", severity: "warn", event_type: "DM_MPATH_PATH_DOWN", dev_name: "dm-0", msg: "mpatha: path 8:16 failed, 1 of 2 paths left" }),
    makeEvent({ time_us: T + 2e6, system: "fs", severity: "info", event_type: "FS_MOUNTED", dev_name: "sdc1", msg: "ext4 on sdc1 mounted at /srv", extension: { repeat: 3 } }),
  ];
  daemon.store!.add(evs);
  daemon.store!.flush();
  return evs;
}

describe("storeventd monitor", () => {
  test("monitor --json --count prints matching live events as NDJSON and exits 0", async () => {
    const c = io();
    const run = monitorCommand(["--socket", sock, "--json", "--system", "scsi,fs", "--severity", "warn", "-n", "2"], c.io);
    await followers(1);
    const evs = [
      makeEvent({ system: "fs", severity: "info" }), makeEvent({ system: "scsi", severity: "warn" }),
      makeEvent({ system: "multipath", severity: "error" }), makeEvent({ system: "fs", severity: "error" }),
    ];
    for (const e of evs) daemon.emit(e);
    expect(await run).toBe(0);
    expect(c.out.trimEnd().split("\n").map((l) => JSON.parse(l))).toEqual([evs[1], evs[3]]);
    expect(c.err).toBe("");
  });

  test("monitor prints one human line per event, coloured only on a TTY", async () => {
    const plain = io(false), tty = io(true);
    const a = monitorCommand(["--socket", sock, "-n", "1"], plain.io);
    const b = monitorCommand(["--socket", sock, "-n", "1"], tty.io);
    await followers(2);
    const e = makeEvent({ severity: "error", system: "scsi", event_type: "SCSI_SENSE", dev_name: "sdb", msg: "Medium Error", extension: { repeat: 4 } });
    daemon.emit(e);
    expect(await a).toBe(0);
    expect(await b).toBe(0);
    expect(plain.out).toBe(`${e.time} testhost error scsi/SCSI_SENSE sdb: Medium Error (x4)\n`);
    expect(tty.out).toContain("\x1b[31merror\x1b[0m");
    expect(tty.out.replace(/\x1b\[\d+m/g, "")).toBe(plain.out);
  });

  test("monitor exits 1 with a clear message when the daemon stops", async () => {
    const c = io();
    const run = monitorCommand(["--socket", sock], c.io);
    await followers(1);
    daemon.emit(makeEvent({ msg: "before stop" }));
    await Bun.sleep(50);
    await server!.close();
    server = undefined;
    expect(await run).toBe(1);
    expect(c.out).toContain("before stop");
    expect(c.err).toBe(`storeventd monitor: the daemon stopped (the event stream from ${sock} ended)\n`);
  });

  test("monitor --follow-restarts reconnects and replays what happened while the daemon was away", async () => {
    const c = io();
    const run = monitorCommand(["--socket", sock, "--follow-restarts", "--json", "-n", "4"], c.io);
    await followers(1);
    const evs = Array.from({ length: 4 }, (_, i) => makeEvent({ msg: `m${i}`, time_us: nowUs() + i }));
    daemon.emit(evs[0]!);
    daemon.emit(evs[1]!);
    await Bun.sleep(50);
    daemon.store!.flush();
    await server!.close(); // daemon stops; while it is down the store gets one more event
    daemon.store!.add([evs[2]!]);
    daemon.store!.flush();
    await Bun.sleep(300);
    server = await startControlServer(daemon, { socketPath: sock, log: quietLog });
    await followers(1);
    daemon.emit(evs[3]!);
    expect(await run).toBe(0);
    expect(c.out.trimEnd().split("\n").map((l) => JSON.parse(l).msg)).toEqual(["m0", "m1", "m2", "m3"]);
    expect(c.err).toContain(`storeventd stopped; waiting for it on ${sock}`);
    expect(c.err).toContain(`storeventd is back on ${sock}`);
  });

  test("monitor: not running is one line naming the socket, exit 1; bad flags exit 2; --help exits 0", async () => {
    const gone = join(daemon.dir, "gone.sock");
    let c = io();
    expect(await monitorCommand(["--socket", gone], c.io)).toBe(1);
    expect(c.err).toBe(`storeventd monitor: storeventd is not running (cannot connect to ${gone}: no such socket)\n`);
    for (const args of [["--severity", "loud"], ["--system", "floppy"], ["--bogus"], ["-n", "0"], ["--since", "last tuesday"], ["stray"]]) {
      c = io();
      expect(await monitorCommand(["--socket", sock, ...args], c.io)).toBe(2);
      expect(c.err).toMatch(/^storeventd monitor: .+\nTry 'storeventd monitor --help'\.\n$/);
    }
    c = io();
    expect(await monitorCommand(["--help"], c.io)).toBe(0);
    expect(c.out).toStartWith("Usage: storeventd monitor [OPTIONS]");
    for (const flag of ["--json", "--since", "--follow-restarts", "--count", "--system", "--severity", "--type", "--dev", "--socket", "--config"]) {
      expect(c.out).toContain(flag);
    }
  });

  test("-c CONFIG takes control_socket from [main] and conf.d snippets; a bad config exits 2", async () => {
    const cfg = join(daemon.dir, "storeventd.toml");
    writeFileSync(cfg, `[main]\ncontrol_socket = "${sock}"\n\n[store]\ntype = "receiver"\n`);
    const c = io();
    const run = monitorCommand(["-c", cfg, "-n", "1", "--json"], c.io);
    await followers(1);
    const e = makeEvent();
    daemon.emit(e);
    expect(await run).toBe(0);
    expect(JSON.parse(c.out)).toEqual(e);
    // A snippet in conf.d/ beside it wins; a missing or broken config is a config error (exit 2).
    mkdirSync(join(daemon.dir, "conf.d"));
    writeFileSync(join(daemon.dir, "conf.d", "10-socket.toml"), `[main]\ncontrol_socket = "${join(daemon.dir, "other.sock")}"\n`);
    const other = io();
    expect(await statusCommand(["-c", cfg], other.io)).toBe(1);
    expect(other.err).toContain(`cannot connect to ${join(daemon.dir, "other.sock")}`);
    const missing = io();
    expect(await statusCommand(["-c", join(daemon.dir, "nope.toml")], missing.io)).toBe(2);
    expect(missing.err).toBe(`storeventd status: ${join(daemon.dir, "nope.toml")}: no such config file\n`);
    writeFileSync(cfg, "[main\n");
    const broken = io();
    expect(await queryCommand(["-c", cfg], broken.io)).toBe(2);
    expect(broken.err).toStartWith(`storeventd query: ${cfg}: `);
  });
});

describe("storeventd query", () => {
  test("query prints a table of stored events, oldest first", async () => {
    seed();
    const c = io();
    expect(await queryCommand(["--socket", sock], c.io)).toBe(0);
    const lines = c.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+SEVERITY\s+SYSTEM\s+TYPE\s+DEVICE\s+MESSAGE$/);
    expect(lines.length).toBe(4);
    expect(lines[1]).toMatch(/^\S+Z\s+error\s+scsi\s+SCSI_SENSE\s+sdb\s+sdb: Medium Error, unrecovered read error$/);
    expect(lines[3]).toMatch(/FS_MOUNTED\s+sdc1\s+ext4 on sdc1 mounted at \/srv \(x3\)$/);
    // Columns line up.
    const typeCol = lines[0]!.indexOf("TYPE");
    for (const l of lines.slice(1)) expect(l.slice(typeCol)).toMatch(/^[A-Z_]+\s/);
  });

  test("query --json with each filter, --since/--until, --limit and --reverse", async () => {
    const evs = seed();
    const q = async (...args: string[]) => {
      const c = io();
      expect(await queryCommand(["--socket", sock, "--json", ...args], c.io)).toBe(0);
      return c.out.trimEnd().split("\n").filter(Boolean).map((l) => evs.findIndex((e) => e.event_id === JSON.parse(l).event_id));
    };
    expect(await q()).toEqual([0, 1, 2]);
    expect(await q("--system", "multipath")).toEqual([1]);
    expect(await q("--severity", "warn")).toEqual([0, 1]);
    expect(await q("--type", "fs_mounted")).toEqual([2]);
    expect(await q("--dev", "/dev/sdb", "--dev", "sdc1")).toEqual([0, 2]);
    expect(await q("--since", new Date((T + 1e6) / 1000).toISOString())).toEqual([1, 2]);
    expect(await q("--until", new Date((T + 1e6) / 1000).toISOString())).toEqual([0]);
    expect(await q("--since", "1h", "--until", "now")).toEqual([0, 1, 2]);
    expect(await q("--since", "5m")).toEqual([]);
    expect(await q("--limit", "1", "--reverse")).toEqual([2]);
    const c = io();
    expect(await queryCommand(["--socket", sock, "--limit", "2"], c.io)).toBe(0);
    expect(c.err).toContain("stopped at --limit 2");
  });

  test("query: empty result, no store, not running, bad flags", async () => {
    let c = io();
    expect(await queryCommand(["--socket", sock], c.io)).toBe(0);
    expect(c.out).toBe("-- no events --\n");
    daemon.services.provide(STORE_SERVICE, undefined);
    c = io();
    expect(await queryCommand(["--socket", sock], c.io)).toBe(1);
    expect(c.err).toMatch(/^storeventd query: GET \/v1\/events: no store receiver is running.*\(503 no_store\)\n$/);
    c = io();
    expect(await queryCommand(["--socket", join(daemon.dir, "x.sock")], c.io)).toBe(1);
    expect(c.err).toContain(`cannot connect to ${join(daemon.dir, "x.sock")}`);
    for (const args of [["--limit", "-3"], ["--limit", "1000001"], ["--until", "tomorrow-ish"], ["--type", "not a type"]]) {
      c = io();
      expect(await queryCommand(["--socket", sock, ...args], c.io)).toBe(2);
    }
    c = io();
    expect(await queryCommand(["-h"], c.io)).toBe(0);
    expect(c.out).toContain("--reverse");
  });
});

describe("storeventd status", () => {
  test("status prints daemon, addon, store, senders, receivers and DRBD like systemctl status", async () => {
    seed();
    daemon.drbd.toStatusJson = () => [{
      name: "r0", role: "Primary", suspended: false,
      devices: [{ volume: 0, minor: 1000, "disk-state": "UpToDate", quorum: true }],
      connections: [{ "peer-node-id": 1, name: "node-b", "connection-state": "Connected", "peer-role": "Secondary",
        peer_devices: [{ volume: 0, "replication-state": "SyncSource", "peer-disk-state": "Inconsistent", "percent-in-sync": 42.5 }] }],
    }];
    const c = io();
    expect(await statusCommand(["--socket", sock], c.io)).toBe(0);
    const out = c.out;
    expect(out).toStartWith(`● storeventd - storage event daemon, running (pid ${process.pid})\n`);
    expect(out).toContain("     Version: 0.1.0 (test)");
    expect(out).toContain("1min 5s ago");
    expect(out).toContain("      Config: /etc/storeventd/storeventd.toml");
    expect(out).toContain("       Addon: loaded (kmsg, uevent)");
    expect(out).toMatch(new RegExp(`Store: ${join(daemon.dir, "events.db")}, [\\d.]+ KiB, 3 events`));
    expect(out).toMatch(/Senders:\n\s+NAME\s+PLUGIN\s+COUNTERS\n\s+kmsg\s+kmsg\s+records=120 parsed=118 dropped=2 overrun=0/);
    expect(out).toMatch(/Receivers:\n\s+NAME\s+PLUGIN\s+QUEUE\s+SENT\s+DROPPED\s+ERRORS\s+COUNTERS\n\s+store\s+store\s+3\/1000\s+115\s+0\s+0\s+written=118/);
    expect(out).toContain("DRBD resources:\n  r0: Primary, disk UpToDate; peers: node-b Connected Secondary Inconsistent SyncSource 42.5% in sync\n");
  });

  test("status --json is the status document plus drbd", async () => {
    const drbd = [{ name: "r1", role: "Secondary", devices: [], connections: [] }];
    daemon.drbd.toStatusJson = () => drbd;
    const c = io();
    expect(await statusCommand(["--socket", sock, "--json"], c.io)).toBe(0);
    const doc = JSON.parse(c.out);
    expect(doc).toMatchObject({ ...daemon.status(), started: expect.any(String), uptime_s: 65, drbd });
    expect(doc.store.events).toBe(0);
  });

  test("status: fallback addon is shown; not running is exit 1; usage is exit 2", async () => {
    const real = daemon.status.bind(daemon);
    daemon.status = () => ({ ...real(), addon: { loaded: false, features: [], error: "disabled by STOREVENTD_NO_ADDON=1" } });
    let c = io();
    expect(await statusCommand(["--socket", sock], c.io)).toBe(0);
    expect(c.out).toContain("Addon: fallback to TypeScript: disabled by STOREVENTD_NO_ADDON=1");
    c = io();
    expect(await statusCommand(["--socket", join(daemon.dir, "none.sock")], c.io)).toBe(1);
    expect(c.err.split("\n").length).toBe(2);
    c = io();
    expect(await statusCommand(["--jsn"], c.io)).toBe(2);
  });
});

describe("storeventd reload", () => {
  test("reload prints what started, stopped and stayed; a rejected config is exit 1 with the reason", async () => {
    let c = io();
    expect(await reloadCommand(["--socket", sock], c.io)).toBe(0);
    expect(c.out).toBe("reloaded: started mail; stopped old; kept kmsg, store\n");
    daemon.reloadResult = { ok: false, error: "/etc/storeventd/storeventd.toml:4: [mail] unknown key \"to_addr\" (did you mean \"to\"?)", started: [], stopped: [], kept: [] };
    c = io();
    expect(await reloadCommand(["--socket", sock], c.io)).toBe(1);
    expect(c.err).toContain('storeventd.toml:4: [mail] unknown key "to_addr"');
  });
});
