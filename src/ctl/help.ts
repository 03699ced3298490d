// drbd-reactorctl's verbs, their flags and help texts, and shell completions generated from them.
export interface Flag {
  long: string;
  short?: string;
  value?: string;
  multiple?: boolean;
  help?: string;
}

export interface VerbSpec {
  about: string;
  flags: Flag[];
  args: { name: string; required?: boolean; multiple?: boolean; help: string }[];
  help(self: string): string;
}

function verb(about: string, flags: Flag[], args: VerbSpec["args"]): VerbSpec {
  const spec: VerbSpec = {
    about, flags, args,
    help(self) {
      const name = Object.entries(VERBS).find(([, v]) => v === spec)![0];
      const usage = args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`) + (a.multiple ? "..." : "")).join(" ");
      const fl = [...flags, { long: "help", short: "h", help: "Prints help information" }].map((f) =>
        `    ${f.short ? `-${f.short}, ` : "    "}--${f.long}${f.value ? ` <${f.value}>` : ""}`.padEnd(34) + (f.help ?? ""));
      const ar = args.map((a) => `    <${a.name}>`.padEnd(34) + a.help);
      return [`Usage: ${self} ${name} [FLAGS] [OPTIONS] ${usage}`.trimEnd(), "", about, "",
        "FLAGS/OPTIONS:", ...fl, ...(ar.length ? ["", "ARGS:", ...ar] : []), "",
        "Global options: -c, --config <FILE> (before the verb), --context <CONTEXT>, --nodes <NODES>"].join("\n");
    },
  };
  return spec;
}

const configs = (help: string, required = false) => [{ name: "configs", multiple: true, required, help }];

export const VERBS: Record<string, VerbSpec> = {
  disable: verb("Disable plugin", [{ long: "now", help: "In case of promoter plugin stop the drbd-services target" }], configs("Configs to disable")),
  enable: verb("Enable plugin", [], configs("Configs to enable")),
  status: verb("Status information for a plugin", [
    { long: "verbose", short: "v", help: "Verbose output" }, { long: "json", help: "Json output" },
    { long: "resource", short: "r", value: "resource", multiple: true, help: "In case of a promoter plugin limit to these DRBD resources" },
  ], configs("Configs to show")),
  restart: verb("Restart a plugin", [{ long: "with-targets", help: "Also stop the drbd-services@.target of promoter plugins (may start on another node)" }],
    configs("Configs to restart (none: restart the daemon)")),
  edit: verb("Edit/Add a plugin configuration", [
    { long: "type", short: "t", value: "type", help: "Plugin type: promoter (default), prometheus, agentx, umh, debugger" },
    { long: "force", short: "f", help: "Force dangerous edits" }, { long: "disabled", help: "Edit a disabled file" },
  ], configs("Configs to edit/add")),
  rm: verb("Remove plugin configuration", [{ long: "disabled", help: "Remove a disabled file" }, { long: "force", short: "f", help: "Force" }],
    configs("Configs to remove", true)),
  evict: verb("Evict a promoter plugin controlled resource", [
    { long: "delay", short: "d", value: "delay", help: "Positive number of seconds to wait for peer takeover [default: 20]" },
    { long: "force", short: "f", help: "Override checks (multiple plugins per snippet/multiple resources per promoter)" },
    { long: "keep-masked", short: "k", help: "If set the target unit will stay masked (i.e., 'systemctl mask --runtime')" },
    { long: "unmask", short: "u", help: "Unmask targets (clears a previous --keep-masked); runs no evictions" },
  ], configs("Configs to evict")),
  cat: verb("(Pretty) print config files", [], configs("Configs to cat")),
  ls: verb("List plugins and show some useful, brief information", [], configs("Configs to list")),
  "start-until": verb("Start reactor target until specified service in start list", [], [
    { name: "until", required: true, help: "Positive number or service name until which service in the start list the target should be started" },
    { name: "configs", required: true, help: "Config to start" },
  ]),
  "generate-completion": verb("Generate tab-completion for shell", [], [{ name: "shell", help: "Shell: bash (default), fish, zsh" }]),
};

export function HELP(self: string): string {
  const w = Math.max(...Object.keys(VERBS).map((v) => v.length));
  return `Usage: ${self} [OPTIONS] [SUBCOMMAND]

Controls a local drbd-reactor configuration run by storeventd (drbd-reactorctl's verbs).

OPTIONS:
    -c, --config <FILE>        Sets a custom config file [default: /etc/drbd-reactor.toml${self === "drbd-reactorctl" ? "" : ",\n                               else /etc/storeventd/storeventd.toml with its conf.d/"}]
        --context <CONTEXT>    Uses the given (cluster) context [default: default]
        --nodes <NODES>...     Uses only the given nodes from the context
    -h, --help                 Prints help information

SUBCOMMANDS:
${Object.entries(VERBS).map(([n, v]) => `    ${n.padEnd(w)}    ${v.about}`).join("\n")}

Without a subcommand: status.`;
}

/** A completion script for `bin` (storeventd: completes `storeventd ctl ...`). */
export function completion(shell: string, bin: string): string | undefined {
  const verbs = Object.keys(VERBS);
  const prefix = bin === "storeventd" ? 2 : 1;
  if (shell === "bash") {
    const cases = verbs.map((v) => `    ${v}) opts="${VERBS[v]!.flags.map((f) => `--${f.long}${f.short ? ` -${f.short}` : ""}`).join(" ")} --help" ;;`).join("\n");
    return `_${bin.replace(/-/g, "_")}_ctl() {
  local cur verb opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  verb="\${COMP_WORDS[${prefix}]}"
  if [ "$COMP_CWORD" -eq ${prefix} ]; then
    COMPREPLY=($(compgen -W "${verbs.join(" ")} -c --config --context --nodes --help" -- "$cur"))
    return
  fi
  case "$verb" in
${cases}
    *) opts="--help" ;;
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur") $(compgen -f -- "$cur"))
}
complete -F _${bin.replace(/-/g, "_")}_ctl ${bin}`;
  }
  if (shell === "fish") {
    const cond = bin === "storeventd" ? "__fish_seen_subcommand_from ctl" : "true";
    return verbs.map((v) => `complete -c ${bin} -n '${cond}; and not __fish_seen_subcommand_from ${verbs.join(" ")}' -a ${v} -d '${VERBS[v]!.about.replace(/'/g, "")}'`)
      .concat(verbs.flatMap((v) => VERBS[v]!.flags.map((f) => `complete -c ${bin} -n '__fish_seen_subcommand_from ${v}' -l ${f.long}${f.short ? ` -s ${f.short}` : ""}${f.value ? " -r" : ""}`)))
      .join("\n");
  }
  if (shell === "zsh") {
    return `#compdef ${bin}
_${bin.replace(/-/g, "_")}() {
  local -a verbs
  verbs=(${verbs.map((v) => `'${v}:${VERBS[v]!.about.replace(/'/g, "")}'`).join(" ")})
  if (( CURRENT == ${prefix + 1} )); then _describe 'command' verbs; else _files; fi
}
compdef _${bin.replace(/-/g, "_")} ${bin}`;
  }
  return undefined;
}
