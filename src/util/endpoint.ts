// Small pure-ish helpers for network receivers' options: "host[:port]" and files named in config.
import { readFileSync } from "node:fs";

/** "host", "host:port", "[v6]" or "[v6]:port" -> { host, port }, or an error string. */
export function parseHostPort(text: string, defaultPort: number): { host: string; port: number } | string {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:[\]\s]+)(?::(\d+))?$/.exec(text);
  if (!m) return `"${text}" is not HOST[:PORT] (IPv6 as [ADDR]:PORT)`;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port ${m[2]} is not 1..65535`;
  return { host: m[1]!, port };
}

/** The text of a file an option names (undefined when the option is unset); a config error names the option. */
export function readOptionFile(path: string | undefined, option: string): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${option}: ${(e as Error).message}`);
  }
}
