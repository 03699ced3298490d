// status --fleet, query --host and monitor --host against a real control server whose daemon
// serves a fleet service (the shapes of src/fleet-api.ts) and stores events from several hosts.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startControlServer, type ControlServer } from "../../src/control/server.ts";
import { monitorCommand } from "../../src/cli/monitor.ts";
import { queryCommand } from "../../src/cli/query.ts";
import { statusCommand } from "../../src/cli/status.ts";
import { FLEET_SERVICE, type FleetHost, type FleetResource, type FleetService } from "../../src/fleet-api.ts";
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
  daemon.cleanup();
});

function io() {
  const o = { out: "", err: "", io: { out: (s: string) => void (o.out += s), err: (s: string) => void (o.err += s), isTTY: false } };
  return o;
}

const HOSTS: FleetHost[] = [
  { hostname: "stor-1", state: "alive", last_seen: "2026-12-07T03:00:00.000Z", version: "0.1.0", uptime_s: 120, drops: 0, events_1h: { info: 4, warn: 1, error: 0 } },
  { hostname: "stor-2", state: "silent", last_seen: "2026-12-07T02:59:00.000Z", version: "0.1.0", uptime_s: 60, drops: 3, events_1h: { info: 0, warn: 0, error: 2 }, last_error: "sdb: Medium Error" },
];
const DRBD: FleetResource[] = [
  { host: "stor-1", resource: { name: "r0", role: "Primary", devices: [{ volume: 0, "disk-state": "UpToDate" }] } },
  { host: "stor-2", resource: { name: "r0", role: "Secondary", devices: [{ volume: 0, "disk-state": "UpToDate" }] }, stale: true },
  { host: "stor-1", resource: { name: "r1", role: "Primary" } },
  { host: "stor-2", resource: { name: "r1", role: "Primary" } },
];
const fleet: FleetService = { hosts: () => HOSTS, drbd: () => DRBD };

describe("fleet CLI", () => {
  test("status --fleet: hosts with state, last seen, events per severity; resources with where they are Primary", async () => {
    daemon.services.provide(FLEET_SERVICE, fleet);
    const c = io();
    expect(await statusCommand(["--socket", sock, "--fleet"], c.io)).toBe(0);
    const lines = c.out.split("\n");
    expect(lines[0]).toBe("Hosts (2):");
    expect(lines[1]).toMatch(/^\s+HOST\s+STATE\s+LAST SEEN\s+VERSION\s+UPTIME\s+DROPS\s+INFO\/1h\s+WARN\/1h\s+ERROR\/1h\s+LAST ERROR$/);
    expect(lines[2]).toMatch(/^\s+stor-1\s+alive\s+2026-12-07T03:00:00.000Z\s+0.1.0\s+120s\s+0\s+4\s+1\s+0\s+-$/);
    expect(lines[3]).toMatch(/^\s+stor-2\s+silent\s+\S+\s+0.1.0\s+60s\s+3\s+0\s+0\s+2\s+sdb: Medium Error$/);
    expect(c.out).toContain("DRBD resources:");
    expect(c.out).toMatch(/\n\s+r0\s+stor-1\s+stor-1 Primary UpToDate; stor-2 Secondary UpToDate \(silent\)\n/);
    expect(c.out).toMatch(/\n\s+r1\s+stor-1,stor-2\s+stor-1 Primary; stor-2 Primary\n/);
    const j = io();
    expect(await statusCommand(["--socket", sock, "--fleet", "--json"], j.io)).toBe(0);
    expect(JSON.parse(j.out)).toEqual({ hosts: HOSTS, drbd: DRBD });
  });

  test("status --fleet on a daemon that is no fleet node: exit 1 saying so; --help documents --fleet and --host", async () => {
    const c = io();
    expect(await statusCommand(["--socket", sock, "--fleet"], c.io)).toBe(1);
    expect(c.err).toContain("no nats sender");
    const h = io();
    expect(await statusCommand(["--help"], h.io)).toBe(0);
    expect(h.out).toContain("--fleet");
    for (const cmd of [queryCommand, (a: string[], i: ReturnType<typeof io>["io"]) => monitorCommand(a, i)]) {
      const q = io();
      expect(await cmd(["--help"], q.io)).toBe(0);
      expect(q.out).toContain("--host LIST");
    }
  });

  test("query --host and monitor --host pick one host's events", async () => {
    const evs = ["stor-1", "stor-2", "stor-3", "stor-2"].map((h) => makeEvent({ hostname: h }));
    for (const e of evs) daemon.emit(e);
    daemon.store!.flush();
    const q = io();
    expect(await queryCommand(["--socket", sock, "--json", "--host", "stor-2"], q.io)).toBe(0);
    expect(q.out.trimEnd().split("\n").map((l) => JSON.parse(l).event_id)).toEqual([evs[1]!.event_id, evs[3]!.event_id]);
    const q2 = io();
    expect(await queryCommand(["--socket", sock, "--json", "--host", "stor-1,stor-3"], q2.io)).toBe(0);
    expect(q2.out.trimEnd().split("\n").map((l) => JSON.parse(l).hostname)).toEqual(["stor-1", "stor-3"]);
    const m = io();
    const run = monitorCommand(["--socket", sock, "--json", "--host", "stor-3", "-n", "1"], m.io);
    for (let i = 0; i < 200; i++) {
      const st = await fetch("http://localhost/v1/status", { unix: sock } as RequestInit).then((r) => r.json()) as { control: { follow_clients: number } };
      if (st.control.follow_clients >= 1) break;
      await Bun.sleep(10);
    }
    const live = ["stor-1", "stor-3"].map((h) => makeEvent({ hostname: h }));
    for (const e of live) daemon.emit(e);
    expect(await run).toBe(0);
    expect(JSON.parse(m.out)).toEqual(live[1]!);
  });
});
