// Kernel-message pattern tables for parser plugins: each entry pairs a literal the message must
// contain (a cheap String.includes prefilter) with a regex of named groups built from the kernel's
// own format string, and names the kernel source file it comes from. Pure; no I/O.
// Also: HeldReports (multi-record reports held per key), kernelMsg/kmsgParser (the guard and the
// Parser object every kernel-log parser plugin shares), lineParser (one line, one event).
import type { EventDraft, KmsgRecord, Parser } from "../plugin-api.ts";
import { literalPrefix } from "./regex-prefix.ts";

/** One kernel message pattern. */
export interface KPattern<K extends string = string> {
  /** Unique within its table; parsers switch on it. */
  id: K;
  /** A literal every matching message contains; checked before the regex runs. */
  needle: string;
  /** Named groups carry the fields; keep quantifiers bounded (10 MB lines must stay linear). */
  re: RegExp;
  /** Kernel source file(s) of the format string, e.g. "drivers/scsi/scsi_error.c". */
  source: string;
  /** The kernel format string(s) this pattern follows (documentation). */
  format: string;
}

export interface KMatch<K extends string = string> {
  id: K;
  groups: Record<string, string | undefined>;
}

/** Longest message a kernel record can carry (printk's line limit is ~1 KiB); longer is not kernel text. */
export const MAX_KMSG_LEN = 8192;

interface Entry<K extends string> {
  p: KPattern<K>;
  /** Every match starts with this (literalPrefix of p.re): a message that does not skips p. */
  prefix: string;
}

/** An ordered table: the first pattern whose needle occurs and whose regex matches wins. */
export class PatternTable<K extends string = string> {
  readonly patterns: readonly KPattern<K>[];
  /** Built at the first match, not when the parser module loads (that is on the daemon's way to READY). */
  private entries: readonly Entry<K>[] | undefined;
  /** Per first character code (< 128; 128: any other or none) the entries a message may match, in order. */
  private readonly byFirst: (readonly Entry<K>[] | undefined)[] = [];

  /**
   * `gate`, when given, is a cheaper test every matching message passes (e.g. a device prefix);
   * messages failing it skip the needles and regexes.
   */
  constructor(patterns: readonly KPattern<K>[], private readonly gate?: (msg: string) => boolean) {
    const seen = new Set<string>();
    for (const p of patterns) {
      if (seen.has(p.id)) throw new Error(`pattern id ${p.id} used twice`);
      if (!p.needle) throw new Error(`pattern ${p.id} has an empty needle`);
      seen.add(p.id);
    }
    this.patterns = patterns;
  }

  private candidates(c: number): readonly Entry<K>[] {
    const slot = c < 128 ? c : 128; // NaN (empty message) too
    let list = this.byFirst[slot];
    if (!list) {
      this.entries ??= this.patterns.map((p) => ({ p, prefix: literalPrefix(p.re) }));
      list = this.entries.filter((e) => e.prefix === "" || e.prefix.charCodeAt(0) === slot);
      this.byFirst[slot] = list;
    }
    return list;
  }

  match(msg: string): KMatch<K> | undefined {
    if (this.gate && !this.gate(msg)) return undefined;
    const list = this.candidates(msg.charCodeAt(0));
    for (let i = 0; i < list.length; i++) {
      const { p, prefix } = list[i]!;
      if (prefix.length > 1 && !msg.startsWith(prefix)) continue;
      if (!msg.includes(p.needle)) continue;
      const m = p.re.exec(msg);
      if (m) return { id: p.id, groups: m.groups ?? {} };
    }
    return undefined;
  }

  /** True when some needle occurs: the cheap "could this be ours" test. */
  mayMatch(msg: string): boolean {
    if (this.gate && !this.gate(msg)) return false;
    for (const p of this.patterns) if (msg.includes(p.needle)) return true;
    return false;
  }
}

/** Parses "0x1f" / "1f" / "31" style numbers; NaN-free: undefined when not a number. */
export function hexNum(s: string | undefined): number | undefined {
  if (s === undefined || s === "") return undefined;
  const n = Number.parseInt(s.startsWith("0x") || s.startsWith("0X") ? s.slice(2) : s, 16);
  return Number.isFinite(n) ? n : undefined;
}

