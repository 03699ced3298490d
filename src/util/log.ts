// The daemon's own log: one line per message on stderr (journald picks it up under systemd),
// level-filtered, with "once per kind" for bad-input reports.
import type { Logger } from "../plugin-api.ts";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "off";
const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 5 };
// sd-daemon(3) prefixes, so journald assigns the right priority to stderr lines.
const SD_PREFIX: Record<string, string> = { debug: "<7>", info: "<6>", warn: "<4>", error: "<3>" };

export interface LogSink {
  write(line: string): void;
}

export class RootLog {
  level: LogLevel = "info";
  sdPrefix = Boolean(process.env.JOURNAL_STREAM || process.env.INVOCATION_ID);
  private seen = new Set<string>();
  constructor(private sink: LogSink = { write: (l) => process.stderr.write(l) }) {}

  child(scope: string): Logger {
    const at = (level: "debug" | "info" | "warn" | "error") => (msg: string, fields?: Record<string, unknown>) =>
      this.emit(level, scope, msg, fields);
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      once: (kind, msg, fields) => {
        const key = `${scope}\0${kind}`;
        if (this.seen.has(key)) return;
        this.seen.add(key);
        this.emit("warn", scope, `${msg} (further ${kind} reports are only counted)`, fields);
      },
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
