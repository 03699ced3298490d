import type { AnyPluginDef } from "../plugin-api.ts";
import { runDaemon } from "../daemon.ts";
import { CONFIG_OPTION, parse, type Io } from "./args.ts";
import { LOG_LEVELS } from "../config/schema.ts";

export const RUN_HELP = `Usage: storeventd [run] [-c PATH] [--log-level LEVEL]

Runs the daemon in the foreground until SIGTERM or SIGINT.

Reads the config file (default /etc/storeventd/storeventd.toml) and the *.toml snippets in
conf.d/ beside it. With no config file at the default path it runs on the embedded default:
the kmsg and udev senders, every parser, the DRBD source when drbdsetup is on PATH, the local
store, and the journal (or stdout when journald is not running).

Under systemd (Type=notify) it sends READY=1 once every sender is open, STATUS= with counters,
RELOADING=1/READY=1 around reloads and STOPPING=1 on shutdown.

Signals:
  SIGHUP           reload the config: validated first, applied only if valid (the running config
                   stays otherwise); unchanged instances keep running; receivers reopen files
  SIGTERM, SIGINT  stop senders, flush, drain receiver queues (up to shutdown_timeout), exit 0

Options:
  -c, --config PATH    config file
      --log-level L    ${LOG_LEVELS.join("|")} (overrides [main] log_level)
  -h, --help           this help

Exit status: 0 stopped cleanly, 1 runtime failure, 2 usage or config error.`;

export async function runCommand(argv: string[], io: Io, plugins: AnyPluginDef[]): Promise<number> {
  const { values } = parse(argv, { ...CONFIG_OPTION, "log-level": { type: "string" } });
  if (values.help) return io.out(RUN_HELP), 0;
  const level = values["log-level"];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    io.err(`storeventd run: --log-level: expected one of ${LOG_LEVELS.join("|")}, got "${level}"`);
    return 2;
  }
  return runDaemon({ configPath: values.config, plugins, logLevel: level });
}
