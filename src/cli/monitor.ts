// `storeventd monitor`: follow live events from the running daemon.
import { ControlClient, ControlError } from "../control/client.ts";
import {
  COMMON_HELP, COMMON_OPTIONS, FILTER_HELP, FILTER_OPTIONS, UsageError, checkTime, filterParams, parseFlags, runCommand,
  socketFrom, useColor, type CommandIO,
} from "../control/cli.ts";
import { formatEventLine } from "../util/format.ts";
import { formatTime, nowUs } from "../event.ts";

export const MONITOR_USAGE = `Usage: storeventd monitor [OPTIONS]

Follow storage events live from the running daemon, one line each (NDJSON with --json).
Ends with exit code 1 and a message when the daemon stops, unless --follow-restarts.

Options:
      --json          one JSON event per line (NDJSON)
      --since TIME    first replay stored events from TIME (${"RFC 3339, a date, or an age like 10m"}), then follow
      --follow-restarts
                      keep going across daemon restarts: reconnect, and replay what was missed
  -n, --count N       exit after N events
${FILTER_HELP}
${COMMON_HELP}

Exit status: 0 after --count events or on interrupt, 1 when the daemon is not running or stops, 2 usage.
`;

/** Ids seen recently (the reconnect replay starts at the last event's time, which repeats it). */
class RecentIds {
  private set = new Set<string>();
  constructor(private max: number) {}
  has(id: string): boolean {
    return this.set.has(id);
  }
  add(id: string): void {
    this.set.add(id);
    if (this.set.size > this.max) this.set.delete(this.set.values().next().value!);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

export async function monitorCommand(argv: string[], io: CommandIO, signal?: AbortSignal): Promise<number> {
  return runCommand("monitor", io, async () => {
    const f = parseFlags(argv, {
      ...COMMON_OPTIONS, ...FILTER_OPTIONS,
      since: { type: "string" },
      "follow-restarts": { type: "boolean" },
      count: { type: "string", short: "n" },
    });
    if (f.help) {
      io.out(MONITOR_USAGE);
      return 0;
    }
    const params = filterParams(f);
    let since = checkTime("--since", f.since);
    let count: number | undefined;
    if (f.count !== undefined) {
      if (!/^\d+$/.test(f.count) || Number(f.count) < 1) throw new UsageError(`--count must be a positive integer, not "${f.count}"`);
      count = Number(f.count);
    }
    const socket = socketFrom(f);
    const client = new ControlClient(socket);
    const color = useColor(io);
    const seen = new RecentIds(4096);
    const startedAt = formatTime(nowUs());
    let lastTime: string | undefined;
    let shown = 0;
    let delay = 250;
    let waiting = false;
    for (;;) {
      try {
        for await (const e of client.follow({ ...params, ...(since ? { since } : {}) }, signal)) {
          delay = 250;
          if (waiting) {
            io.err(`storeventd is back on ${socket}\n`);
            waiting = false;
          }
          if (seen.has(e.event_id)) continue;
          seen.add(e.event_id);
          lastTime = e.time;
          io.out(f.json ? JSON.stringify(e) + "\n" : formatEventLine(e, color) + "\n");
          if (count !== undefined && ++shown >= count) return 0;
        }
        if (signal?.aborted) return 0;
        if (!f["follow-restarts"]) {
          io.err(`storeventd monitor: the daemon stopped (the event stream from ${socket} ended)\n`);
          return 1;
        }
        io.err(`storeventd stopped; waiting for it on ${socket} ...\n`);
        waiting = true;
      } catch (err) {
        if (signal?.aborted) return 0;
        if (!(err instanceof ControlError) || !f["follow-restarts"] || err.kind === "denied" || err.kind === "http") throw err;
        if (!waiting) io.err(`${err.message}; waiting for it ...\n`);
        waiting = true;
      }
      // Replay from the last event shown (or from when monitor started): nothing missed while away.
      since = lastTime ?? since ?? startedAt;
      await sleep(delay, signal);
      if (signal?.aborted) return 0;
      delay = Math.min(delay * 2, 5000);
    }
  });
}
