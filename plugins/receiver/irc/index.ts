// irc receiver: posts one line per event to a channel: connect (optionally TLS), register, wait for
// 001, JOIN, PRIVMSG through a token bucket (flood control), answer PING, reconnect with backoff.
import type * as net from "node:net";
import { netLib, tlsLib } from "../../../src/plugin-kit/builtins.ts";
import * as v from "valibot";
import { definePlugin, Duration, type ReceiverContext, type StorageEvent } from "../../../src/plugin-api.ts";
import { Backoff, sleep } from "../../../src/plugin-kit/backoff.ts";
import { parseHostPort, readOptionFile } from "../../../src/plugin-kit/endpoint.ts";
import { CHANNEL_RE, NICK_RE, TokenBucket, eventLine } from "./line.ts";
import sample from "./sample.toml" with { type: "text" };

export function parseServer(text: string, useTls: boolean): { host: string; port: number } | string {
  return parseHostPort(text, useTls ? 6697 : 6667);
}

const schema = v.strictObject({
  server: v.pipe(
    v.string(),
    v.check((s) => typeof parseServer(s, false) !== "string", (i) => String(parseServer(String(i.input), false))),
    v.description('IRC server "host:port" (default port 6667, or 6697 with tls).'),
  ),
  tls: v.pipe(v.optional(v.boolean(), false), v.description("Connect with TLS.")),
  tls_verify: v.pipe(v.optional(v.boolean(), true), v.description("Verify the server's certificate and name.")),
  ca_file: v.pipe(v.optional(v.string()), v.description("PEM file of the CA(s) to trust instead of the system store.")),
  password: v.pipe(v.optional(v.string()), v.description("Server password (PASS).")),
  nick: v.pipe(v.string(), v.regex(NICK_RE, "not a valid IRC nickname"), v.description("Nickname; on collision _ is appended.")),
  username: v.pipe(v.optional(v.pipe(v.string(), v.regex(/^[^\s@]{1,30}$/, "no spaces or @ in username")), "storeventd"), v.description("USER name.")),
  realname: v.pipe(v.optional(v.string(), "storeventd storage events"), v.description("USER real name.")),
  channel: v.pipe(v.string(), v.regex(CHANNEL_RE, 'not a channel name (like "#storage")'), v.description("Channel to join and post to.")),
  channel_key: v.pipe(v.optional(v.string()), v.description("Channel key (+k), if any.")),
  burst: v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)), 4), v.description("Lines sent at once before the rate applies.")),
  rate: v.pipe(v.optional(Duration, "2s"), v.description("Then one line per this interval (flood control).")),
  max_line: v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(50), v.maxValue(450)), 400), v.description("Longest message text in bytes; longer lines are cut and end with …")),
  colors: v.pipe(v.optional(v.boolean(), false), v.description("mIRC colour for the severity tag.")),
  queue_max: v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1000), v.description("Lines waiting (rate limit, disconnected) at most; the oldest are dropped and counted.")),
  connect_timeout: v.pipe(v.optional(Duration, "10s"), v.description("Connect and register within this.")),
  reconnect_min: v.pipe(v.optional(Duration, "1s"), v.description("First reconnect delay; doubles (with jitter) up to reconnect_max.")),
  reconnect_max: v.pipe(v.optional(Duration, "2m"), v.description("Longest reconnect delay.")),
});

type Opts = v.InferOutput<typeof schema>;

interface IrcState {
  state: "connecting" | "registering" | "joined" | "disconnected" | "closed";
  nick: string;
}

export class IrcReceiver {
  private lines: string[] = [];
  private sock: net.Socket | undefined;
  private st: IrcState;
  private bucket: TokenBucket;
  private pumpTimer: ReturnType<typeof setTimeout> | undefined;
  private stop = new AbortController();
  private backoff: Backoff;
  private loop: Promise<void> = Promise.resolve();
  private stats = { sent: 0, dropped: 0, truncated: 0, connects: 0, last_error: "" };

