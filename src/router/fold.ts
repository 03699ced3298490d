// Folds repeated identical kernel messages (SPEC §2) without holding anything: the first of a kind
// goes out at once; identical ones within the window (same event type and same kernel text without
// the record header) are only counted; when the window closes with repeats, one follow-up event
// goes out with extension.repeat = count and extension.first_event_id. The clock is monotonic and
// passed in by the caller (performance.now() live, the recorded times in replay, never going back), so a
// wall-clock step neither stalls nor releases a window.
import type { StorageEvent } from "../event.ts";

/** An event, or what builds it: a repeat's event is built only if it becomes the follow-up. */
export type LazyEvent = StorageEvent | (() => StorageEvent);

interface Open {
  first: StorageEvent;
  last: LazyEvent;
  untilMs: number;
  repeats: number;
}

// Record headers, as the kmsg sender and replay's decoder (src/kmsg/decode.ts) accept them: the
// /dev/kmsg "PRI,SEQ,TS,FLAGS;", or a journal/syslog prefix, "<PRI>", "fac:lvl : " and "[ TS] ".
const KMSG_HEADER = /^\d{1,10},\d{1,20},\d{1,20},[^;\n]{0,64};/;
const TEXT_HEADERS = [
  /^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d{1,6})?|\d{4}-\d\d-\d\dT[\d:.+Z-]{8,32}) \S+ [^:[\s]+(?:\[\d+\])?: ?/,
  /^<\d{1,4}>/,
  /^[a-z0-9]+ *:[a-z]+ *: /,
  /^\[ *[^\]\n]{1,40}\] ?/,
];

/** A raw line's kernel text: its record header (and time stamps) removed. */
function kernelText(line: string): string {
  // test(), not exec(): no match array; the header ends at the first ";" (its last part has none).
  if (KMSG_HEADER.test(line)) return line.slice(line.indexOf(";") + 1);
  for (const re of TEXT_HEADERS) line = line.replace(re, "");
  return line;
}

/** Event type plus the kernel text of every record in raw, record headers removed. */
function foldKey(system: string, eventType: string, raw: string): string {
  const text = raw.includes("\n") ? raw.split("\n").map(kernelText).join("\n") : kernelText(raw);
  return `${system}\0${eventType}\0${text}`;
}

/** Bound on open windows (distinct messages within one window). */
const MAX_OPEN = 10_000;

export class Folder {
  private open = new Map<string, Open>();
  /** untilMs of the first (oldest) open window; Infinity when none is open. */
  private headUntilMs = Infinity;
  folded = 0;
  /** Senders whose events fold (their plugin declares foldRepeats), whatever their instance name. */
  readonly sources = new Set<string>();
  /** Replay's clock: the recorded events' times (ms), never going back. */
  private replayMs = 0;

  constructor(private windowMs: number, private out: (e: StorageEvent) => void, private replay = false) {}

  /** The fold clock in ms: monotonic live, the recorded times in replay. */
  clockMs(): number {
    return this.replay ? this.replayMs : performance.now();
  }

  /**
   * An event of the pipeline, given by its fold key's parts and `make`, which builds it: called at
   * once unless the event is a repeat within an open window (most of a storm), then only if it is
   * the last repeat when the window closes. `timeUs` is its recorded time (replay's clock).
   */
  offer(source: string, system: string, eventType: string, raw: string, timeUs: number | undefined, make: () => StorageEvent): void {
    if (this.replay && timeUs !== undefined) this.replayMs = Math.max(this.replayMs, timeUs / 1000);
    if (!this.sources.has(source) || this.windowMs <= 0 || !raw) return this.out(make());
    this.fold(foldKey(system, eventType, raw), this.clockMs(), make);
  }

  setWindow(ms: number): void {
    this.windowMs = ms;
  }

  static key(e: StorageEvent): string {
    return foldKey(e.system, e.event_type, e.raw);
  }

  /** A built event at `nowMs`; `fold` false passes it through untouched (not from a kmsg-plugin instance). */
  push(e: StorageEvent, nowMs: number, fold = true): void {
    if (!fold || this.windowMs <= 0 || !e.raw) return this.out(e);
    this.fold(Folder.key(e), nowMs, e);
  }

  private fold(k: string, nowMs: number, e: LazyEvent): void {
    this.expire(nowMs);
    const o = this.open.get(k);
    if (o) {
      o.repeats++;
      o.last = e;
      this.folded++;
      return;
    }
    if (this.open.size >= MAX_OPEN) this.closeOldest();
    if (this.open.size === 0) this.headUntilMs = nowMs + this.windowMs;
    const first = typeof e === "function" ? e() : e;
    this.open.set(k, { first, last: first, untilMs: nowMs + this.windowMs, repeats: 0 });
    this.out(first);
  }

  /** Closes the windows due at `nowMs` (all with Infinity); a window with repeats sends its follow-up. */
  expire(nowMs: number): void {
    if (this.headUntilMs > nowMs) return; // runs on every event: no iterator while the first window is open
    for (const [k, o] of this.open) {
      if (o.untilMs > nowMs) {
        this.headUntilMs = o.untilMs;
        return; // opened in clock order with one window: the rest close later
      }
      this.open.delete(k);
      if (o.repeats === 0) continue;
      const last = typeof o.last === "function" ? o.last() : o.last;
      const first = o.first;
      this.out({
        ...last,
        event_id: crypto.randomUUID(),
        extension: { ...last.extension, repeat: o.repeats, first_event_id: first.event_id },
      });
    }
    this.headUntilMs = Infinity;
  }

  /** A storm of distinct messages: the oldest window closes early (its follow-up goes out now). */
  private closeOldest(): void {
    const first = this.open.values().next().value;
    if (first) this.expire(first.untilMs);
  }

  get pending(): number {
    return this.open.size;
  }
}
