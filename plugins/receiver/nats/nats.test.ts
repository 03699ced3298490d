// nats receiver: subjects and config errors, and a real nats-server (core and JetStream with file
// storage) started by the test; kill -9 and restart mid-stream: nothing acked is lost.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { checkSampleAndReadme, freePort, until, waitForPort, makeEvent, receiverContext, schemaErrors } from "../../../test/helpers/receiver.ts";
import plugin, { NatsReceiver, subjectOf } from "./index.ts";
import { DAEMON_STATUS_SERVICE, type DaemonStatus } from "../../../src/plugin-kit/fleet.ts";
import { DRBD_MODEL_SERVICE, PROMOTER_SERVICE, type PromoterControl } from "../../../src/plugin-kit/services.ts";
import type { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import type { StorageEvent } from "../../../src/plugin-api.ts";
import { need } from "../../../test/helpers/need.ts";

const dir = import.meta.dir;
const natsServer = Bun.which("nats-server") ?? Bun.which("nats-server", { PATH: "/usr/sbin:/usr/bin" });
const tmp = mkdtempSync(join(tmpdir(), "sevd-nats-"));

interface Srv {
  port: number;
  store: string;
  proc?: ReturnType<typeof Bun.spawn>;
  extra: string[];
}
const servers: Srv[] = [];
const clients: NatsConnection[] = [];

async function startServer(srv?: Partial<Srv>): Promise<Srv> {
  const s: Srv = { port: srv?.port ?? (await freePort()), store: srv?.store ?? mkdtempSync(join(tmp, "js-")), extra: srv?.extra ?? [] };
  s.proc = Bun.spawn([natsServer!, "-a", "127.0.0.1", "-p", String(s.port), "-js", "-sd", s.store, ...s.extra], { stdout: "ignore", stderr: "ignore" });
  await waitForPort(s.port, "nats-server");
  if (!servers.includes(s)) servers.push(s);
  return s;
}

async function kill9(s: Srv): Promise<void> {
  s.proc?.kill("SIGKILL");
  await s.proc?.exited;
  s.proc = undefined;
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  for (const s of servers.splice(0)) await kill9(s);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function make(opts: Record<string, unknown>) {
  const { ctx, rec } = receiverContext();
  // The events are other hosts' (node-a, node-b...) as seen from "testhost": publish them anyway.
  const r = (await plugin.create(v.parse(plugin.schema, { relay: true, ...opts }), ctx)) as NatsReceiver;
  r.start();
  return { r, counts: rec.counts, logs: rec.logs };
}

/** Every message of a stream, in order (checks the stream's subjects on the way). */
async function readStream(port: number, stream: string): Promise<StorageEvent[]> {
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  clients.push(nc);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  expect(info.config.subjects).toEqual(["storeventd.>"]);
  await jsm.consumers.add(stream, { durable_name: "check", ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All });
  const c = await jetstream(nc).consumers.get(stream, "check");
  const out: StorageEvent[] = [];
  const msgs = await c.fetch({ max_messages: info.state.messages, expires: 5000 });
  for await (const m of msgs) out.push(m.json());
  return out;
}

describe("nats units", () => {
  test("subjectOf() is <prefix>.<host>.<system>.<type> with separators in the host replaced", () => {
    expect(subjectOf("storeventd", makeEvent())).toBe("storeventd.node-a.multipath.DM_MPATH_PATH_DOWN");
    expect(subjectOf("dc1.storage", makeEvent({ hostname: "node-a.example.com", system: "fs", event_type: "FS_ERROR" })))
      .toBe("dc1.storage.node-a_example_com.fs.FS_ERROR");
    expect(subjectOf("p", makeEvent({ hostname: "a b*>" }))).toBe("p.a_b__.multipath.DM_MPATH_PATH_DOWN");
  });

  test("sample.toml validates and equals the README's Configuration block", () => {
    checkSampleAndReadme(plugin, dir);
  });

  test("config errors: bad servers, prefix, stream; credentials that do not go together or cannot be read", async () => {
    expect(schemaErrors(plugin, {})).toEqual([]);
    expect(schemaErrors(plugin, { servers: ["http://x:4222"] })[0]).toContain("NATS server URL");
    expect(schemaErrors(plugin, { servers: [] })[0]).toContain("servers");
    expect(schemaErrors(plugin, { subject_prefix: "a.*" })[0]).toContain("subject_prefix");
    expect(schemaErrors(plugin, { subject_prefix: "a..b" })[0]).toContain("subject_prefix");
    expect(schemaErrors(plugin, { stream: "a.b" })[0]).toContain("stream");
    const { ctx } = receiverContext();
    const create = (o: Record<string, unknown>) => Promise.resolve().then(() => plugin.create(v.parse(plugin.schema, o), ctx));
    await expect(create({ user: "u" })).rejects.toThrow("give both or neither");
    await expect(create({ user: "u", password: "p", token: "t" })).rejects.toThrow("give one of");
    await expect(create({ token: "t", token_file: "/x" })).rejects.toThrow("give one");
    await expect(create({ token_file: join(tmp, "absent") })).rejects.toThrow("token_file");
    await expect(create({ credentials: join(tmp, "absent.creds") })).rejects.toThrow("credentials");
    writeFileSync(join(tmp, "bad.creds"), "not a creds file\n");
    await expect(create({ credentials: join(tmp, "bad.creds") })).rejects.toThrow("not a NATS .creds file");
    await expect(create({ cert_file: "/x" })).rejects.toThrow("cert_file and key_file");
    await expect(create({ ca_file: join(tmp, "absent.pem") })).rejects.toThrow("ca_file");
  });
});

describe("nats receiver against a real nats-server", () => {
  beforeAll(() => need({ "nats-server": natsServer !== null }));
  test("core: events arrive on the right subjects with the event as JSON", async () => {
    const s = await startServer();
    const sub = await connect({ servers: `127.0.0.1:${s.port}` });
    clients.push(sub);
    const got: { subject: string; e: StorageEvent }[] = [];
    const subscription = sub.subscribe("storeventd.>", { callback: (_err, m) => void got.push({ subject: m.subject, e: m.json() }) });
    await sub.flush();
    const { r, counts } = await make({ servers: [`nats://127.0.0.1:${s.port}`] });
    const events = [makeEvent(), makeEvent({ system: "fs", event_type: "FS_REMOUNT_RO", hostname: "node-b.example.com" }), makeEvent({ severity: "info", system: "drbd", event_type: "DRBD_ROLE_CHANGED" })];
    await until(() => r.status().connected === true);
    const t0 = performance.now();
    await r.send(events);
    await until(() => got.length === 3);
    console.log(`nats core: 3 events published and received in ${(performance.now() - t0).toFixed(1)} ms`);
    expect(got.map((g) => g.subject)).toEqual([
      "storeventd.node-a.multipath.DM_MPATH_PATH_DOWN", "storeventd.node-b_example_com.fs.FS_REMOUNT_RO", "storeventd.node-a.drbd.DRBD_ROLE_CHANGED",
    ]);
    expect(got.map((g) => g.e)).toEqual(events);
    expect(counts.get("sent")).toBe(3);
    subscription.unsubscribe();
    await r.close();
  });

  test("user + password (server config with permissions); a wrong password is logged and not connected", async () => {
    const s = await startServer({ extra: ["-c", join(dir, "testdata/auth.conf")] });
    const sub = await connect({ servers: `127.0.0.1:${s.port}`, user: "watcher", pass: "w" });
    clients.push(sub);
    const got: string[] = [];
    sub.subscribe("storeventd.>", { callback: (_e, m) => void got.push(m.subject) });
    await sub.flush();
    const good = await make({ servers: [`127.0.0.1:${s.port}`], user: "sevd", password: "pw" });
    await until(() => good.r.status().connected === true);
    await good.r.send([makeEvent()]);
    await until(() => got.length === 1, 3000);
    expect(got).toEqual(["storeventd.node-a.multipath.DM_MPATH_PATH_DOWN"]);
    const bad = await make({ servers: [`127.0.0.1:${s.port}`], user: "sevd", password: "wrong", reconnect_min: "50ms", reconnect_max: "100ms" });
    await bad.r.send([makeEvent()]);
    await until(() => bad.logs.some((l) => /auth/i.test(l)), 3000);
    expect(bad.r.status().connected).toBe(false);
    expect(bad.r.status().buffered).toBe(1);
    expect(bad.logs.join("\n")).toMatch(/authorization|auth/i);
    await good.r.close();
    await bad.r.close(0);
  });

  test("token_file authentication and TLS with ca_file", async () => {
    const cert = join(tmp, "cert.pem");
    const key = join(tmp, "key.pem");
    const ssl = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]);
    expect(ssl.exitCode).toBe(0);
    writeFileSync(join(tmp, "token"), "t0k3n\n");
    const s = await startServer({ extra: ["--auth", "t0k3n", "--tls", "--tlscert", cert, "--tlskey", key] });
    const sub = await connect({ servers: `127.0.0.1:${s.port}`, token: "t0k3n", tls: { ca: readFileSync(cert, "utf8") } });
    clients.push(sub);
    const got: string[] = [];
    sub.subscribe("storeventd.>", { callback: (_e, m) => void got.push(m.subject) });
    await sub.flush();
    const { r, counts } = await make({ servers: [`tls://127.0.0.1:${s.port}`], token_file: join(tmp, "token"), ca_file: cert });
    await until(() => r.status().connected === true, 5000);
    await r.send([makeEvent()]);
    await until(() => got.length === 1, 5000);
    expect(got).toEqual(["storeventd.node-a.multipath.DM_MPATH_PATH_DOWN"]);
    expect(counts.get("sent")).toBe(1);
    await r.close();
    // Without the CA the server's certificate is not trusted: never connected, event kept.
    const untrusted = await make({ servers: [`tls://127.0.0.1:${s.port}`], token: "t0k3n", reconnect_min: "50ms", reconnect_max: "100ms" });
    await untrusted.r.send([makeEvent()]);
    await until(() => untrusted.logs.length > 0, 3000);
    expect(untrusted.r.status().connected).toBe(false);
    expect(untrusted.r.status().buffered).toBe(1);
    expect(untrusted.logs.join("\n")).toMatch(/certificate|self.signed|verify/i);
    await untrusted.r.close(0);
  });

  test("server down at start: events are buffered (bounded, drops counted) and published once it is up", async () => {
    const port = await freePort();
    const { r, counts } = await make({ servers: [`127.0.0.1:${port}`], jetstream: true, stream: "LATE", buffer_max: 5, reconnect_min: "50ms", reconnect_max: "200ms" });
    const events = Array.from({ length: 8 }, (_, i) => makeEvent({ msg: `e${i}` }));
    const t0 = performance.now();
    await r.send(events);
    expect(performance.now() - t0).toBeLessThan(100); // never waits for a server that is not there
    expect(r.status().buffered).toBe(5);
    expect(counts.get("dropped")).toBe(3);
    const s = await startServer({ port });
    await until(() => counts.get("sent") === 5);
    const stored = await readStream(s.port, "LATE");
    expect(stored.map((e) => e.msg)).toEqual(["e3", "e4", "e5", "e6", "e7"]);
    await r.close();
  });

  test("JetStream: kill -9 and restart mid-stream; every event is stored exactly once", async () => {
    const s = await startServer();
    const { r, counts } = await make({ servers: [`127.0.0.1:${s.port}`], jetstream: true, stream: "SEVD", publish_timeout: "1s", reconnect_min: "100ms", reconnect_max: "500ms", buffer_max: 100_000 });
    await until(() => r.status().connected === true);
    const all: StorageEvent[] = [];
    let ackedBeforeKill = 0;
    const latencies: number[] = [];
    for (let batch = 0; batch < 20; batch++) {
      // Batch 8 is big so that the kill lands while many of its publishes wait for acks.
      const events = Array.from({ length: batch === 8 ? 3000 : 50 }, (_, i) => makeEvent({ msg: `b${batch} e${i}` }));
      all.push(...events);
      if (batch === 12) await startServer(s); // same port, same store directory
      const t0 = performance.now();
      if (batch === 8) {
        // Kill while this batch's publishes are in flight.
        ackedBeforeKill = counts.get("sent") ?? 0;
        const sending = r.send(events);
        await Bun.sleep(5);
        await kill9(s);
        await sending;
        continue;
      }
      await r.send(events);
      if (batch < 8) latencies.push(performance.now() - t0);
    }
    expect(ackedBeforeKill).toBe(400);
    await until(() => r.status().buffered === 0 && (counts.get("sent") ?? 0) >= all.length, 20_000);
    console.log(`nats jetstream: ${all.length} events, batch of 50 acked in median ${latencies.sort((a, b) => a - b)[4]!.toFixed(1)} ms; ` +
      `acked before the kill ${ackedBeforeKill}, in flight at the kill and retried ${counts.get("retries") ?? 0}, duplicates ${counts.get("duplicates") ?? 0}`);
    expect(r.status().buffered).toBe(0);
    expect(counts.get("reconnects")).toBeGreaterThanOrEqual(1);
    expect(r.status().buffered_total as number).toBeGreaterThan(0);

    const stored = await readStream(s.port, "SEVD");
    const ids = stored.map((e) => e.event_id);
    expect(new Set(ids).size).toBe(ids.length); // msgID de-duplication: no event twice
    expect(ids.sort()).toEqual(all.map((e) => e.event_id).sort());
    await r.close();
  }, 60_000);

  test("heartbeat: the status summary on <prefix>_heartbeat.<host> every interval; create() is inert; 0s is off", async () => {
    const s = await startServer();
    const nc = await connect({ servers: `127.0.0.1:${s.port}` });
    clients.push(nc);
    const beats: Record<string, unknown>[] = [];
    nc.subscribe("storeventd_heartbeat.>", { callback: (_e, m) => void beats.push({ subject: m.subject, ...m.json<Record<string, unknown>>() }) });
    const { ctx, rec } = receiverContext();
    ctx.services.provide(DAEMON_STATUS_SERVICE, () => ({
      version: "9.8.7", uptime_s: 42, counters: { receiver_dropped: 5 },
      instances: [{ name: "kmsg", kind: "sender", plugin: "kmsg", counters: { records: 10 } }, { name: "bus", kind: "receiver", plugin: "nats", counters: {} }],
    }) as unknown as DaemonStatus);
    ctx.services.provide(DRBD_MODEL_SERVICE, { toStatusJson: () => [{ name: "r0", role: "Primary", devices: [{ volume: 0, "disk-state": "UpToDate" }] }] } as unknown as DrbdModel);
    ctx.services.provide(PROMOTER_SERVICE, { status: async () => [{ resource: "r0", state: "started" }] } as unknown as PromoterControl);
    const r = (await plugin.create(v.parse(plugin.schema, { servers: [`127.0.0.1:${s.port}`], heartbeat: "200ms" }), ctx)) as NatsReceiver;
    await Bun.sleep(400);
    expect(rec.counts.get("connects")).toBeUndefined(); // inert until start()
    expect(beats).toEqual([]);
    r.start();
    await until(() => beats.length >= 3);
    expect(beats[0]).toMatchObject({
      subject: "storeventd_heartbeat.testhost", hostname: "testhost", interval_s: 0.2, version: "9.8.7", uptime_s: 42, drops: 5,
      senders: [{ name: "kmsg", plugin: "kmsg", counters: { records: 10 } }],
      drbd: [{ name: "r0", role: "Primary", devices: [{ volume: 0, "disk-state": "UpToDate" }] }],
      promoter: [{ resource: "r0", state: "started" }],
    });
    await r.close();
    const n = beats.length;
    await Bun.sleep(500);
    expect(beats.length).toBe(n); // close() stops the timer
    // Other hosts' events are not published again unless relay = true.
    const seen: string[] = [];
    nc.subscribe("storeventd.>", { callback: (_e, m) => void seen.push(m.json<StorageEvent>().hostname) });
    for (const relay of [false, true]) {
      const { ctx: c2, rec: r2 } = receiverContext();
      const x = (await plugin.create(v.parse(plugin.schema, { servers: [`127.0.0.1:${s.port}`], heartbeat: "0s", relay }), c2)) as NatsReceiver;
      x.start();
      await until(() => (r2.counts.get("connects") ?? 0) > 0);
      await x.send([makeEvent({ hostname: "testhost" }), makeEvent({ hostname: "stor-9" })]);
      expect(r2.counts.get("foreign_skipped")).toBe(relay ? undefined : 1);
      await x.close();
    }
    await until(() => seen.length === 3);
    expect(seen).toEqual(["testhost", "testhost", "stor-9"]);
    const off = (await plugin.create(v.parse(plugin.schema, { servers: [`127.0.0.1:${s.port}`], heartbeat: "0s" }), receiverContext().ctx)) as NatsReceiver;
    off.start();
    await Bun.sleep(500);
    expect(beats.length).toBe(n);
    await off.close();
  });
});