  constructor(private opts: Opts, private server: { host: string; port: number }, private ca: string | undefined, private ctx: ReceiverContext) {
    this.st = { state: "connecting", nick: opts.nick };
    this.bucket = new TokenBucket(opts.burst, opts.rate);
    ctx.signal.addEventListener("abort", () => this.stop.abort(), { once: true });
    this.backoff = new Backoff({ minTimeout: opts.reconnect_min, maxTimeout: opts.reconnect_max, signal: this.stop.signal });
  }

  /** Connects (and reconnects) in the background; create() stays inert. */
  start(): void {
    this.loop = this.run();
  }

  send(events: readonly StorageEvent[]): void {
    for (const e of events) {
      const { text, truncated } = eventLine(e, this.opts.max_line, this.opts.colors);
      if (truncated) {
        this.stats.truncated++;
        this.ctx.count("truncated");
      }
      if (this.lines.length >= this.opts.queue_max) {
        this.lines.shift();
        this.stats.dropped++;
        this.ctx.count("dropped");
        this.ctx.log.once("dropped", `irc: line queue full (${this.opts.queue_max}); dropping the oldest`);
      }
      this.lines.push(text);
    }
    this.pump();
  }

  /** Writes queued lines while joined and the bucket has tokens; re-arms itself for the next token. */
  private pump(): void {
    if (this.pumpTimer || this.st.state !== "joined" || !this.sock) return;
    while (this.lines.length && this.bucket.take()) {
      this.sock.write(`PRIVMSG ${this.opts.channel} :${this.lines.shift()}\r\n`);
      this.stats.sent++;
      this.ctx.count("sent");
    }
    if (this.lines.length) {
      this.pumpTimer = setTimeout(() => {
        this.pumpTimer = undefined;
        this.pump();
      }, this.bucket.wait());
    }
  }

