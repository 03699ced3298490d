// The embedded event store: one SQLite table (bun:sqlite, WAL), batched writes, incremental
// retention by age and size, and keyset-paged queries for the control API.
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { SEVERITIES, SEVERITY_RANK, parseTime, type StorageEvent } from "../../../src/plugin-kit/event.ts";
import type { EventQuery, EventStoreService, StoreStats, StoredEvent } from "../../../src/plugin-kit/store.ts";

export interface EventStoreOptions {
  path: string;
  /** Delete events older than this (µs); 0 keeps them forever. */
  maxAgeUs: number;
  /** Delete the oldest events while the used pages exceed this many bytes; 0 = no limit. */
  maxBytes: number;
  /** At most this many rows deleted per retention pass (keeps each flush short). */
  pruneBatch?: number;
  now?: () => number; // µs, for tests
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,
  time_us INTEGER NOT NULL,
  time TEXT NOT NULL,
  hostname TEXT NOT NULL,
  severity TEXT NOT NULL,
  system TEXT NOT NULL,
  event_type TEXT NOT NULL,
  dev_name TEXT NOT NULL,
  dev_path TEXT NOT NULL,
  dev_wwid TEXT NOT NULL,
  owners TEXT NOT NULL,
  msg TEXT NOT NULL,
  source TEXT NOT NULL,
  raw TEXT NOT NULL,
  extension TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events(time_us, seq);
CREATE INDEX IF NOT EXISTS events_dev ON events(dev_name, time_us);
CREATE INDEX IF NOT EXISTS events_system ON events(system, time_us);
CREATE INDEX IF NOT EXISTS events_type ON events(event_type, time_us);
`;

const COLUMNS = "seq, event_id, time_us, time, hostname, severity, system, event_type, dev_name, dev_path, dev_wwid, owners, msg, source, raw, extension";

interface Row {
  seq: number;
  event_id: string;
  time_us: number;
  time: string;
  hostname: string;
  severity: StorageEvent["severity"];
  system: StorageEvent["system"];
  event_type: string;
  dev_name: string;
  dev_path: string;
  dev_wwid: string;
  owners: string;
  msg: string;
  source: string;
  raw: string;
  extension: string;
}

function rowToStored(r: Row): StoredEvent {
  return {
    seq: r.seq,
    time_us: r.time_us,
    event: {
      event_id: r.event_id, time: r.time, hostname: r.hostname, severity: r.severity, system: r.system,
      event_type: r.event_type, dev_name: r.dev_name, dev_path: r.dev_path, dev_wwid: r.dev_wwid,
      owners: JSON.parse(r.owners), msg: r.msg, source: r.source, raw: r.raw, extension: JSON.parse(r.extension),
    },
  };
}

export class EventStore implements EventStoreService {
  readonly path: string;
  private db: Database;
  private insert: Statement;
  private pending: StorageEvent[] = [];
  private count = 0;
  private counters = { flushes: 0, written: 0, pruned_age: 0, pruned_size: 0, write_errors: 0 };
  private lastError?: { last_error: string; last_error_at: string; failing: boolean };
  private closed = false;

  constructor(private opts: EventStoreOptions) {
    this.path = opts.path;
    mkdirSync(dirname(opts.path), { recursive: true, mode: 0o750 });
    this.db = new Database(opts.path, { create: true, strict: true });
    // auto_vacuum only takes effect before the first table exists; INCREMENTAL lets retention hand
    // freed pages back to the file system a few at a time.
    this.db.run("PRAGMA auto_vacuum = INCREMENTAL");
    this.db.run("PRAGMA journal_mode = WAL");
    // WAL + NORMAL: a committed transaction survives a process crash (kill -9); only an OS crash or
    // power loss can roll back the last commits.
    this.db.run("PRAGMA synchronous = NORMAL");
    // The WAL file is cut back to 4 MiB after a checkpoint (it would otherwise stay at its peak).
    this.db.run("PRAGMA journal_size_limit = 4194304");
    this.db.run("PRAGMA busy_timeout = 2000");
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare(
      `INSERT INTO events (event_id, time_us, time, hostname, severity, system, event_type, dev_name, dev_path, dev_wwid, owners, msg, source, raw, extension)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.count = (this.db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n;
  }

