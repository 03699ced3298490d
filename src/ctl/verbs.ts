// drbd-reactorctl's verbs that change things: snippets are renamed (`.toml` <-> `.toml.disabled`),
// removed or edited, then the daemon reloads. What a table's entries run (stopped by `disable --now`)
// and edit's extra checks come from the table's plugin (CtlSnippet.stop, checkEdit), as do the
// verbs a plugin owns (cli.ts runs those).
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { type CtlTables, entries, type Out, pluginCount, readSnippet, withState } from "./snippets.ts";
import { reloadDaemon, run, systemctl } from "./system.ts";

export interface Ctx extends Out {
  /** Answers a yes/no question from stdin (false when there is none). */
  ask(question: string, def: boolean): Promise<boolean>;
  info(s: string): void;
}

/** The paths that exist, in order; each missing one is warned about when its turn comes. */
export function* existing(paths: string[], o: Out): Generator<string> {
  for (const p of paths) {
    if (existsSync(p)) yield p;
    else o.warn(`'${p}' does not exist, doing nothing`);
  }
}

export function enable(paths: string[], o: Ctx): void {
  let n = 0;
  for (const p of existing(paths, o)) {
    o.err(`Enabling '${p}'...`);
    if (!p.endsWith(".toml.disabled")) throw new Error(`Expected plugin path '${p}' to end in .toml.disabled`);
    const to = withState(p, "enabled");
    if (existsSync(to)) {
      o.warn(`'${to}' already exists, doing nothing`);
      continue;
    }
    renameSync(p, to);
    n++;
  }
  if (n) reloadDaemon();
}

function stopTargets(paths: string[], tables: CtlTables): void {
  for (const p of paths) {
    const pl = readSnippet(p, tables);
    for (const [table, c] of tables) for (const e of c.stop ? entries(pl, table) : []) c.stop!(e);
  }
}

export function disable(paths: string[], withTargets: boolean, o: Ctx): void {
  const done: string[] = [];
  for (const p of existing(paths, o)) {
    o.err(`Disabling '${p}'...`);
    const to = withState(p, "disabled");
    renameSync(p, to);
    done.push(to);
  }
  // Reload first, so that stopping the target does not make the promoter start it again.
  if (done.length) reloadDaemon();
  if (withTargets) stopTargets(done, o.tables);
}

export async function rm(paths: string[], force: boolean, o: Ctx): Promise<void> {
  let n = 0;
  for (const p of existing(paths, o)) {
    o.err(`Removing '${p}'...`);
    if (force || (await o.ask(`Remove '${p}'?`, false))) {
      unlinkSync(p);
      n++;
    }
  }
  if (n) reloadDaemon();
}

export function cat(paths: string[], o: Ctx): void {
  for (const p of existing(paths, o)) {
    o.err(`Displaying ${p}...`);
    // bat when there is one (as drbd-reactorctl), else the file as it is.
    const bat = ["bat", "batcat"].find((b) => Bun.which(b));
    if (bat && run([bat, p], true).code === 0) continue;
    o.out(readFileSync(p, "utf8").replace(/\n$/, ""));
  }
}

export function restart(paths: string[], withTargets: boolean, o: Ctx): void {
  if (!paths.length) return systemctl("restart", process.env.STOREVENTD_CTL_SERVICE ?? "storeventd.service");
  disable(paths, withTargets, o);
  enable(paths.map((p) => withState(p, "disabled")), o);
}

const HEADER = `#| Please edit the snippet below. Lines beginning with a '#|' will be ignored,
#| and an empty file will abort the edit. If an error occurs while saving this file will be
#| reopened with the relevant failures.
#|
`;

/** One edit round's check: exactly one plugin of `type`, and storeventd's own validation. */
export type Validate = (text: string, file: string) => string | undefined;

export function checkEdit(text: string, type: string, force: boolean, validate: Validate, file: string, o: Ctx): string | undefined {
  if (o.tables.get(type)?.template === undefined) return `Unknown type ('${type}') to edit`;
  let pl;
  try {
    const tmp = mkdtempSync(join("/tmp", "storeventd-ctl-"));
    try {
      writeFileSync(join(tmp, "s.toml"), text);
      pl = readSnippet(join(tmp, "s.toml"), o.tables);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    return (e as Error).message.replace(/^Could not parse config file '[^']*': /, "");
  }
  if (pluginCount(pl) !== 1) return "Expected exactly 1 plugin configuration";
  if (entries(pl, type).length !== 1) return `Expected exactly one ${type} plugin`;
  for (const [table, c] of o.tables) {
    for (const e of c.checkEdit ? entries(pl, table) : []) {
      const why = c.checkEdit!(e, force, o.warn);
      if (why) return why;
    }
  }
  return validate(text, file);
}

export async function edit(
  paths: string[], dir: string, type: string, force: boolean, validate: Validate, o: Ctx,
): Promise<void> {
  const editor = process.env.EDITOR ?? "vi";
  let saved = 0;
  for (const snippet of paths) {
    // The temporary copy lives beside the snippet, so the final rename stays on one file system.
    const tmp = join(dir, `.${basename(snippet)}.${process.pid}.edit`);
    let fromTemplate = false;
    if (existsSync(snippet)) copyFileSync(snippet, tmp);
    else {
      writeFileSync(tmp, o.tables.get(type)?.template ?? "");
      fromTemplate = true;
    }
    let error: string | undefined;
    let aborted = false;
    try {
      for (;;) {
        const was = fromTemplate ? "" : readFileSync(tmp, "utf8").trim();
        fromTemplate = false;
        writeFileSync(tmp, HEADER + (error ? `#| Error: ${error.replaceAll("\n", "\n#| ")}\n` : "#| Happy editing:\n") + readFileSync(tmp, "utf8"));
        const r = run(["sh", "-c", `${editor} "$1"`, "editor", tmp], true);
        if (r.code !== 0) throw new Error(`${editor} exited with ${r.code}`);
        const text = readFileSync(tmp, "utf8").split("\n").filter((l) => !l.startsWith("#|")).join("\n");
        writeFileSync(tmp, text);
        const is = text.trim();
        if (!is) {
          o.warn("Edit aborted, empty file saved");
          aborted = true;
          break;
        }
        if (is === was) {
          o.warn("Edit aborted, no new changes have been made");
          aborted = true;
          break;
        }
        error = checkEdit(text, type, force, validate, snippet, o);
        if (!error) break;
      }
      if (!aborted) {
        renameSync(tmp, snippet);
        saved++;
      }
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  if (saved) reloadDaemon();
}
