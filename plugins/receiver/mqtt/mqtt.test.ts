// mqtt receiver: topics and config errors, then a real mosquitto started by the test (loopback):
// QoS 1 delivery across a broker restart, the retained status topic, the last will when the daemon
// (the compiled binary) is killed with SIGKILL, the bounded buffer, and an inert create().
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import mqtt, { type MqttClient } from "mqtt";
import { checkSampleAndReadme, freePort, makeEvent, receiverContext, schemaErrors, until, waitForPort } from "../../../test/helpers/receiver.ts";
import { startDaemon } from "../../../test/helpers/bin.ts";
import plugin, { MqttReceiver, statusTopic, topicOf } from "./index.ts";
import type { StorageEvent } from "../../../src/plugin-api.ts";

const dir = import.meta.dir;
const mosquitto = Bun.which("mosquitto", { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" });
const tmp = mkdtempSync(join(tmpdir(), "sevd-mqtt-"));

interface Broker {
  port: number;
  store: string;
  proc?: ReturnType<typeof Bun.spawn>;
}
const brokers: Broker[] = [];
const clients: MqttClient[] = [];
const receivers: MqttReceiver[] = [];

async function startBroker(b?: Broker, extra: string[] = []): Promise<Broker> {
  if (!mosquitto) throw new Error("mosquitto is not installed (Debian package mosquitto; npm test's set-up installs it)");
  const broker = b ?? { port: await freePort(), store: mkdtempSync(join(tmp, "broker-")) };
  const conf = join(broker.store, "mosquitto.conf");
  writeFileSync(conf, readFileSync(join(dir, "testdata/mosquitto.conf"), "utf8") + [
    `persistence_location ${broker.store}/`, `listener ${broker.port} 127.0.0.1`, "allow_anonymous true", ...extra,
  ].join("\n") + "\n");
  broker.proc = Bun.spawn([mosquitto, "-c", conf], { stdout: "ignore", stderr: "ignore" });
  await waitForPort(broker.port, "mosquitto");
  if (!brokers.includes(broker)) brokers.push(broker);
  return broker;
}

async function stopBroker(b: Broker, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
  b.proc?.kill(signal);
  await b.proc?.exited;
  b.proc = undefined;
}

/** A test subscriber with a persistent session (clean: false), so QoS 1 messages wait for it. */
async function subscribe(port: number, topic: string, clientId = `sub-${crypto.randomUUID().slice(0, 8)}`) {
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId, clean: false, reconnectPeriod: 200 });
  clients.push(c);
  c.on("message", (t, p, packet) => got.push({ topic: t, payload: p.toString(), retain: packet.retain }));
  await new Promise<void>((res, rej) => {
    c.once("connect", () => c.subscribe(topic, { qos: 1 }, (err) => (err ? rej(err) : res())));
    c.once("error", rej);
  });
  return { c, got };
}

function make(opts: Record<string, unknown>) {
  const { ctx, rec } = receiverContext();
  const r = plugin.create(v.parse(plugin.schema, opts), ctx) as MqttReceiver;
  receivers.push(r);
  return { r, counts: rec.counts, logs: rec.logs };
}

afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close(500).catch(() => {});
  for (const c of clients.splice(0)) c.end(true);
  for (const b of brokers.splice(0)) await stopBroker(b, "SIGKILL");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("mqtt units", () => {
  test("topics are <prefix>/<host>/<system>/<type> with separators and wildcards replaced", () => {
    expect(topicOf("storeventd", makeEvent())).toBe("storeventd/node-a/multipath/DM_MPATH_PATH_DOWN");
    expect(topicOf("dc1/storage", makeEvent({ hostname: "a/b+c#d e", system: "fs", event_type: "FS_ERROR" }))).toBe("dc1/storage/a_b_c_d_e/fs/FS_ERROR");
    expect(statusTopic("storeventd", "node-a")).toBe("storeventd/node-a/status");
  });

  test("sample.toml validates and equals the README's Configuration block", () => {
    checkSampleAndReadme(plugin, dir);
  });

  test("config errors: bad url, prefix, qos; credentials and TLS files that do not go together", () => {
    expect(schemaErrors(plugin, { url: "http://x" }).join()).toContain("not an MQTT broker URL");
    expect(schemaErrors(plugin, { topic_prefix: "a/#" }).join()).toContain("no wildcards");
    expect(schemaErrors(plugin, { topic_prefix: "/a" }).join()).toContain("leading or trailing");
    expect(schemaErrors(plugin, { qos: 2 }).length).toBeGreaterThan(0);
    const bad = (o: Record<string, unknown>) => () => plugin.validate!(v.parse(plugin.schema, o), { hostname: "h" });
    expect(bad({ username: "u" })).toThrow("username and password_file go together");
    expect(bad({ url: "mqtt://h", ca_file: "/etc/hostname" })).toThrow("need an mqtts:// url");
    expect(bad({ url: "mqtts://h", cert_file: "/etc/hostname" })).toThrow("cert_file and key_file go together");
    expect(bad({ username: "u", password_file: join(tmp, "missing") })).toThrow("password_file");
    expect(bad({ reconnect_min: "1m", reconnect_max: "1s" })).toThrow("reconnect_min");
  });
});

