// RECEIVER_DROPPED: the pipeline reports, at most once a second live and once more at stop, what
// receiver queues and DRBD model subscribers dropped since the last report.
import { formatTime, nowUs, type StorageEvent } from "../event.ts";
import type { DrbdModel } from "../drbd/model.ts";
import type { Router } from "./router.ts";

const DROP_REPORT_MS = 1000;

export interface DropHooks {
  count(name: string, n: number): void;
  /** Delivers the report to listeners and the router (to every receiver but `receiver`'s own queue policy). */
  send(e: StorageEvent, receiver: string): void;
  hostname(): string;
}

export class DropReporter {
  private last = 0;

  constructor(private router: Router, private drbd: DrbdModel, private hooks: DropHooks) {}

  /** Live tick: reports when DROP_REPORT_MS have passed since the last report. */
  tick(nowMs: number): void {
    if (nowMs - this.last < DROP_REPORT_MS) return;
    this.last = nowMs;
    this.report();
  }

  report(): void {
    for (const s of this.router.all()) {
      if (!s.unreported) continue;
      const n = s.unreported;
      s.unreported = 0;
      this.hooks.count("receiver_dropped", n);
      this.send(s.name, `receiver ${s.name} dropped ${n} event${n === 1 ? "" : "s"} (queue full)`, { receiver: s.name, dropped: n, reason: "queue_full" });
    }
    // DRBD model subscribers (umh, promoter, debugger) drop updates by the same policies.
    for (const { name, dropped: n } of this.drbd.takeDrops()) {
      this.hooks.count("drbd_updates_dropped", n);
      this.send(name, `receiver ${name} dropped ${n} DRBD update${n === 1 ? "" : "s"} (queue full)`,
        { receiver: name, dropped: n, reason: "drbd_update_queue_full" });
    }
  }

  private send(name: string, msg: string, extension: Record<string, unknown>): void {
    const e: StorageEvent = {
      event_id: crypto.randomUUID(), time: formatTime(nowUs()), hostname: this.hooks.hostname(), severity: "warn",
      system: "daemon", event_type: "RECEIVER_DROPPED", dev_name: "", dev_path: "", dev_wwid: "", owners: [],
      msg, source: "storeventd", raw: "", extension,
    };
    this.hooks.send(e, name);
  }
}
