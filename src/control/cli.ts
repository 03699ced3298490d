// What the control-plane commands (monitor, query, status, reload) share: flag parsing with usage
// errors, the socket lookup, event filters, and the human one-line event format.
import { SEVERITIES, SYSTEMS, nowUs } from "../event.ts";
import { CONFIG_OPTION, parse, UsageError, type Io, type Options } from "../cli/args.ts";
import { ControlError, resolveSocketPath, type EventParams } from "./client.ts";
import { parseTimeSpec, TIMESPEC_HELP } from "./timespec.ts";

export { UsageError };
export type CommandIO = Io;

export const COMMON_OPTIONS = {
  ...CONFIG_OPTION,
  socket: { type: "string" },
  json: { type: "boolean" },
} as const satisfies Options;

export const FILTER_OPTIONS = {
  system: { type: "string", multiple: true },
  severity: { type: "string" },
  type: { type: "string", multiple: true },
  dev: { type: "string", multiple: true },
  host: { type: "string", multiple: true },
} as const satisfies Options;

export const COMMON_HELP = `  -c, --config PATH   the config whose [main] control_socket to use
                      (default /etc/storeventd/storeventd.toml and its conf.d/)
      --socket PATH   the daemon's control socket (default: from the config, else
                      /run/storeventd/control.sock)
  -h, --help          this help`;

export const FILTER_HELP = `      --system LIST   only these subsystems; comma-separated or repeated:
                      ${SYSTEMS.join(", ")}
      --severity LVL  only this severity or worse: ${SEVERITIES.join(", ")}
      --type LIST     only these event types (e.g. SCSI_SENSE,DM_MPATH_PATH_DOWN)
      --dev LIST      only these devices (kernel names: sdb, dm-3, md0; /dev/ prefix allowed)
      --host LIST     only these hosts' events (on a fleet node: [main] hostname of each host)`;

export function parseFlags<O extends Options>(argv: string[], options: O) {
  return parse(argv, options).values;
}

const list = (values: string[] | undefined) => values?.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);

/** Validates the filter flags (a usage error names the bad value) into API parameters. */
export function filterParams(f: { system?: string[]; severity?: string; type?: string[]; dev?: string[]; host?: string[] }): EventParams {
  const p: EventParams = {};
  const system = list(f.system);
  for (const s of system ?? []) {
    if (!(SYSTEMS as readonly string[]).includes(s)) throw new UsageError(`--system: unknown subsystem "${s}" (one of ${SYSTEMS.join(", ")})`);
  }
  if (system?.length) p.system = system;
  if (f.severity !== undefined) {
    if (!(SEVERITIES as readonly string[]).includes(f.severity)) throw new UsageError(`--severity must be one of ${SEVERITIES.join(", ")}, not "${f.severity}"`);
    p.severity = f.severity;
  }
  const type = list(f.type)?.map((t) => t.toUpperCase());
  for (const t of type ?? []) if (!/^[A-Z][A-Z0-9_]*$/.test(t)) throw new UsageError(`--type: "${t}" is not an event type (UPPER_SNAKE, e.g. SCSI_SENSE)`);
  if (type?.length) p.type = type;
  const dev = list(f.dev)?.map((d) => d.replace(/^\/dev\//, ""));
  if (dev?.length) p.dev = dev;
  const host = list(f.host);
  if (host?.length) p.host = host;
  return p;
}

export function checkTime(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (parseTimeSpec(value, nowUs()) === undefined) throw new UsageError(`${flag}: "${value}" is not a time: use ${TIMESPEC_HELP}`);
  return value;
}

export function socketFrom(v: { socket?: string; config?: string }): string {
  return resolveSocketPath({ ...(v.socket ? { socket: v.socket } : {}), ...(v.config ? { config: v.config } : {}) });
}

/**
 * Runs a command body with the shared error handling: usage errors exit 2 (with a hint to --help),
 * control errors print their one line and exit 1.
 */
export async function runCommand(name: string, io: CommandIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`storeventd ${name}: ${err.message}\nTry 'storeventd ${name} --help'.\n`);
      return 2;
    }
    if (err instanceof ControlError) {
      io.err(`storeventd ${name}: ${err.message}\n`);
      return err.kind === "config" ? 2 : 1;
    }
    io.err(`storeventd ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}

const C = { reset: "\x1b[0m", bold: "\x1b[1m", dim: "\x1b[2m", red: "\x1b[31m", yellow: "\x1b[33m", green: "\x1b[32m", cyan: "\x1b[36m" };
const SEV_COLOR: Record<string, string> = { error: C.red + C.bold, warn: C.yellow, info: C.green };

export function useColor(io: CommandIO): boolean {
  return io.isTTY && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

export function paint(on: boolean, code: string, s: string): string {
  return on ? code + s + C.reset : s;
}

export function sevColor(sev: string): string {
  return SEV_COLOR[sev] ?? "";
}

/** A plain text table: columns padded to their widest cell, the last column left ragged. */
export function table(head: string[], rows: string[][], colorCell?: (row: number, col: number, s: string) => string): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[], r: number) =>
    cells.map((c, i) => {
      const padded = i === cells.length - 1 ? c : c.padEnd(widths[i]!);
      return colorCell && r >= 0 ? colorCell(r, i, padded) : padded;
    }).join("  ").trimEnd();
  return [line(head, -1), ...rows.map((r, i) => line(r, i))].join("\n") + "\n";
}