describe("mqtt against a real mosquitto", () => {
  test("create() opens nothing; start() connects", async () => {
    const port = await freePort();
    let connections = 0;
    const server = net.createServer((s) => (connections++, s.destroy())).listen(port, "127.0.0.1");
    try {
      const { r } = make({ url: `mqtt://127.0.0.1:${port}` });
      await Bun.sleep(300);
      expect(connections).toBe(0);
      r.start();
      await until(() => connections > 0, 3000);
      expect(connections).toBeGreaterThan(0);
    } finally {
      server.close();
    }
  });

  test("QoS 1: every event arrives across a broker restart (before, while down, after)", async () => {
    const b = await startBroker();
    const sub = await subscribe(b.port, "storeventd/#", "sub-restart");
    const { r, counts } = make({ url: `mqtt://127.0.0.1:${b.port}`, reconnect_min: "100ms", reconnect_max: "400ms" });
    r.start();
    await until(() => r.status().connected === true, 5000);
    const sent: StorageEvent[] = [];
    const batch = async (n: number) => {
      const evs = Array.from({ length: n }, () => makeEvent());
      sent.push(...evs);
      await r.send(evs);
    };
    await batch(50);
    await until(() => sub.got.filter((m) => !m.topic.endsWith("/status")).length >= 50, 5000);
    await stopBroker(b, "SIGTERM");
    await until(() => r.status().connected === false, 5000);
    await batch(50); // buffered while the broker is down
    expect(r.status().buffered).toBe(50);
    await startBroker(b); // same port, same persistence: the subscriber's session survives
    await until(() => r.status().connected === true, 10_000);
    await batch(50);
    const ids = () => new Set(sub.got.filter((m) => !m.topic.endsWith("/status")).map((m) => (JSON.parse(m.payload) as StorageEvent).event_id));
    await until(() => ids().size >= 150, 15_000);
    expect([...ids()].sort()).toEqual(sent.map((e) => e.event_id).sort());
    expect(counts.get("reconnects") ?? 0).toBeGreaterThan(0);
    const first = sub.got.find((m) => m.topic.endsWith("DM_MPATH_PATH_DOWN"))!;
    expect(first.topic).toBe("storeventd/node-a/multipath/DM_MPATH_PATH_DOWN");
  }, 60_000);

  test("status topic: retained online while connected, retained offline after a clean stop", async () => {
    const b = await startBroker();
    const { r } = make({ url: `mqtt://127.0.0.1:${b.port}` });
    r.start();
    await until(() => r.status().connected === true, 5000);
    const late = await subscribe(b.port, "storeventd/testhost/status");
    await until(() => late.got.length > 0, 5000);
    expect(late.got[0]!.retain).toBe(true);
    expect(JSON.parse(late.got[0]!.payload)).toMatchObject({ hostname: "testhost", state: "online" });
    await r.close(1000);
    const after = await subscribe(b.port, "storeventd/testhost/status");
    await until(() => after.got.length > 0, 5000);
    expect(JSON.parse(after.got.at(-1)!.payload)).toMatchObject({ state: "offline", reason: "stopped" });
  }, 30_000);

  test("buffer: at most buffer_max events wait for a broker that is down; the oldest drops are counted", async () => {
    const port = await freePort(); // nothing listens
    const { r, counts } = make({ url: `mqtt://127.0.0.1:${port}`, buffer_max: 10 });
    r.start();
    await r.send(Array.from({ length: 25 }, () => makeEvent()));
    expect(r.status().buffered).toBe(10);
    expect(counts.get("dropped")).toBe(15);
  });

  test("TLS (mqtts://, ca_file) and username + password_file against a broker that requires both", async () => {
    const cert = join(tmp, "cert.pem");
    const key = join(tmp, "key.pem");
    const ssl = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]);
    expect(ssl.exitCode).toBe(0);
    const passwd = join(tmp, "passwd");
    expect(Bun.spawnSync(["mosquitto_passwd", "-c", "-b", passwd, "storeventd", "s3cret"]).exitCode).toBe(0);
    writeFileSync(join(tmp, "pw"), "s3cret\n");
    const tlsPort = await freePort();
    const b = await startBroker(undefined, [
      `listener ${tlsPort} 127.0.0.1`, `certfile ${cert}`, `keyfile ${key}`, "allow_anonymous false", `password_file ${passwd}`,
    ]);
    const sub = await subscribe(b.port, "storeventd/#");
    const wrong = make({ url: `mqtts://127.0.0.1:${tlsPort}`, ca_file: cert, username: "storeventd", password_file: join(tmp, "cert.pem") });
    wrong.r.start();
    await until(() => wrong.r.status().last_error !== "", 5000);
    expect(wrong.r.status().connected).toBe(false);
    const { r } = make({ url: `mqtts://127.0.0.1:${tlsPort}`, ca_file: cert, username: "storeventd", password_file: join(tmp, "pw") });
    r.start();
    await until(() => r.status().connected === true, 5000);
    const e = makeEvent();
    await r.send([e]);
    await until(() => sub.got.some((m) => m.payload.includes(e.event_id)), 5000);
    expect(sub.got.find((m) => m.payload.includes(e.event_id))!.topic).toBe("storeventd/node-a/multipath/DM_MPATH_PATH_DOWN");
  }, 30_000);

  test("last will: the compiled daemon killed with SIGKILL is marked offline (retained) by the broker", async () => {
    const b = await startBroker();
    const cfgDir = mkdtempSync(join(tmp, "daemon-"));
    const cfg = join(cfgDir, "storeventd.toml");
    writeFileSync(cfg, [
      "[main]", 'hostname = "will-host"', `state_dir = "${cfgDir}"`, `control_socket = "${cfgDir}/control.sock"`,
      "[broker]", 'type = "receiver"', 'plugin = "mqtt"', `url = "mqtt://127.0.0.1:${b.port}"`, 'keepalive = "5s"',
    ].join("\n") + "\n");
    const status = await subscribe(b.port, "storeventd/will-host/status");
    const events = await subscribe(b.port, "storeventd/will-host/#");
    const d = await startDaemon(["run", "-c", cfg], (s) => s.includes("started"));
    try {
      await until(() => status.got.some((m) => JSON.parse(m.payload).state === "online"), 10_000);
      // DAEMON_STARTED goes through the receiver like any event.
      await until(() => events.got.some((m) => m.topic === "storeventd/will-host/daemon/DAEMON_STARTED"), 10_000);
      d.proc.kill("SIGKILL");
      await d.proc.exited;
      await until(() => status.got.some((m) => JSON.parse(m.payload).state === "offline"), 10_000);
      expect(JSON.parse(status.got.at(-1)!.payload)).toMatchObject({ hostname: "will-host", state: "offline", reason: "connection lost" });
      const late = await subscribe(b.port, "storeventd/will-host/status");
      await until(() => late.got.length > 0, 5000);
      expect(late.got[0]!.retain).toBe(true);
      expect(JSON.parse(late.got[0]!.payload).state).toBe("offline");
    } finally {
      d.proc.kill("SIGKILL");
    }
  }, 60_000);
});
