// `storeventd reload`: ask the running daemon to reload its config (same as SIGHUP).
import { ControlClient } from "../control/client.ts";
import { COMMON_HELP, COMMON_OPTIONS, parseFlags, runCommand, socketFrom, type CommandIO } from "../control/cli.ts";

export const RELOAD_USAGE = `Usage: storeventd reload [OPTIONS]

Make the running daemon re-read its configuration (like SIGHUP). The new config is validated
first; when it is bad the old one keeps running and the error is printed. Unchanged plugin
instances keep running; only changed, new and removed ones are started or stopped.

Options:
      --json          print the result as JSON ({ok, started, stopped, kept})
${COMMON_HELP}

Exit status: 0 reloaded, 1 rejected or daemon not running, 2 usage.
`;

export async function reloadCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand("reload", io, async () => {
    const f = parseFlags(argv, COMMON_OPTIONS);
    if (f.help) {
      io.out(RELOAD_USAGE);
      return 0;
    }
    const r = await new ControlClient(socketFrom(f)).reload();
    if (f.json) io.out(JSON.stringify(r) + "\n");
    else {
      const names = (l: string[]) => (l.length ? l.join(", ") : "-");
      io.out(`reloaded: started ${names(r.started)}; stopped ${names(r.stopped)}; kept ${names(r.kept)}\n`);
    }
    return 0;
  });
}
