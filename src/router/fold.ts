// Folds repeated identical kernel messages (SPEC §2): the first of a kind is held for the window;
// identical ones within it only count; when the window closes one event goes out with
// extension.repeat = count. Time is the events' own (kernel timestamps), so replay folds the same
// way the live daemon does.
import type { StorageEvent } from "../event.ts";
import { parseTime } from "../event.ts";

interface Held {
  event: StorageEvent;
  until_us: number;
  count: number;
}

export class Folder {
  private held = new Map<string, Held>();
  folded = 0;

  constructor(private windowMs: number, private out: (e: StorageEvent) => void) {}

  setWindow(ms: number): void {
    this.windowMs = ms;
  }

  static key(e: StorageEvent): string {
    return `${e.hostname}\0${e.system}\0${e.event_type}\0${e.dev_name}\0${e.msg}`;
  }

  push(e: StorageEvent): void {
    if (this.windowMs <= 0 || e.source !== "kmsg") return this.out(e);
    const t = parseTime(e.time);
    this.expire(t);
    const k = Folder.key(e);
    const h = this.held.get(k);
    if (h) {
      h.count++;
      this.folded++;
      return;
    }
    this.held.set(k, { event: e, until_us: t + this.windowMs * 1000, count: 1 });
  }

  /** Releases what is due at `now_us` (all with Infinity). */
  expire(now_us: number): void {
    for (const [k, h] of this.held) {
      if (h.until_us > now_us) break; // held in arrival order, so the rest is later still
      this.held.delete(k);
      this.out(h.count > 1 ? { ...h.event, extension: { ...h.event.extension, repeat: h.count } } : h.event);
    }
  }

  get pending(): number {
    return this.held.size;
  }
}
