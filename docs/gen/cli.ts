// docs/cli.md: `storeventd --help` and every command's --help, as the binary prints them.
import type { AnyPluginDef } from "../../src/plugin-api.ts";
import { main, mainHelp } from "../../src/cli/main.ts";
import { GENERATED } from "./md.ts";

/** The command names, in the order `storeventd --help` lists them. */
export function commandNames(plugins: readonly AnyPluginDef[]): string[] {
  const block = mainHelp(plugins).split("\nCommands:\n")[1]?.split("\n\n")[0] ?? "";
  return [...block.matchAll(/^ {2}([a-z][a-z-]*) {2}/gm)].map((m) => m[1]!);
}

async function help(name: string, plugins: AnyPluginDef[]): Promise<string> {
  let text = "";
  const io = { out: (s: string) => void (text += s.endsWith("\n") ? s : s + "\n"), err: (s: string) => void (text += s), isTTY: false };
  const rc = await main([name, "--help"], plugins, io);
  if (rc !== 0) throw new Error(`storeventd ${name} --help exited ${rc}: ${text}`);
  return text.replace(/\n+$/, "");
}

export async function cliDoc(plugins: AnyPluginDef[]): Promise<string> {
  const names = commandNames(plugins);
  const out = [
    "# Command line",
    "",
    GENERATED("each command's --help text (src/cli/)"),
    "",
    "```",
    mainHelp(plugins),
    "```",
    "",
    ...names.map((n) => `- [${n}](#storeventd-${n})`),
    "",
  ];
  for (const n of names) out.push(`## storeventd ${n}`, "", "```", await help(n, plugins), "```", "");
  return out.join("\n").replace(/\n+$/, "\n");
}