const DEC = /^-?\d{1,15}$/; // one RegExp object, not one per call

export function decNum(s: string | undefined): number | undefined {
  if (s === undefined || !DEC.test(s)) return undefined;
  return Number(s);
}

/** Names of the bits set in `value`, using `names` (bit index -> name); unknown bits as "bitN". */
export function bitNames(value: number, names: Readonly<Record<number, string>>): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if ((value >>> bit) & 1) out.push(names[bit] ?? `bit${bit}`);
  }
  return out;
}

// "PRI,SEQ," at the start of a raw /dev/kmsg record.
const KMSG_SEQ = /^\d{1,10},(\d{1,20}),/;

/** The seq of a raw /dev/kmsg record, undefined for other text (dmesg or journal lines in replay). */
export function kmsgSeq(raw: string | undefined): number | undefined {
  const m = raw === undefined ? null : KMSG_SEQ.exec(raw);
  return m ? Number(m[1]) : undefined;
}

/** The lowest kmsg seq among the first records of raw texts (for Parser.oldestHeld). */
export function minSeq(raws: Iterable<string | undefined>): number | undefined {
  let min: number | undefined;
  for (const raw of raws) {
    const seq = kmsgSeq(raw);
    if (seq !== undefined && (min === undefined || seq < min)) min = seq;
  }
  return min;
}

const NOTHING: readonly never[] = Object.freeze([]);

/**
 * Multi-record kernel reports (a SCSI failure's Result/Sense/CDB lines, an ATA exception's
 * SError/failed command/res lines) held per key until complete, superseded or stale. Kept in the
 * order of their last record, so the first is always the next to expire (nextFlushIn()).
 */
export class HeldReports<R extends { records: string[]; source?: string }> {
  private held = new Map<string, { report: R; lastMs: number }>();
  /** No held report's lastMs is below this (a lower bound: expire() skips the scan until it is due). */
  private earliest = Infinity;

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxHeld = 256,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.held.size;
  }

  get(key: string): R | undefined {
    return this.held.get(key)?.report;
  }

  /** Starts or replaces the report under key; returns the one it replaced (to emit), if any. */
  open(key: string, report: R): R[] {
    const out: R[] = [];
    const prev = this.held.get(key);
    if (prev) {
      this.held.delete(key);
      out.push(prev.report);
    }
    const lastMs = this.now();
    this.held.set(key, { report, lastMs });
    if (lastMs < this.earliest) this.earliest = lastMs;
    while (this.held.size > this.maxHeld) {
      const oldest = this.held.keys().next().value as string;
      out.push(this.held.get(oldest)!.report);
      this.held.delete(oldest);
    }
    return out;
  }

  touch(key: string): void {
    const h = this.held.get(key);
    if (!h) return;
    h.lastMs = this.now();
    if (h.lastMs < this.earliest) this.earliest = h.lastMs;
    this.held.delete(key); // to the end: the order stays that of the last records
    this.held.set(key, h);
  }

  /** Ms until expire(false) releases the next report (<= 0: due now); undefined when none is held. */
  nextFlushIn(): number | undefined {
    const first = this.held.values().next().value;
    return first ? first.lastMs + this.maxAgeMs - this.now() : undefined;
  }

  /** The lowest kmsg seq among held records of `source` (what a kmsg cursor must not pass). */
  oldestSeq(source: string): number | undefined {
    let min: number | undefined;
    for (const { report } of this.held.values()) {
      if (report.source !== undefined && report.source !== source) continue;
      for (const raw of report.records) {
        const seq = kmsgSeq(raw);
        if (seq !== undefined && (min === undefined || seq < min)) min = seq;
        break; // records are in order: the first is the oldest
      }
    }
    return min;
  }

  take(key: string): R | undefined {
    const h = this.held.get(key);
    if (!h) return undefined;
    this.held.delete(key);
    return h.report;
  }

  /** Removes and returns the reports `pred` selects, oldest first. */
  takeWhere(pred: (r: R) => boolean): R[] {
    const out: R[] = [];
    for (const [key, h] of this.held) {
      if (pred(h.report)) {
        out.push(h.report);
        this.held.delete(key);
      }
    }
    return out;
  }

  /** Removes and returns reports idle for maxAgeMs (all of them when final), oldest first. */
  expire(final: boolean): readonly R[] {
    if (this.held.size === 0) return NOTHING; // parsers call this on every record
    const limit = this.now() - this.maxAgeMs;
    if (!final && limit < this.earliest) return NOTHING;
    const out: R[] = [];
    this.earliest = Infinity;
    for (const [key, h] of this.held) {
      if (final || h.lastMs <= limit) {
        out.push(h.report);
        this.held.delete(key);
      } else if (h.lastMs < this.earliest) this.earliest = h.lastMs;
    }
    return out;
  }
}

