// The daemon's own log: one line per message on stderr (journald picks it up under systemd),
// level-filtered, with a per-key rate limit for reports that can repeat (bad input, send failures):
// the first of a key is logged, the rest within RATE_WINDOW_MS are counted, and the next one logged
// after the window says how many were suppressed.
import type { Logger } from "../plugin-api.ts";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "off";
const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 5 };
// sd-daemon(3) prefixes, so journald assigns the right priority to stderr lines.
const SD_PREFIX: Record<string, string> = { debug: "<7>", info: "<6>", warn: "<4>", error: "<3>" };

export interface LogSink {
  write(line: string): void;
}

export const RATE_WINDOW_MS = 60_000;
/** Bound on the keys the limiter remembers (keys can carry errno names, commands, ...). */
const MAX_KEYS = 4096;

interface Limit {
  since: number;
  suppressed: number;
}

export class RootLog {
  level: LogLevel = "info";
  sdPrefix = Boolean(process.env.JOURNAL_STREAM || process.env.INVOCATION_ID);
  private limits = new Map<string, Limit>();
  constructor(
    private sink: LogSink = { write: (l) => process.stderr.write(l) },
    private now: () => number = () => performance.now(),
  ) {}

  /** A warning at most once per RATE_WINDOW_MS per scope+key, with the count suppressed meanwhile. */
  limited(scope: string, key: string, msg: string, fields?: Record<string, unknown>): void {
    const k = `${scope}\0${key}`;
    const t = this.now();
    const l = this.limits.get(k);
    if (l && t - l.since < RATE_WINDOW_MS) {
      l.suppressed++;
      return;
    }
    let tail = "";
    if (l?.suppressed) {
      const s = Math.round((t - l.since) / 1000);
      tail = ` (${l.suppressed} similar message${l.suppressed === 1 ? "" : "s"} suppressed in the last ${s} s)`;
    }
    if (!l && this.limits.size >= MAX_KEYS) this.limits.clear();
    this.limits.set(k, { since: t, suppressed: 0 });
    this.emit("warn", scope, msg + tail, fields);
  }

  child(scope: string): Logger {
    const at = (level: "debug" | "info" | "warn" | "error") => (msg: string, fields?: Record<string, unknown>) =>
      this.emit(level, scope, msg, fields);
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      once: (kind, msg, fields) => this.limited(scope, kind, msg, fields),
    };
  }

  emit(level: "debug" | "info" | "warn" | "error", scope: string, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < RANK[this.level]) return;
    const extra = fields && Object.keys(fields).length ? " " + JSON.stringify(fields) : "";
    const prefix = this.sdPrefix ? SD_PREFIX[level]! : `${level}: `;
    this.sink.write(`${prefix}${scope ? scope + ": " : ""}${msg}${extra}\n`);
  }
}

export const rootLog = new RootLog();
