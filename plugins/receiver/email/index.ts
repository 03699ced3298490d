// email receiver: batches events into plain-text mails (one per batch_max events or batch_wait)
// and sends them over SMTP with STARTTLS or implicit TLS and AUTH; transient failures are retried
// with backoff, a bounded number of times.
import * as v from "valibot";
import { definePlugin, Duration, type ReceiverContext, type StorageEvent } from "../../../src/plugin-api.ts";
import { backoffDelay, sleep } from "../../../src/plugin-kit/backoff.ts";
import { parseHostPort, readOptionFile } from "../../../src/plugin-kit/endpoint.ts";
import { buildMessage } from "./message.ts";
import { SmtpError, sendMail, type SmtpOptions } from "./smtp.ts";
import sample from "./sample.toml" with { type: "text" };

// A plain addr-spec: no spaces, angle brackets, CR/LF or commas (they would break the envelope).
const Address = v.pipe(v.string(), v.regex(/^[^\s<>,;"]+@[^\s<>,;"@]+$/, "not an e-mail address (user@domain)"));

export function parseServer(text: string, security: string): { host: string; port: number } | string {
  return parseHostPort(text, security === "tls" ? 465 : 587);
}

const schema = v.strictObject({
  server: v.pipe(
    v.string(),
    v.check((s) => typeof parseServer(s, "starttls") !== "string", (i) => String(parseServer(String(i.input), "starttls"))),
    v.description('SMTP server "host:port" (default port 587, or 465 with security = "tls").'),
  ),
  security: v.pipe(
    v.optional(v.picklist(["starttls", "tls", "none"]), "starttls"),
    v.description('"starttls" (required, RFC 3207), "tls" (implicit TLS, RFC 8314) or "none" (plain text; local relays only).'),
  ),
  tls_verify: v.pipe(v.optional(v.boolean(), true), v.description("Verify the server's certificate and name.")),
  ca_file: v.pipe(v.optional(v.string()), v.description("PEM file of the CA(s) to trust instead of the system store.")),
  username: v.pipe(v.optional(v.pipe(v.string(), v.minLength(1))), v.description("AUTH user name; set with password or password_file.")),
  password: v.pipe(v.optional(v.string()), v.description("AUTH password (prefer password_file).")),
  password_file: v.pipe(v.optional(v.string()), v.description("File holding the AUTH password (trailing newline ignored).")),
  auth: v.pipe(v.optional(v.picklist(["auto", "plain", "login"]), "auto"), v.description('AUTH mechanism: "auto" picks PLAIN, else LOGIN, as offered.')),
  from: v.pipe(Address, v.description("Envelope and header sender.")),
  to: v.pipe(v.array(Address), v.minLength(1, "to needs at least one recipient"), v.description("Recipients.")),
  subject_prefix: v.pipe(v.optional(v.string(), "[storeventd]"), v.description("Put in front of every subject.")),
  batch_max: v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)), 50), v.description("At most this many events per mail; a full batch is sent at once.")),
  batch_wait: v.pipe(v.optional(Duration, "30s"), v.description("A partial batch is sent this long after its first event.")),
  timeout: v.pipe(v.optional(Duration, "30s"), v.description("One SMTP conversation (connect to the end of DATA) must finish within this.")),
  retries: v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(20)), 4), v.description("Retries of a mail after a transient failure (4xx, network) before its events count as errors.")),
  retry_wait: v.pipe(v.optional(Duration, "2s"), v.description("First retry delay; doubles (with jitter) up to 5 minutes.")),
  helo: v.pipe(v.optional(v.string()), v.description("Name for EHLO; default the host name.")),
});

type Opts = v.InferOutput<typeof schema>;

export class EmailReceiver {
  private pending: StorageEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Aborted by close() after its grace, or by the core's signal: stops conversations and retries. */
  private stop = new AbortController();
  private stats = { mails: 0, sent: 0, errors: 0, retries: 0, last_error: "", last_latency_ms: 0 };