/** Counters and once-per-kind logging, the part of a plugin context the guard needs. */
export interface GuardContext {
  count(name: string, n?: number): void;
  log: { once(kind: string, msg: string, fields?: Record<string, unknown>): void };
}

/**
 * The message of a kmsg record when it can be kernel text, else undefined (counted, logged rate-limited per kind):
 * other record kinds, messages over MAX_KMSG_LEN, and NUL bytes (the kernel escapes those as \x00).
 */
export function kernelMsg(rec: { kind: string; msg?: string }, ctx: GuardContext): string | undefined {
  if (rec.kind !== "kmsg" || typeof rec.msg !== "string") return undefined;
  const msg = rec.msg;
  if (msg.length > MAX_KMSG_LEN) {
    ctx.count("records_oversize");
    ctx.log.once("oversize", `skipping a kmsg record of ${msg.length} characters (kernel lines are at most ${MAX_KMSG_LEN})`);
    return undefined;
  }
  if (msg.includes("\0")) {
    ctx.count("records_nul");
    ctx.log.once("nul", "skipping a kmsg record with a raw NUL byte (the kernel escapes NUL as \\x00)");
    return undefined;
  }
  return msg;
}

type Emit = (draft: EventDraft) => void;

/** What a kernel-log parser plugin implements: its messages, already guarded by kernelMsg(). */
export interface KmsgParserState {
  parse(rec: KmsgRecord, msg: string, emit: Emit): void;
  flush?(emit: Emit, final: boolean): void;
  /** See Parser.nextFlushIn and Parser.oldestHeld. */
  nextFlushIn?(): number | undefined;
  oldestHeld?(source: string): number | undefined;
}

/** The Parser object of a kernel-log parser plugin: accepts kmsg, guards messages, delegates. */
export function kmsgParser(ctx: GuardContext, state: KmsgParserState): Parser {
  return {
    accepts: ["kmsg"],
    parse(rec, emit) {
      if (rec.kind !== "kmsg") return;
      const msg = kernelMsg(rec, ctx);
      if (msg !== undefined) state.parse(rec, msg, emit);
    },
    parseGuarded: (rec, msg, emit) => state.parse(rec, msg, emit),
    flush(emit, final) {
      state.flush?.(emit, final);
    },
    nextFlushIn: () => state.nextFlushIn?.(),
    oldestHeld: (source) => state.oldestHeld?.(source),
  };
}

/** A stateless parser: each matching line becomes at most one event built by `build`. */
export function lineParser<K extends string>(
  table: PatternTable<K>,
  build: (id: K, g: Record<string, string | undefined>, rec: KmsgRecord, msg: string) => EventDraft | undefined,
): KmsgParserState {
  return {
    parse(rec, msg, emit) {
      const m = table.match(msg);
      if (!m) return;
      const d = build(m.id, m.groups, rec, msg);
      if (d) emit(d);
    },
  };
}

/** time_us, source and raw (the record as received, SPEC §2) of a draft made from one record. */
export function fromRecord(rec: KmsgRecord, _msg?: string): { time_us?: number; source: string; raw: string } {
  return { time_us: rec.time_us, source: rec.source, raw: rec.raw };
}
