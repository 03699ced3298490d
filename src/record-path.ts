// The pipeline's record path: each raw record into the DRBD model (events2) and the parsers that
// take its kind; parser flushes; the hold timer. Per record it allocates nothing of its own during a
// DRBD dump (the model's emit is bound once, the parsers of each kind are listed once per instance
// change), and the hold timer is re-armed only after a parser took a record, since only that can
// move a hold deadline.
import type { EventDraft } from "./event.ts";
import type { Parser } from "./plugin-api.ts";
import type { RawRecord, RecordKind } from "./records.ts";
import type { RootLog } from "./util/log.ts";
import type { DrbdModel } from "./drbd/model.ts";
import { HoldTimer } from "./router/holds.ts";
import { mark, tracing } from "./util/stage-trace.ts";

/** A running parser instance as the record path sees it. */
export interface ParserEntry {
  name: string;
  parser: Parser;
  counters: Map<string, number>;
}

export interface RecordPathHost {
  drbd: DrbdModel;
  log: RootLog;
  /** replay: the model's subscribers get each record's updates before the next; no hold timer. */
  mode: "daemon" | "replay";
  /** The running parser instances, in the pipeline's order. */
  parsers(): Iterable<ParserEntry>;
  emitDraft(d: EventDraft, rec?: RawRecord, instance?: string): void;
  count(name: string, n?: number): void;
}

export class RecordPath {
  /** One timer on the earliest parser hold deadline (live only); the held kmsg seqs. */
  readonly holds = new HoldTimer(() => this.parserList(), (p) => this.flush(this.entries().find((x) => x.parser === p)));
  private all: ParserEntry[] | null = null;
  private byKind = new Map<RecordKind, ParserEntry[]>();
  /** The record the model is applying (its emit is bound once, not made per record). */
  private current: RawRecord | undefined;
  private readonly emitModel = (d: EventDraft) => this.host.emitDraft(d, this.current);

  constructor(private host: RecordPathHost) {}

  /** The set of running parsers changed. */
  invalidate(): void {
    this.all = null;
    this.byKind.clear();
  }

  handle(rec: RawRecord): void {
    const { host } = this;
    host.count("records");
    if (tracing) mark("record", rec.raw);
    if (rec.kind === "events2") {
      const was = this.current;
      this.current = rec;
      try {
        host.drbd.apply(rec, this.emitModel);
      } catch (e) {
        this.failed("drbd", e);
      } finally {
        this.current = was;
      }
      if (host.mode === "replay") host.drbd.flushSubscribers();
    }
    const parsers = this.forKind(rec.kind);
    for (const r of parsers) {
      try {
        r.parser.parse(rec, (d) => host.emitDraft(d, rec, r.name));
      } catch (e) {
        this.failed(r.name, e, r);
      }
    }
    if (parsers.length && host.mode === "daemon") this.holds.arm();
  }

  /** Runs r's flush (final: end of input or its stop). */
  flush(r: ParserEntry | undefined, final = false): void {
    const p = r?.parser;
    if (!r || !p?.flush) return;
    try {
      p.flush((d) => this.host.emitDraft(d, undefined, r.name), final);
    } catch (e) {
      this.failed(r.name, e, r);
    }
  }

  entries(): ParserEntry[] {
    return (this.all ??= [...this.host.parsers()]);
  }

  private *parserList(): Iterable<Parser> {
    for (const r of this.entries()) yield r.parser;
  }

  private forKind(kind: RecordKind): ParserEntry[] {
    let list = this.byKind.get(kind);
    if (!list) this.byKind.set(kind, (list = this.entries().filter((r) => r.parser.accepts.includes(kind))));
    return list;
  }

  private failed(name: string, e: unknown, r?: ParserEntry): void {
    this.host.count("parser_errors");
    r?.counters.set("errors", (r.counters.get("errors") ?? 0) + 1);
    this.host.log.child(name).once("parser-error", `failed on a record: ${(e as Error).message ?? e}`);
  }
}
