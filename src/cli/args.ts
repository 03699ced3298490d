// Flag parsing for every command (node:util parseArgs), with usage errors that exit 2.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { writeStderr, writeStdout } from "../util/fd-writer.ts";

export class UsageError extends Error {}

export interface Io {
  out(s: string): void;
  err(s: string): void;
  isTTY: boolean;
}

export const stdio: Io = {
  out: (s) => writeStdout(s.endsWith("\n") ? s : s + "\n"),
  err: (s) => writeStderr(s.endsWith("\n") ? s : s + "\n"),
  // A getter: process.stdout costs ~3 ms to create (node:stream), and most commands never ask.
  get isTTY() {
    return process.stdout.isTTY === true;
  },
};

export type Options = NonNullable<ParseArgsConfig["options"]>;

export const CONFIG_OPTION = { config: { type: "string", short: "c" } } as const satisfies Options;
export const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const satisfies Options;

export function parse<O extends Options>(argv: string[], options: O, positionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, ...HELP_OPTION }, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, "."));
  }
}
