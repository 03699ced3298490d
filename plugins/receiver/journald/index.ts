// journald receiver: each event as one journal entry over the native protocol (AF_UNIX datagram
// through the addon), large entries through a sealed memfd passed with SCM_RIGHTS.
import * as v from "valibot";
import { definePlugin, Duration, type ReceiverContext, type StorageEvent } from "../../../src/plugin-api.ts";
import { backoffDelay, sleep } from "../../../src/plugin-kit/backoff.ts";
import { PRIORITY, encodeFields, eventFields } from "./encode.ts";
import sample from "./sample.toml" with { type: "text" };

const schema = v.strictObject({
  path: v.pipe(
    v.optional(
      v.pipe(
        v.string(),
        v.check((p) => p.startsWith("/") || p.startsWith("@"), "must be an absolute socket path (or @abstract)"),
        v.maxLength(107, "a unix socket path is at most 107 bytes"),
      ),
      "/run/systemd/journal/socket",
    ),
    v.description("The journal's native socket (a journal namespace: /run/systemd/journal.NAME/socket)."),
  ),
  identifier: v.pipe(v.optional(v.pipe(v.string(), v.minLength(1)), "storeventd"), v.description("SYSLOG_IDENTIFIER of the entries.")),
  timeout: v.pipe(
    v.optional(Duration, "5s"),
    v.description("How long one batch may retry while journald is busy (EAGAIN) or down; then its events count as errors."),
  ),
});

const ERRNO = { EAGAIN: 11, ENOENT: 2, ECONNREFUSED: 111, EMSGSIZE: 90, ENOBUFS: 105, EACCES: 13, EPERM: 1 } as const;
const errnoName = (n: number) => Object.entries(ERRNO).find(([, x]) => x === n)?.[0] ?? `errno ${n}`;
// Busy or restarting journald: worth retrying within the timeout.
const RETRIABLE = new Set<number>([ERRNO.EAGAIN, ERRNO.ENOENT, ERRNO.ECONNREFUSED, ERRNO.ENOBUFS]);

type Opts = v.InferOutput<typeof schema>;

export class JournaldReceiver {
  private sent = 0;
  private errors = 0;
  private lastErrno = 0;
  /** Set when a batch ran out of time: later events get one attempt each until one succeeds. */
  private down = false;
  constructor(private opts: Opts, private ctx: ReceiverContext) {}

  /** Sends one payload; EMSGSIZE/ENOBUFS on a big entry -> memfd. Returns 0 or an errno. */
  private sendOnce(payload: Buffer): number {
    const native = this.ctx.native!;
    let rc = native.unixDgramSend(this.opts.path, payload, -1, true);
    if (rc === ERRNO.EMSGSIZE || (rc === ERRNO.ENOBUFS && payload.length > 4096)) {
      const fd = native.memfdWrite("storeventd-journal", payload);
      if (fd < 0) return -fd;
      try {
        rc = native.unixDgramSend(this.opts.path, Buffer.alloc(0), fd, true);
      } finally {
        native.closeFd(fd);
      }
      if (rc === 0) this.ctx.count("memfd");
    }
    return rc;
  }

  async send(events: readonly StorageEvent[]): Promise<void> {
    if (!this.ctx.native) return this.fallback(events);
    const deadline = Date.now() + this.opts.timeout;
    for (const e of events) {
      const payload = encodeFields(eventFields(e, this.opts.identifier));
      for (let attempt = 0; ; attempt++) {
        const rc = this.sendOnce(payload);
        if (rc === 0) {
          this.down = false;
          this.sent++;
          this.ctx.count("sent");
          break;
        }
        this.lastErrno = rc;
        if (!RETRIABLE.has(rc) || this.down || Date.now() >= deadline || this.ctx.signal.aborted) {
          if (RETRIABLE.has(rc)) this.down = true;
          this.errors++;
          this.ctx.count("errors");
          this.ctx.log.once(`errno-${rc}`, `journald: sending to ${this.opts.path} failed: ${errnoName(rc)}`);
          break;
        }
        this.ctx.count("retries");
        await sleep(Math.min(backoffDelay(attempt, { minTimeout: 2, maxTimeout: 250 }), Math.max(0, deadline - Date.now())), this.ctx.signal);
      }
    }
  }

  /** No addon: sd-daemon(3) prefixed lines on stderr, which journald files under the unit. */
  private fallback(events: readonly StorageEvent[]): void {
    this.ctx.log.once("no-addon", "journald: native addon not loaded; writing events to stderr as <priority> lines");
    let out = "";
    for (const e of events) {
      out += `<${PRIORITY[e.severity] ?? 6}>${e.event_type}${e.dev_name ? " " + e.dev_name : ""}: ${e.msg.replace(/\n/g, " ")}\n`;
    }
    process.stderr.write(out);
    this.ctx.count("fallback", events.length);
  }

  status(): Record<string, unknown> {
    return { path: this.opts.path, down: this.down, sent: this.sent, errors: this.errors, last_error: this.lastErrno ? errnoName(this.lastErrno) : "", addon: Boolean(this.ctx.native) };
  }
}

export default definePlugin({
  kind: "receiver",
  name: "journald",
  embeddedDefault: { order: 60, instance: "journal", needs: "journald", slot: "output" },
  description: "Writes each event to the systemd journal with STOREVENTD_* fields and a MESSAGE_ID per event type.",
  schema,
  sample,
  create(config, ctx) {
    return new JournaldReceiver(config, ctx);
  },
});
