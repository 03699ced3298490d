// `storeventd query`: past events from the daemon's store.
import { ControlClient } from "../control/client.ts";
import {
  COMMON_HELP, COMMON_OPTIONS, FILTER_HELP, FILTER_OPTIONS, UsageError, checkTime, filterParams, paint, parseFlags,
  runCommand, sevColor, socketFrom, table, useColor, type CommandIO,
} from "../control/cli.ts";
import { MAX_LIMIT } from "../control/server.ts";

export const QUERY_USAGE = `Usage: storeventd query [OPTIONS]

Print past storage events from the running daemon's store, oldest first, as a table
(NDJSON with --json).

Options:
      --since TIME    events at or after TIME
      --until TIME    events before TIME
                      TIME: RFC 3339 (2026-11-26T01:00:00Z), a date (2026-11-26), "now",
                      or an age like 90s, 15m, 1h, 2d
      --limit N       at most N events (default 1000, at most ${MAX_LIMIT})
  -r, --reverse       newest first (with --limit: the newest N)
      --json          one JSON event per line (NDJSON)
${FILTER_HELP}
${COMMON_HELP}

Exit status: 0 ok (also when nothing matches), 1 daemon not running or no store, 2 usage.
`;

export async function queryCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand("query", io, async () => {
    const f = parseFlags(argv, {
      ...COMMON_OPTIONS, ...FILTER_OPTIONS,
      since: { type: "string" },
      until: { type: "string" },
      limit: { type: "string" },
      reverse: { type: "boolean", short: "r" },
    });
    if (f.help) {
      io.out(QUERY_USAGE);
      return 0;
    }
    const params = filterParams(f);
    const since = checkTime("--since", f.since);
    const until = checkTime("--until", f.until);
    let limit = 1000;
    if (f.limit !== undefined) {
      if (!/^\d+$/.test(f.limit) || Number(f.limit) < 1 || Number(f.limit) > MAX_LIMIT) {
        throw new UsageError(`--limit must be an integer from 1 to ${MAX_LIMIT}, not "${f.limit}"`);
      }
      limit = Number(f.limit);
    }
    const client = new ControlClient(socketFrom(f));
    const events = await client.events({
      ...params, ...(since ? { since } : {}), ...(until ? { until } : {}), limit, ...(f.reverse ? { order: "desc" as const } : {}),
    });
    if (f.json) {
      io.out(events.map((e) => JSON.stringify(e) + "\n").join(""));
    } else if (!events.length) {
      io.out("-- no events --\n");
    } else {
      const color = useColor(io);
      const rows = events.map((e) => {
        const repeat = typeof e.extension?.repeat === "number" && e.extension.repeat > 1 ? ` (x${e.extension.repeat})` : "";
        return [e.time, e.severity, e.system, e.event_type, e.dev_name || "-", e.msg + repeat];
      });
      io.out(table(["TIME", "SEVERITY", "SYSTEM", "TYPE", "DEVICE", "MESSAGE"], rows,
        (r, c, s) => (c === 1 ? paint(color, sevColor(rows[r]![1]!), s) : s)));
    }
    if (events.length === limit) io.err(`storeventd query: stopped at --limit ${limit}; narrow --since/--until or raise --limit\n`);
    return 0;
  });
}