  /** Buffers events; they reach the file at the next flush(). */
  add(events: readonly StorageEvent[]): void {
    for (const e of events) this.pending.push(e);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Writes every buffered event in one transaction, then runs one bounded retention pass. */
  flush(): void {
    if (this.closed) return;
    if (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      try {
        this.db.transaction((evs: StorageEvent[]) => {
          for (const e of evs) {
            this.insert.run(
              e.event_id, parseTime(e.time), e.time, e.hostname, e.severity, e.system, e.event_type, e.dev_name,
              e.dev_path, e.dev_wwid, JSON.stringify(e.owners ?? []), e.msg, e.source, e.raw, JSON.stringify(e.extension ?? {}),
            );
          }
        })(batch);
        this.count += batch.length;
        this.counters.written += batch.length;
        this.counters.flushes++;
        if (this.lastError) this.lastError.failing = false;
      } catch (err) {
        this.counters.write_errors++;
        this.lastError = { last_error: (err as Error).message, last_error_at: new Date().toISOString(), failing: true };
        throw err;
      }
    }
    this.prune();
  }

  /**
   * One retention pass: deletes at most pruneBatch rows that are too old, then at most pruneBatch
   * of the oldest rows while the used size is over maxBytes. Returns the rows deleted.
   */
  prune(): number {
    const batch = this.opts.pruneBatch ?? 5000;
    let deleted = 0;
    if (this.opts.maxAgeUs > 0) {
      const cutoff = (this.opts.now?.() ?? Date.now() * 1000) - this.opts.maxAgeUs;
      const n = this.db.run(
        "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE time_us < ? ORDER BY time_us LIMIT ?)", [cutoff, batch],
      ).changes;
      this.counters.pruned_age += n;
      deleted += n;
    }
    if (this.opts.maxBytes > 0 && this.count - deleted > 0) {
      const used = this.usedBytes();
      if (used > this.opts.maxBytes) {
        // Aim 10% under the limit so the next flushes do not each delete a handful of rows.
        const perRow = used / Math.max(1, this.count - deleted);
        const want = Math.min(batch, Math.ceil((used - this.opts.maxBytes * 0.9) / perRow));
        const n = this.db.run(
          "DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY time_us, seq LIMIT ?)", [want],
        ).changes;
        this.counters.pruned_size += n;
        deleted += n;
      }
    }
    if (deleted) {
      this.count -= deleted;
      this.db.run("PRAGMA incremental_vacuum(2000)");
    }
    return deleted;
  }

  /** Bytes in pages that hold data (the file minus its free list). */
  usedBytes(): number {
    const p = (name: string) => (this.db.query(`PRAGMA ${name}`).get() as Record<string, number>)[name]!;
    return (p("page_count") - p("freelist_count")) * p("page_size");
  }

  query(q: EventQuery): StoredEvent[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const desc = q.order === "desc";
    // With a cursor, the bound on its side is the cursor's time when tighter: one range term per
    // side, so SQLite walks the time index from the cursor on.
    let since = q.since_us;
    let until = q.until_us;
    if (q.after && !desc) since = Math.max(since ?? -Infinity, q.after.time_us);
    if (q.after && desc) until = Math.min(until ?? Infinity, q.after.time_us + 1);
    if (since !== undefined) { where.push("time_us >= ?"); args.push(since); }
    if (until !== undefined) { where.push("time_us < ?"); args.push(until); }
    const anyOf = (col: string, values: string[] | undefined) => {
      if (!values) return;
      if (!values.length) { where.push("0"); return; }
      where.push(`${col} IN (${values.map(() => "?").join(",")})`);
      args.push(...values);
    };
    anyOf("system", q.system);
    anyOf("event_type", q.event_type);
    anyOf("dev_name", q.dev_name);
    anyOf("hostname", q.hostname);
    if (q.text !== undefined) {
      // SQLite's LIKE is case-insensitive for ASCII; % and _ in the text are matched literally.
      const like = `%${q.text.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
      where.push(`(${["msg", "raw", "dev_name", "event_type", "hostname"].map((c) => `${c} LIKE ? ESCAPE '\\'`).join(" OR ")})`);
      args.push(like, like, like, like, like);
    }
    if (q.severity) anyOf("severity", SEVERITIES.filter((s) => SEVERITY_RANK[s] >= SEVERITY_RANK[q.severity!]));
    if (q.after) {
      where.push(desc ? "(time_us < ? OR seq < ?)" : "(time_us > ? OR seq > ?)");
      args.push(q.after.time_us, q.after.seq);
    }
    const dir = desc ? "DESC" : "ASC";
    const sql = `SELECT ${COLUMNS} FROM events${where.length ? " WHERE " + where.join(" AND ") : ""} ORDER BY time_us ${dir}, seq ${dir}${q.limit !== undefined ? " LIMIT ?" : ""}`;
    if (q.limit !== undefined) args.push(q.limit);
    return (this.db.query(sql).all(...args) as Row[]).map(rowToStored);
  }

  stats(): StoreStats {
    const size = (p: string) => { try { return statSync(p).size; } catch { return 0; } };
    const end = (dir: string) => (this.db.query(`SELECT time FROM events ORDER BY time_us ${dir} LIMIT 1`).get() as { time: string } | null)?.time;
    const first = end("ASC");
    const last = end("DESC");
    return {
      path: this.path, events: this.count, bytes: size(this.path) + size(this.path + "-wal"),
      ...(first ? { oldest: first } : {}), ...(last ? { newest: last } : {}),
      pending: this.pending.length, ...this.counters, ...this.lastError,
    };
  }

  /** Flushes what is buffered and closes the database (checkpointing the WAL). */
  close(): void {
    if (this.closed) return;
    try { this.flush(); } finally {
      this.closed = true;
      this.db.close();
    }
  }
}
