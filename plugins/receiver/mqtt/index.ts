// mqtt receiver: publishes each event as JSON to <topic_prefix>/<host>/<system>/<event_type> (QoS 0
// or 1) and keeps a retained <topic_prefix>/<host>/status topic: "online" while connected, and a
// retained last will that the broker publishes as "offline" when the connection dies. A clean
// disconnect discards the will, so a clean stop publishes "offline" itself first.
// QoS 1 messages that were in flight when the connection dropped are re-sent by the client on
// reconnect; events that arrive while disconnected wait in a bounded buffer (oldest dropped, counted).
import * as v from "valibot";
import type { IClientOptions, MqttClient } from "mqtt";
import { definePlugin, Duration, type ReceiverContext, type StorageEvent } from "../../../src/plugin-api.ts";
import { readOptionFile } from "../../../src/plugin-kit/endpoint.ts";
import { sleep } from "../../../src/plugin-kit/backoff.ts";
import { MqttBuffer } from "./buffer.ts";
import sample from "./sample.toml" with { type: "text" };

/** One topic level: MQTT's separator and wildcards (/ + #), NUL and whitespace become "_". */
export function topicLevel(s: string): string {
  return s.replace(/[\s/+#\0]/g, "_") || "_";
}

export function topicOf(prefix: string, e: StorageEvent): string {
  return `${prefix}/${topicLevel(e.hostname)}/${topicLevel(e.system)}/${topicLevel(e.event_type)}`;
}

export function statusTopic(prefix: string, hostname: string): string {
  return `${prefix}/${topicLevel(hostname)}/status`;
}

const Url = v.pipe(
  v.string(),
  v.regex(/^mqtts?:\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?\/?$/, 'not an MQTT broker URL ("mqtt://host:1883" or "mqtts://host:8883")'),
);
const Prefix = v.pipe(
  v.string(),
  v.check((p) => p.length > 0 && !/[+#\0]/.test(p) && !p.startsWith("/") && !p.endsWith("/"), "topic_prefix: no wildcards (+ #), no leading or trailing /"),
);

const schema = v.strictObject({
  url: v.pipe(v.optional(Url, "mqtt://127.0.0.1:1883"), v.description("Broker URL: mqtt://host[:1883] or mqtts://host[:8883] (TLS).")),
  topic_prefix: v.pipe(v.optional(Prefix, "storeventd"), v.description("Events go to <topic_prefix>/<hostname>/<system>/<event_type>; the host's status to <topic_prefix>/<hostname>/status.")),
  qos: v.pipe(v.optional(v.picklist([0, 1]), 1), v.description("0: at most once; 1: at least once (PUBACK awaited, re-sent after a reconnect).")),
  client_id: v.pipe(v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))), v.description("MQTT client id; default storeventd-<hostname>.")),
  username: v.pipe(v.optional(v.string()), v.description("User name; with password_file.")),
  password_file: v.pipe(v.optional(v.string()), v.description("File holding the password (first line).")),
  ca_file: v.pipe(v.optional(v.string()), v.description("PEM file of the CA(s) that signed the broker's certificate (mqtts://).")),
  cert_file: v.pipe(v.optional(v.string()), v.description("Client certificate (mutual TLS); with key_file.")),
  key_file: v.pipe(v.optional(v.string()), v.description("Client key for cert_file.")),
  keepalive: v.pipe(v.optional(Duration, "30s"), v.description("MQTT keep-alive: the broker declares the host offline (last will) after 1.5 times this without traffic.")),
  publish_timeout: v.pipe(v.optional(Duration, "5s"), v.description("How long send() waits for QoS 1 acknowledgements; unacknowledged messages stay in flight and are re-sent on reconnect.")),
  buffer_max: v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 10_000), v.description("Events kept while disconnected; beyond that the oldest are dropped and counted.")),
  reconnect_min: v.pipe(v.optional(Duration, "500ms"), v.description("First reconnect delay; doubles up to reconnect_max.")),
  reconnect_max: v.pipe(v.optional(Duration, "30s"), v.description("Longest reconnect delay.")),
});

type Opts = v.InferOutput<typeof schema>;

/** Cross-field checks and credential files; throws a config error. Reads files, nothing else. */
export function clientOptions(o: Opts, hostname: string): IClientOptions {
  if ((o.username === undefined) !== (o.password_file === undefined)) throw new Error("username and password_file go together: give both or neither");
  if ((o.cert_file === undefined) !== (o.key_file === undefined)) throw new Error("cert_file and key_file go together");
  if (o.reconnect_min > o.reconnect_max) throw new Error("reconnect_min is longer than reconnect_max");
  const tls = o.url.startsWith("mqtts:");
  if (!tls && (o.ca_file || o.cert_file)) throw new Error("ca_file/cert_file need an mqtts:// url");
  const password = readOptionFile(o.password_file, "password_file")?.split("\n")[0];
  return {
    clientId: o.client_id ?? `storeventd-${hostname}`,
    username: o.username,
    password,
    ca: readOptionFile(o.ca_file, "ca_file"),
    cert: readOptionFile(o.cert_file, "cert_file"),
    key: readOptionFile(o.key_file, "key_file"),
    rejectUnauthorized: true,
    keepalive: Math.max(1, Math.round(o.keepalive / 1000)),
    clean: true,
    reconnectPeriod: o.reconnect_min,
    connectTimeout: 10_000,
    protocolVersion: 4,
    manualConnect: true, // create() stays inert; start() connects
    queueQoSZero: false, // our own bounded buffer holds events while disconnected
  };
}