  private async connect(): Promise<net.Socket> {
    const { host, port } = this.server;
    const tls = this.opts.tls ? tlsLib() : undefined;
    return new Promise((resolve, reject) => {
      const s = tls
        ? tls.connect({ host, port, servername: netLib().isIP(host) ? undefined : host, rejectUnauthorized: this.opts.tls_verify, ca: this.ca })
        : netLib().connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect timed out after ${this.opts.connect_timeout} ms`));
      }, this.opts.connect_timeout);
      s.once(this.opts.tls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        s.off("error", reject);
        resolve(s);
      });
      s.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** One connection: resolves when it ends (error, close, ERROR from the server). */
  private async session(sock: net.Socket): Promise<void> {
    const o = this.opts;
    const write = (l: string) => sock.write(l + "\r\n");
    let nickTries = 0;
    let lastRx = Date.now();
    this.st = { state: "registering", nick: o.nick };
    const registerTimer = setTimeout(() => {
      if (this.st.state === "registering") sock.destroy(new Error(`not registered within ${o.connect_timeout} ms`));
    }, o.connect_timeout);
    // Keepalive: PING after 90 s of silence, give up after 4 minutes.
    const keepalive = setInterval(() => {
      const idle = Date.now() - lastRx;
      if (idle > 240_000) sock.destroy(new Error("server silent for 4 minutes"));
      else if (idle > 90_000) write(`PING :keepalive`);
    }, 30_000);
    if (o.password !== undefined) write(`PASS ${o.password}`);
    write(`NICK ${o.nick}`);
    write(`USER ${o.username} 0 * :${o.realname}`);
    let buf = "";
    await new Promise<void>((resolve) => {
      sock.on("data", (d: Buffer) => {
        lastRx = Date.now();
        buf += d.toString("utf8");
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i).replace(/\r$/, "");
          buf = buf.slice(i + 1);
          const m = /^(?::(\S+) )?(\S+)(?: (.*))?$/.exec(line);
          if (!m) continue;
          const cmd = m[2]!.toUpperCase();
          const params = m[3] ?? "";
          if (cmd === "PING") write(`PONG ${params}`);
          else if (cmd === "001") {
            this.st = { state: "registering", nick: params.split(" ")[0] ?? o.nick };
            write(`JOIN ${o.channel}${o.channel_key ? " " + o.channel_key : ""}`);
          } else if (cmd === "433" || cmd === "432") {
            // Nick in use / erroneous: append "_" a few times before giving up on this connection.
            if (cmd === "433" && ++nickTries <= 5) write(`NICK ${o.nick}${"_".repeat(nickTries)}`.slice(0, 35));
            else sock.destroy(new Error(`nickname refused: ${line}`));
          } else if (cmd === "JOIN" && m[1]?.split("!")[0] === this.st.nick) {
            clearTimeout(registerTimer);
            this.st = { ...this.st, state: "joined" };
            this.backoff.reset();
            this.ctx.log.info(`irc: joined ${o.channel} on ${o.server} as ${this.st.nick}`);
            this.pump();
          } else if (/^(471|473|474|475|403|405)$/.test(cmd)) {
            this.stats.last_error = line;
            this.ctx.log.once(`join-${cmd}`, `irc: cannot join ${o.channel}: ${line}`);
            sock.destroy(new Error(`cannot join: ${line}`));
          } else if (cmd === "KICK" && params.split(" ")[1] === this.st.nick) {
            // Kicked from the channel: lines wait; join again after reconnect_min.
            this.st = { ...this.st, state: "registering" };
            this.ctx.count("kicks");
            this.ctx.log.warn(`irc: kicked from ${o.channel}: ${line}`);
            const t = setTimeout(() => {
              if (!sock.destroyed) write(`JOIN ${o.channel}${o.channel_key ? " " + o.channel_key : ""}`);
            }, o.reconnect_min);
            sock.once("close", () => clearTimeout(t));
          } else if (cmd === "ERROR") {
            this.stats.last_error = line;
            sock.destroy();
          }
        }
      });
      sock.on("error", (e) => {
        this.stats.last_error = e.message;
      });
      sock.on("close", () => resolve());
    });
    clearTimeout(registerTimer);
    clearInterval(keepalive);
  }

  private async run(): Promise<void> {
    while (!this.stop.signal.aborted) {
      this.st = { state: "connecting", nick: this.opts.nick };
      try {
        const sock = await this.connect();
        if (this.stop.signal.aborted) {
          sock.destroy();
          break;
        }
        this.sock = sock;
        this.stats.connects++;
        this.ctx.count("connects");
        await this.session(sock);
      } catch (e) {
        this.stats.last_error = (e as Error).message;
        this.ctx.count("connect_errors");
        this.ctx.log.once("connect", `irc: cannot connect to ${this.opts.server}: ${(e as Error).message} (retrying with backoff)`);
      }
      this.sock = undefined;
      clearTimeout(this.pumpTimer);
      this.pumpTimer = undefined;
      this.st = { ...this.st, state: "disconnected" };
      if (this.stop.signal.aborted) break;
      this.ctx.count("reconnects");
      await this.backoff.next();
    }
    this.st = { ...this.st, state: "closed" };
  }

  /** Sends what the rate allows within `ms`, then QUIT. */
  async close(ms = 2000): Promise<void> {
    const end = Date.now() + ms;
    while (this.lines.length && this.st.state === "joined" && Date.now() < end) await sleep(50);
    if (this.sock && this.st.state === "joined") this.sock.write("QUIT :storeventd stopping\r\n");
    this.stop.abort();
    this.sock?.end();
    setTimeout(() => this.sock?.destroy(), 500).unref?.();
    // A connect in progress ends by its own timeout; do not wait for it.
    await Promise.race([this.loop, sleep(1000)]);
  }

  status(): Record<string, unknown> {
    return { server: this.opts.server, channel: this.opts.channel, ...this.st, queued: this.lines.length, ...this.stats };
  }
}

/** Cross-option checks and the CA file (a config error when they fail). */
function ircServer(config: v.InferOutput<typeof schema>) {
  const server = parseServer(config.server, config.tls);
  if (typeof server === "string") throw new Error(`server: ${server}`);
  if (config.reconnect_min > config.reconnect_max) throw new Error("reconnect_min is longer than reconnect_max");
  return { server, ca: readOptionFile(config.ca_file, "ca_file") };
}

export default definePlugin({
  kind: "receiver",
  name: "irc",
  description: "Posts one line per event to an IRC channel, rate limited, reconnecting with backoff.",
  schema,
  sample,
  validate: (config) => void ircServer(config),
  create(config, ctx) {
    const { server, ca } = ircServer(config);
    return new IrcReceiver(config, server, ca, ctx);
  },
});
