// The storeventd command line: `storeventd [COMMAND] [OPTIONS]`; no command means `run`.
import { readFileSync } from "node:fs";
import type { AnyPluginDef } from "../plugin-api.ts";
import { normalJitPolicy } from "../util/jit-policy.ts";
import { stdio, UsageError, type Io } from "./args.ts";

type Command = {
  summary: string;
  run(argv: string[], io: Io, plugins: AnyPluginDef[]): Promise<number>;
};

// Each command's module is loaded when it runs: loading all of them cost every start of the
// daemon several ms (the daemon needs only run.ts; the others pull in clients, the replay
// machinery, the ctl verbs).
const COMMANDS: Record<string, Command> = {
  run: { summary: "run the daemon in the foreground (the default)", run: async (a, io, p) => (await import("./run.ts")).runCommand(a, io, p) },
  check: { summary: "validate the config and its snippets", run: async (a, io, p) => (await import("./check.ts")).checkCommand(a, io, p) },
  replay: { summary: "run the parsers over recorded kmsg, uevent or events2 input", run: async (a, io, p) => (await import("./replay.ts")).replayCommand(a, io, p) },
  info: { summary: "what is known of a device: ids, size, stack, mounts, recent events", run: async (a, io) => (await import("./info.ts")).infoCommand(a, io) },
  version: { summary: "print version, commit, addon and kernel information", run: async (a, io) => (await import("./version.ts")).versionCommand(a, io) },
  monitor: { summary: "follow live events from the running daemon", run: async (a, io) => (await import("./monitor.ts")).monitorCommand(a, io) },
  query: { summary: "past events from the daemon's store", run: async (a, io) => (await import("./query.ts")).queryCommand(a, io) },
  status: { summary: "daemon health: senders, receivers, queues, drops, store, DRBD", run: async (a, io) => (await import("./status.ts")).statusCommand(a, io) },
  reload: { summary: "make the running daemon reload its config (like SIGHUP)", run: async (a, io) => (await import("./reload.ts")).reloadCommand(a, io) },
  ctl: { summary: "drbd-reactorctl's verbs on a drbd-reactor config: status, ls, cat, edit, enable, disable, evict, ...", run: async (a, io, p) => (await import("../ctl/cli.ts")).ctlCommand(a, ctlIo(io), p) },
};

/** The core's commands, then those the plugins contribute (PluginDef.commands). */
function commands(plugins: readonly AnyPluginDef[]): Record<string, Command> {
  const entries = Object.entries(COMMANDS);
  for (const d of plugins) {
    for (const [n, c] of Object.entries(d.commands ?? {})) {
      if (entries.some(([e]) => e === n)) continue;
      const at = entries.findIndex(([e]) => e === c.after);
      entries.splice(at < 0 ? entries.length : at + 1, 0, [n, { summary: c.summary, run: (a, io) => c.run(a, io) }]);
    }
  }
  return Object.fromEntries(entries);
}

function ctlIo(io: Io) {
  return { ...io, readLine: readStdinLine };
}

/** One line from stdin (rm's questions), undefined at end of input; what follows the line is kept
 * for the next question. */
let stdinReader: { read(): Promise<{ value?: Uint8Array; done: boolean }> } | undefined;
let stdinRest = "";
async function readStdinLine(): Promise<string | undefined> {
  const reader = (stdinReader ??= Bun.stdin.stream().getReader());
  const dec = new TextDecoder();
  while (!stdinRest.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) {
      const last = stdinRest;
      stdinRest = "";
      return last || undefined;
    }
    stdinRest += dec.decode(value);
  }
  const i = stdinRest.indexOf("\n");
  const line = stdinRest.slice(0, i);
  stdinRest = stdinRest.slice(i + 1);
  return line;
}

/** The name this binary was started under (argv[0] as given to exec, from /proc/self/cmdline). */
export function invokedAs(): string {
  let a0 = process.argv0;
  try {
    a0 = readFileSync("/proc/self/cmdline", "utf8").split("\0")[0] || a0;
  } catch {
    // not Linux: process.argv0
  }
  return a0.slice(a0.lastIndexOf("/") + 1);
}

export function mainHelp(plugins: readonly AnyPluginDef[] = []): string {
  const cmds = commands(plugins);
  const width = Math.max(...Object.keys(cmds).map((c) => c.length));
  return `Usage: storeventd [COMMAND] [OPTIONS]

storeventd watches the storage stack of this host (kernel log, udev, DRBD) and turns what it sees
into typed storage events for the journal, logs, sockets, mail, chat, message buses, Prometheus,
scripts and a DRBD failover promoter.

Commands:
${Object.entries(cmds).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`).join("\n")}

Every command takes -c, --config PATH (default /etc/storeventd/storeventd.toml plus
/etc/storeventd/conf.d/*.toml) and --help. Commands that print data take --json.

Exit status: 0 ok, 1 runtime failure, 2 usage or config error.
See storeventd(8) and storeventd.toml(5).`;
}

export async function main(argv: string[], plugins: AnyPluginDef[], io: Io = stdio, as = invokedAs()): Promise<number> {
  // Installed (or linked) as drbd-reactorctl, the binary is drbd-reactorctl.
  if (as === "drbd-reactorctl") return (await import("../ctl/cli.ts")).ctlCommand(argv, ctlIo(io), plugins, true);
  const [first, ...rest] = argv;
  if (first === "help" || first === "--help" || first === "-h") {
    const sub = first === "help" && rest[0] ? commands(plugins)[rest[0]] : undefined;
    if (sub) return sub.run(["--help"], io, plugins);
    io.out(mainHelp(plugins));
    return 0;
  }
  if (first === "--version" || first === "-V") return COMMANDS.version!.run([], io, plugins);
  const name = first === undefined || first.startsWith("-") ? "run" : first;
  const cmd = commands(plugins)[name];
  const args = name === first ? rest : argv;
  if (!cmd) {
    io.err(`storeventd: unknown command "${name}"\nTry 'storeventd --help'.`);
    return 2;
  }
  // The daemon returns to the normal JIT policy once READY; every other command but the instant
  // `version` may run long (replay, monitor) and does so now.
  if (name !== "run" && name !== "version") normalJitPolicy();
  try {
    return await cmd.run(args, io, plugins);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`storeventd ${name}: ${e.message}\nTry 'storeventd ${name} --help'.`);
      return 2;
    }
    io.err(`storeventd ${name}: ${(e as Error).stack ?? e}`);
    return 1;
  }
}