type Status = "online" | "offline";

export class MqttReceiver {
  private client: MqttClient | undefined;
  private buffer: MqttBuffer;
  private draining: Promise<void> | undefined;
  private reconnects = 0;
  private stopped = false;
  private stats = { sent: 0, acked: 0, errors: 0, reconnects: 0, last_error: "" };

  constructor(private opts: Opts, private conn: IClientOptions, private ctx: ReceiverContext) {
    this.buffer = new MqttBuffer(opts.buffer_max, () => {
      ctx.count("dropped");
      ctx.log.once("dropped", `mqtt: buffer full (${opts.buffer_max} events); dropping the oldest`);
    });
  }

  private statusPayload(state: Status, reason: string): string {
    return JSON.stringify({ hostname: this.ctx.hostname, state, reason, time: new Date().toISOString() });
  }

  async start(): Promise<void> {
    // Loaded here, not at start-up: mqtt.js costs every daemon about 10 MB of resident memory.
    const { connect } = await import("mqtt");
    if (this.stopped) return;
    const topic = statusTopic(this.opts.topic_prefix, this.ctx.hostname);
    const client = connect(this.opts.url, {
      ...this.conn,
      will: { topic, payload: Buffer.from(this.statusPayload("offline", "connection lost")), qos: 1, retain: true },
    });
    this.client = client;
    client.on("connect", () => {
      this.reconnects = 0;
      client.options.reconnectPeriod = this.opts.reconnect_min;
      this.ctx.count("connects");
      client.publish(topic, this.statusPayload("online", "connected"), { qos: 1, retain: true });
      void this.drain();
    });
    client.on("reconnect", () => {
      this.stats.reconnects++;
      this.ctx.count("reconnects");
      // Exponential backoff: mqtt.js reads reconnectPeriod before each attempt.
      this.reconnects++;
      client.options.reconnectPeriod = Math.min(this.opts.reconnect_max, this.opts.reconnect_min * 2 ** this.reconnects);
    });
    client.on("error", (e) => this.fail(`${e.message}`, "error"));
    client.connect();
  }

  private fail(msg: string, kind: string): void {
    this.stats.last_error = msg;
    this.ctx.log.once(kind, `mqtt: ${msg}`);
  }

  private get connected(): boolean {
    return !!this.client?.connected && !this.stopped;
  }

  /** Publishes while connected; QoS 1 waits for PUBACKs up to publish_timeout. */
  private async publish(events: readonly StorageEvent[]): Promise<void> {
    const client = this.client!;
    const qos = this.opts.qos;
    const acks = events.map((e) =>
      client.publishAsync(topicOf(this.opts.topic_prefix, e), JSON.stringify(e), { qos }).then(
        () => {
          this.stats.acked++;
        },
        (err: Error) => {
          this.stats.errors++;
          this.ctx.count("errors");
          this.fail(`publish: ${err.message}`, "publish");
        },
      ),
    );
    this.stats.sent += events.length;
    this.ctx.count("sent", events.length);
    // In-flight QoS 1 messages survive a dropped connection in the client's outgoing store.
    await Promise.race([Promise.all(acks), sleep(this.opts.publish_timeout)]);
  }

  private drain(): Promise<void> {
    this.draining ??= (async () => {
      while (this.buffer.length && this.connected) await this.publish(this.buffer.take(256));
    })().finally(() => (this.draining = undefined));
    return this.draining;
  }

  async send(events: readonly StorageEvent[]): Promise<void> {
    if (this.stopped) return;
    if (!this.connected || this.buffer.length) {
      this.buffer.push(events);
      if (this.connected) await this.drain();
      return;
    }
    await this.publish(events);
  }

  /** Publishes what is buffered (bounded wait), marks the host offline (retained), disconnects. */
  async close(ms = 5000): Promise<void> {
    const client = this.client;
    if (!client) return void (this.stopped = true); // before start() or while it loads mqtt.js
    const end = Date.now() + ms;
    while (this.buffer.length && this.connected && Date.now() < end) await this.drain();
    this.stopped = true;
    if (client.connected) {
      const topic = statusTopic(this.opts.topic_prefix, this.ctx.hostname);
      await Promise.race([client.publishAsync(topic, this.statusPayload("offline", "stopped"), { qos: 1, retain: true }).catch(() => {}), sleep(1000)]);
    }
    await Promise.race([client.endAsync(false).catch(() => {}), sleep(1000)]);
    client.end(true);
  }

  status(): Record<string, unknown> {
    return { url: this.opts.url, connected: this.connected, buffered: this.buffer.length, dropped: this.buffer.dropped, ...this.stats };
  }
}

export default definePlugin({
  kind: "receiver",
  name: "mqtt",
  description: "Publishes events to an MQTT broker (QoS 0/1) with a retained per-host status topic and last will.",
  schema,
  sample,
  validate: (config, env) => void clientOptions(config, env.hostname),
  create(config, ctx) {
    return new MqttReceiver(config, clientOptions(config, ctx.hostname), ctx);
  },
});
