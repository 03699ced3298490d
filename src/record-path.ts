// The pipeline's record path: each raw record into the DRBD model (events2) and, through
// ParseDispatch, the parsers that take its kind; parser flushes; the hold timer. During a DRBD dump
// it allocates nothing per record (the model's emit is bound once), and the hold timer is re-armed
// only after a parser took a record, since only that can move a hold deadline.
import type { EventDraft } from "./event.ts";
import type { RawRecord } from "./records.ts";
import type { RootLog } from "./util/log.ts";
import type { DrbdModel } from "./drbd/model.ts";
import { HoldTimer } from "./router/holds.ts";
import { ParseDispatch, type ParseTarget } from "./parse-dispatch.ts";
import { mark, tracing } from "./util/stage-trace.ts";

/** A running instance as the record path sees it (those with a parser are parsers). */
export interface ParserEntry extends ParseTarget {
  counters: Map<string, number>;
}

export interface RecordPathHost {
  drbd: DrbdModel;
  log: RootLog;
  /** replay: the model's subscribers get each record's updates before the next; no hold timer. */
  mode: "daemon" | "replay";
  /** The running instances, in the pipeline's order. */
  targets(): Iterable<ParserEntry>;
  emitDraft(d: EventDraft, rec?: RawRecord, instance?: string): void;
  count(name: string, n?: number): void;
}

export class RecordPath {
  readonly dispatch: ParseDispatch;
  /** One timer on the earliest parser hold deadline (live only); the held kmsg seqs. */
  readonly holds = new HoldTimer(() => this.dispatch.parsers(), (p) => this.flush(this.entries().find((x) => x.parser === p)));
  /** The record the model is applying (its emit is bound once, not made per record). */
  private current: RawRecord | undefined;
  private readonly emitModel = (d: EventDraft) => this.host.emitDraft(d, this.current);

  constructor(private host: RecordPathHost) {
    this.dispatch = new ParseDispatch(() => host.targets(), (d, rec, name) => host.emitDraft(d, rec, name),
      (name, e) => this.failed(name, e, this.entries().find((x) => x.inst.name === name)));
    this.dispatch.replay = host.mode === "replay";
  }

  /** The set of running parsers changed. */
  invalidate(): void {
    this.dispatch.invalidate();
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
      // Replay reads a whole file in one go: subscribers get each record's updates before the next.
      if (host.mode === "replay") host.drbd.flushSubscribers();
    }
    if (this.dispatch.handle(rec) && host.mode === "daemon") this.holds.arm();
  }

  /** Runs r's flush (final: end of input or its stop). */
  flush(r: ParserEntry | undefined, final = false): void {
    const p = r?.parser;
    if (!r || !p?.flush) return;
    try {
      p.flush((d) => this.host.emitDraft(d, undefined, r.inst.name), final);
    } catch (e) {
      this.failed(r.inst.name, e, r);
    }
  }

  /** The running parser instances. */
  entries(): ParserEntry[] {
    return [...this.host.targets()].filter((t) => t.parser);
  }

  private failed(name: string, e: unknown, r?: ParserEntry): void {
    this.host.count("parser_errors");
    r?.counters.set("errors", (r.counters.get("errors") ?? 0) + 1);
    this.host.log.child(name).once("parser-error", `failed on a record: ${(e as Error).message ?? e}`);
  }
}
