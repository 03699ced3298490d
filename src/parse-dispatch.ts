// Hands each raw record to the parsers that take its kind, in the order the parsers were started.
// Per kind one array of targets built when the parser set changes (no per-record lookups); each
// target's emit is built once (the record being parsed is a field, parse() is synchronous); a kmsg
// message is guarded once for all parsers. Also the parsers' clock (ParserContext.clock).
import type { EventDraft, Parser } from "./plugin-api.ts";
import type { KmsgRecord, RawRecord, RecordKind } from "./records.ts";
import { kernelMsg } from "./util/kpattern.ts";
import { NO_GUARD } from "./util/ktext.ts";

/** A running instance, as the pipeline keeps it; those with a parser are the targets. */
export interface ParseTarget {
  inst: { name: string };
  parser?: Parser;
}

interface Bound {
  name: string;
  parser: Parser;
  emit: (d: EventDraft) => void;
}

export class ParseDispatch {
  private byKind = new Map<RecordKind, Bound[]>();
  private stale = true;
  private recordMs = 0;
  /** The record being parsed: its time, source and raw complete the drafts emitted meanwhile. */
  private cur: RawRecord | undefined;
  /** Replay: the clock is the records' time. */
  replay = false;
  /** Replay: the latest record's time (ms), so holds and joins never depend on reading speed; live: monotonic. */
  readonly clock = (): number => (this.replay ? this.recordMs : performance.now());

  constructor(
    private targets: () => Iterable<ParseTarget>,
    private emitDraft: (d: EventDraft, rec: RawRecord | undefined, instance: string) => void,
    /** A parser threw: count and log it (the record is lost for that parser only). */
    private failed: (instance: string, e: unknown) => void,
  ) {}

  *parsers(): Iterable<Parser> {
    for (const t of this.targets()) if (t.parser) yield t.parser;
  }

  /** The parser set changed: rebuild the tables before the next record. */
  invalidate(): void {
    this.stale = true;
  }

  private table(kind: RecordKind): Bound[] {
    if (this.stale) {
      this.byKind.clear();
      this.stale = false;
    }
    let list = this.byKind.get(kind);
    if (list) return list;
    list = [];
    for (const t of this.targets()) {
      if (!t.parser?.accepts.includes(kind)) continue;
      const name = t.inst.name;
      list.push({ name, parser: t.parser, emit: (d) => this.emitDraft(d, this.cur, name) });
    }
    this.byKind.set(kind, list);
    return list;
  }

  /** false: no parser takes this kind (nothing to hold, no hold deadline moved). */
  handle(rec: RawRecord): boolean {
    const list = this.table(rec.kind);
    if (list.length === 0) return false;
    if (rec.time_us !== undefined) this.recordMs = rec.time_us / 1000;
    // A message the guard rejects goes the long way: each parser counts and logs it itself.
    const msg = rec.kind === "kmsg" ? kernelMsg(rec, NO_GUARD) : undefined;
    const prev = this.cur;
    this.cur = rec;
    try {
      for (const t of list) {
        try {
          if (msg !== undefined && t.parser.parseGuarded) t.parser.parseGuarded(rec as KmsgRecord, msg, t.emit);
          else t.parser.parse(rec, t.emit);
        } catch (e) {
          this.failed(t.name, e);
        }
      }
    } finally {
      this.cur = prev;
    }
    return true;
  }
}
