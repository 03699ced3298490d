// drbd-reactorctl's cluster contexts: ~/.config/drbd-reactorctl/CONTEXT.toml names nodes
// ([nodes.NAME] hostname, user; or a nodes-script in that directory printing such tables); a verb
// then runs on every node (`--nodes` picks some) as `drbd-reactorctl --local ARGS`, through
// `ssh -qtt USER@HOST` for the others, after checking that each is reachable. The default
// context applies only when default.toml exists; "local" and "none" mean this node only.
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";

export interface Node {
  hostname: string;
  user: string;
}

function cfgDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  if (xdg) return join(xdg, "drbd-reactorctl");
  if (!process.env.HOME) throw new Error("neither XDG_CONFIG_HOME nor HOME is set");
  return join(process.env.HOME, ".config", "drbd-reactorctl");
}

function readCtlConfig(context: string, extra?: string): { "nodes-script"?: string; nodes?: Record<string, { hostname?: string; user?: string }> } {
  const file = join(cfgDir(), `${context}.toml`);
  if (context === "default" && !existsSync(file)) return {};
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`Could not read config file: ${file}: ${(e as Error).message}`);
  }
  if (extra !== undefined) text += `\n${extra}`;
  try {
    return parseToml(text) as ReturnType<typeof readCtlConfig>;
  } catch (e) {
    throw new Error(`Could not parse drbd-reactorctl config file ${file}: ${(e as Error).message}`);
  }
}

export function readNodes(context: string, only: string[]): Node[] {
  if (context === "none" || context === "local") return [];
  let cfg = readCtlConfig(context);
  if (cfg["nodes-script"]) {
    const script = join(cfgDir(), cfg["nodes-script"]);
    let p;
    try {
      p = Bun.spawnSync([script], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
    } catch (e) {
      throw new Error(`Could not execute script '${script}': ${(e as Error).message}`);
    }
    if (p.exitCode !== 0) throw new Error(`Script '${script}', did not return successfully`);
    cfg = readCtlConfig(context, p.stdout.toString());
  }
  return Object.entries(cfg.nodes ?? {})
    .filter(([name]) => !only.length || only.includes(name))
    .map(([name, n]) => ({ hostname: n.hostname || name, user: n.user ?? "root" }))
    .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
}

async function pexec(cmds: string[][]): Promise<{ code: number; out: string }[]> {
  return Promise.all(cmds.map(async (argv) => {
    let p;
    try {
      p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
    } catch (e) {
      throw new Error(`Could not execute '${argv[0]}': ${(e as Error).message}`);
    }
    const out = await new Response(p.stdout).text();
    return { code: await p.exited, out };
  }));
}

/** Runs the command on the context's nodes; false when there are none (run it here, as usual). */
export async function doRemote(
  args: string[], context: string, only: string[], self: string[], o: { write(s: string): void; green(s: string): string },
): Promise<boolean> {
  const nodes = readNodes(context, only);
  if (!nodes.length) return false;
  const me = hostname();
  o.write("Checking ssh connection to all remote nodes: ");
  const checks = nodes.filter((n) => n.hostname !== me).map((n) => ["ssh", `${n.user}@${n.hostname}`, "true"]);
  const reach = await pexec(checks);
  reach.forEach((r, i) => {
    if (r.code !== 0) throw new Error(`Command '${checks[i]!.join(" ")}' failed`);
  });
  o.write(`${o.green("✓")}\n`);
  const cmds = nodes.map((n) => n.hostname === me
    ? [...self, "--local", ...args]
    : ["ssh", "-qtt", `${n.user}@${n.hostname}`, "--", "drbd-reactorctl", "--local", ...args]);
  const results = await pexec(cmds);
  results.forEach((r, i) => {
    if (r.code !== 0) throw new Error(`Command '${cmds[i]!.join(" ")}' failed`);
    o.write(`➞ ${nodes[i]!.hostname}:\n${r.out}\n`);
  });
  return true;
}
