// Parser holds (SPEC §2: a multi-record report goes out at its closing record or at most hold_max
// after its last record): one timer on the earliest deadline any parser reports (nextFlushIn), so
// nothing waits for a periodic tick; and the lowest kmsg seq a parser holds, for the kmsg cursor.
import type { Parser } from "../plugin-api.ts";

export class HoldTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dueMs = Infinity;

  /** `flush(p)`: run p.flush(emit, false) (the caller guards and emits). */
  constructor(private parsers: () => Iterable<Parser>, private flush: (p: Parser) => void) {}

  /** After records went in: arms the timer on the earliest deadline, if earlier than the armed one. */
  arm(): void {
    const now = performance.now();
    let due = Infinity;
    for (const p of this.parsers()) {
      const inMs = p.nextFlushIn?.();
      if (inMs !== undefined) due = Math.min(due, now + Math.max(0, inMs));
    }
    if (due >= this.dueMs) return;
    clearTimeout(this.timer);
    this.dueMs = due;
    this.timer = setTimeout(() => this.fire(), Math.max(1, due - now)); // >= 1 ms: a parser that stays due cannot spin
  }

  private fire(): void {
    this.timer = undefined;
    this.dueMs = Infinity;
    for (const p of this.parsers()) {
      const inMs = p.nextFlushIn?.();
      if (p.flush && inMs !== undefined && inMs <= 0) this.flush(p);
    }
    this.arm();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dueMs = Infinity;
  }

  /** The lowest kmsg seq of sender `source` that a parser still holds (undefined: none). */
  oldestHeld(source: string): number | undefined {
    let min: number | undefined;
    for (const p of this.parsers()) {
      const seq = p.oldestHeld?.(source);
      if (seq !== undefined && (min === undefined || seq < min)) min = seq;
    }
    return min;
  }
}