  constructor(private opts: Opts, private smtp: SmtpOptions, private ctx: ReceiverContext) {
    ctx.signal.addEventListener("abort", () => this.stop.abort(), { once: true });
  }

  async send(events: readonly StorageEvent[]): Promise<void> {
    this.pending.push(...events);
    if (this.pending.length >= this.opts.batch_max) await this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.batch_wait);
  }

  /** Sends everything pending (in batch_max mails), one conversation at a time. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.chain = this.chain.then(async () => {
      while (this.pending.length) await this.deliver(this.pending.splice(0, this.opts.batch_max));
    });
    return this.chain;
  }

  private async deliver(batch: StorageEvent[]): Promise<void> {
    const msg = buildMessage(batch, {
      from: this.opts.from, to: this.opts.to, subjectPrefix: this.opts.subject_prefix, hostname: this.ctx.hostname,
      identify: (d) => this.ctx.devices.identify(d),
    });
    const t0 = performance.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await sendMail(this.smtp, { from: this.opts.from, to: this.opts.to, data: msg.data }, this.stop.signal);
        this.stats.mails++;
        this.stats.sent += batch.length;
        this.stats.last_latency_ms = Math.round(performance.now() - t0);
        this.ctx.count("mails");
        this.ctx.count("sent", batch.length);
        return;
      } catch (e) {
        const err = e instanceof SmtpError ? e : new SmtpError(String(e), 0, true);
        this.stats.last_error = err.message;
        if (!err.transient || attempt >= this.opts.retries || this.stop.signal.aborted) {
          this.stats.errors += batch.length;
          this.ctx.count("errors", batch.length);
          this.ctx.count("failed_mails");
          this.ctx.log.once(`fail-${err.code}`, `email: mail of ${batch.length} events not sent: ${err.message}`);
          return;
        }
        this.stats.retries++;
        this.ctx.count("retries");
        await sleep(backoffDelay(attempt, { minTimeout: this.opts.retry_wait, maxTimeout: 300_000 }), this.stop.signal);
      }
    }
  }

  /** Sends what is pending, for at most `ms`; then aborts the conversation and stops retrying. */
  async close(ms = 5000): Promise<void> {
    const done = this.flush();
    if (!(await Promise.race([done.then(() => true), sleep(ms).then(() => false)]))) {
      this.stop.abort();
      await done;
    }
    this.stop.abort();
  }

  status(): Record<string, unknown> {
    return { server: this.opts.server, pending: this.pending.length, ...this.stats };
  }
}

/** Cross-option checks and file reads (a config error when they fail); the SMTP client's options. */
function smtpOptions(config: v.InferOutput<typeof schema>, hostname: string): SmtpOptions {
  const server = parseServer(config.server, config.security);
  if (typeof server === "string") throw new Error(`server: ${server}`);
  if (config.password !== undefined && config.password_file !== undefined) throw new Error("password and password_file: give one");
  const password = config.password ?? readOptionFile(config.password_file, "password_file")?.replace(/\r?\n$/, "");
  if ((config.username === undefined) !== (password === undefined)) {
    throw new Error("username and password (or password_file) go together: give both or neither");
  }
  if (config.username !== undefined && config.security === "none" && !/^(127\.|::1$|localhost$)/.test(server.host)) {
    throw new Error('AUTH over security = "none" would send the password in clear text; use "starttls" or "tls"');
  }
  return {
    host: server.host, port: server.port, security: config.security, verify: config.tls_verify, ca: readOptionFile(config.ca_file, "ca_file"),
    username: config.username, password, auth: config.auth, helo: config.helo ?? hostname, timeout: config.timeout,
  };
}

export default definePlugin({
  kind: "receiver",
  name: "email",
  description: "Mails batches of events as plain text over SMTP (STARTTLS or TLS, AUTH PLAIN/LOGIN), retrying with backoff.",
  schema,
  sample,
  validate: (config, env) => void smtpOptions(config, env.hostname),
  create(config, ctx) {
    const smtp = smtpOptions(config, ctx.hostname);
    return new EmailReceiver(config, smtp, ctx);
  },
});
