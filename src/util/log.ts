// The daemon's own log: one line per message on stderr (journald picks it up under systemd),
// level-filtered, with a per-key rate limit for reports that can repeat (bad input, send failures):
// the first of a key is logged, the rest within RATE_WINDOW_MS are counted, and the next one logged
// after the window says how many were suppressed. drbd-reactor's [[log]] replaces that
// default with its loggers: each a level and stderr or a file, lines `LEVEL [target] message`
// without timestamps (drbd-reactor's format); files are opened for append and reopened on reload
// (SIGHUP, for logrotate: storeventd's extension, drbd-reactor opens them once).
import { createWriteStream, type WriteStream } from "node:fs";
import type { Logger } from "../plugin-api.ts";
import { writeStderr } from "./fd-writer.ts";

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

/** One drbd-reactor [[log]] table. */
export interface LogOutput {
  level: LogLevel;
  file?: string;
}

/** A log file opened for append once `after` (the previous stream's end) settles, so a reopen keeps
 * the lines in order; lines written before then wait in memory. */
class LogFile {
  private stream: WriteStream | undefined;
  private early: string[] | undefined = [];
  private opened: Promise<void>;

  constructor(path: string, after: Promise<void>, onError: (e: Error) => void) {
    this.opened = after.then(() => {
      const s = createWriteStream(path, { flags: "a", mode: 0o640 });
      s.on("error", onError);
      for (const l of this.early!) s.write(l);
      this.early = undefined;
      this.stream = s;
    });
  }

  write(line: string): void {
    if (this.early) this.early.push(line);
    else this.stream!.write(line);
  }

  /** Resolves once every line is written and the file closed. */
  async end(): Promise<void> {
    await this.opened;
    const s = this.stream!;
    await new Promise<void>((res) => {
      s.once("close", () => res());
      s.once("error", () => res());
      s.end();
    });
  }
}

interface Output {
  level: LogLevel;
  file?: string;
  stream?: LogFile;
}

export class RootLog {
  level: LogLevel = "info";
  sdPrefix = Boolean(process.env.JOURNAL_STREAM || process.env.INVOCATION_ID);
  private limits = new Map<string, Limit>();
  private outputs: Output[] = [];
  private ended: Promise<void> = Promise.resolve();
  constructor(
    private sink: LogSink = { write: writeStderr },
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


  /** drbd-reactor's loggers (none: the default stderr log at `level`); `force` overrides every level. */
  configure(outputs: LogOutput[] | undefined, level: LogLevel, force?: LogLevel): void {
    this.closeFiles();
    this.outputs = (outputs ?? []).map((o) => ({ level: force ?? o.level, file: o.file }));
    this.level = this.outputs.length ? this.outputs.reduce((m, o) => (RANK[o.level] < RANK[m] ? o.level : m), "off" as LogLevel) : (force ?? level);
    this.openFiles();
  }

  /** Reopens the log files (after logrotate moved them). */
  reopen(): void {
    this.closeFiles();
    this.openFiles();
  }

  private openFiles(): void {
    for (const o of this.outputs) {
      if (!o.file) continue;
      o.stream = new LogFile(o.file, this.ended, (e) => this.sink.write(`error: storeventd: log file ${o.file}: ${e.message}\n`));
    }
  }

  private closeFiles(): void {
    this.ended = Promise.all(this.outputs.map((o) => o.stream?.end())).then(() => {});
    for (const o of this.outputs) o.stream = undefined;
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
    if (this.outputs.length) {
      const line = `${level.toUpperCase()} [${scope || "storeventd"}] ${msg}${extra}\n`;
      for (const o of this.outputs) {
        if (RANK[level] < RANK[o.level]) continue;
        if (!o.file) this.sink.write(line);
        else o.stream?.write(line);
      }
      return;
    }
    const prefix = this.sdPrefix ? SD_PREFIX[level]! : `${level}: `;
    this.sink.write(`${prefix}${scope ? scope + ": " : ""}${msg}${extra}\n`);
  }

  /** Flushes and closes the log files (at exit). */
  async close(): Promise<void> {
    this.closeFiles();
    await this.ended;
  }
}

export const rootLog = new RootLog();
