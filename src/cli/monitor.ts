// `storeventd monitor`: follow live events from the running daemon.
import { ControlClient, ControlError, type EventParams } from "../control/client.ts";
import {
  COMMON_HELP, COMMON_OPTIONS, FILTER_HELP, FILTER_OPTIONS, UsageError, checkTime, filterParams, parseFlags, runCommand,
  socketFrom, useColor, type CommandIO,
} from "../control/cli.ts";
import { formatEventLine } from "../util/format.ts";
import { formatTime, nowUs, type Severity, type StorageEvent } from "../event.ts";
import { subscribe } from "../multicast/subscribe.ts";
import { parseGroup } from "../util/multicast-group.ts";
import { matchesFilter } from "../store-api.ts";

export const MONITOR_USAGE = `Usage: storeventd monitor [OPTIONS]

Follow storage events live from the running daemon, one line each (NDJSON with --json).
Ends with exit code 1 and a message when the daemon stops, unless --follow-restarts.

Options:
      --json          one JSON event per line (NDJSON)
      --since TIME    first replay the stored events from TIME (RFC 3339, a date, or an
                      age like 10m), then follow
      --follow-restarts
                      keep going across daemon restarts: reconnect, and replay what was missed
  -n, --count N       exit after N events
      --multicast GROUP  instead of the control socket, join the multicast GROUP
                      ("239.x.y.z:port" or "[ff05::..]:port") that storage hosts' multicast
                      receivers send to: one host watches a subnet, no daemon needed here
      --interface IF  with --multicast: the interface to join on (name, or IPv4 address)
${FILTER_HELP}
${COMMON_HELP}

Exit status: 0 after --count events or on interrupt, 1 when the daemon is not running or
stops, 2 usage.
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

interface FollowPlan {
  client: ControlClient;
  params: EventParams;
  since: string | undefined;
  count: number | undefined;
  json: boolean;
  followRestarts: boolean;
}

/** Prints events until --count, the daemon's stop (exit 1), or `signal`; reconnects with --follow-restarts. */
async function followLoop(plan: FollowPlan, io: CommandIO, signal: AbortSignal): Promise<number> {
  const socket = plan.client.socketPath;
  const color = useColor(io);
  const seen = new RecentIds(4096);
  const startedAt = formatTime(nowUs());
  let since = plan.since;
  let lastTime: string | undefined;
  let shown = 0;
  let delay = 250;
  let waiting = false;
  for (;;) {
    try {
      for await (const e of plan.client.follow({ ...plan.params, ...(since ? { since } : {}) }, signal)) {
        delay = 250;
        if (waiting) {
          io.err(`storeventd is back on ${socket}\n`);
          waiting = false;
        }
        if (seen.has(e.event_id)) continue;
        seen.add(e.event_id);
        lastTime = e.time;
        try {
          io.out(plan.json ? JSON.stringify(e) + "\n" : formatEventLine(e, color) + "\n");
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "EPIPE") return 0;
          throw err;
        }
        if (plan.count !== undefined && ++shown >= plan.count) return 0;
      }
      if (signal.aborted) return 0;
      if (!plan.followRestarts) {
        io.err(`storeventd monitor: the daemon stopped (the event stream from ${socket} ended)\n`);
        return 1;
      }
      io.err(`storeventd stopped; waiting for it on ${socket} ...\n`);
      waiting = true;
    } catch (err) {
      if (signal.aborted) return 0;
      if (!(err instanceof ControlError) || !plan.followRestarts || err.kind === "denied" || err.kind === "http") throw err;
      if (!waiting) io.err(`${err.message}; waiting for it ...\n`);
      waiting = true;
    }
    // Replay from the last event shown (or from when monitor started): nothing missed while away.
    since = lastTime ?? since ?? startedAt;
    await sleep(delay, signal);
    if (signal.aborted) return 0;
    delay = Math.min(delay * 2, 5000);
  }
}

export async function monitorCommand(argv: string[], io: CommandIO, signal?: AbortSignal): Promise<number> {
  return runCommand("monitor", io, async () => {
    const f = parseFlags(argv, {
      ...COMMON_OPTIONS, ...FILTER_OPTIONS,
      since: { type: "string" },
      "follow-restarts": { type: "boolean" },
      count: { type: "string", short: "n" },
      multicast: { type: "string" },
      interface: { type: "string" },
    });
    if (f.help) {
      io.out(MONITOR_USAGE);
      return 0;
    }
    const params = filterParams(f);
    const since = checkTime("--since", f.since);
    let count: number | undefined;
    if (f.count !== undefined) {
      if (!/^\d+$/.test(f.count) || Number(f.count) < 1) throw new UsageError(`--count must be a positive integer, not "${f.count}"`);
      count = Number(f.count);
    }
    if (f.multicast !== undefined) {
      if (f.since !== undefined || f["follow-restarts"]) throw new UsageError("--since and --follow-restarts need the control socket, not --multicast");
      const g = parseGroup(f.multicast);
      if (typeof g === "string") throw new UsageError(`--multicast: ${g}`);
      return await multicastLoop(f.multicast, f.interface, params, count, Boolean(f.json), io, signal);
    } else if (f.interface !== undefined) throw new UsageError("--interface goes with --multicast");
    const client = new ControlClient(socketFrom(f));
    // Ends quietly when the reader of our output goes away (`storeventd monitor | head`).
    const stop = new AbortController();
    signal?.addEventListener("abort", () => stop.abort(), { once: true });
    const onOutError = (e: NodeJS.ErrnoException) => void (e.code === "EPIPE" && stop.abort());
    process.stdout.on("error", onOutError);
    try {
      return await followLoop({ client, params, since, count, json: Boolean(f.json), followRestarts: Boolean(f["follow-restarts"]) }, io, stop.signal);
    } finally {
      process.stdout.off("error", onOutError);
    }
  });
}

/** monitor --multicast: events from the group, filtered here the way the daemon filters a follow. */
async function multicastLoop(
  group: string, iface: string | undefined, p: EventParams, count: number | undefined, json: boolean, io: CommandIO, signal?: AbortSignal,
): Promise<number> {
  const stop = new AbortController();
  signal?.addEventListener("abort", () => stop.abort(), { once: true });
  const onInt = () => stop.abort();
  process.once("SIGINT", onInt);
  const filter = { system: p.system, severity: p.severity as Severity | undefined, event_type: p.type, dev_name: p.dev, hostname: p.host };
  let shown = 0;
  let bad = 0;
  try {
    const events = subscribe(group, {
      interface: iface, signal: stop.signal,
      onBad: (reason, from) => void (bad++ === 0 && io.err(`storeventd monitor: ignoring a datagram from ${from}: ${reason}`)),
    });
    for await (const e of events as AsyncGenerator<StorageEvent>) {
      if (!matchesFilter(e, filter)) continue;
      io.out(json ? JSON.stringify(e) : formatEventLine(e, useColor(io)));
      if (count !== undefined && ++shown >= count) break;
    }
    return 0;
  } finally {
    process.off("SIGINT", onInt);
  }
}
