// drbd-reactorctl's verbs that change things: snippets are renamed (`.toml` <-> `.toml.disabled`),
// removed or edited, then the daemon reloads; evict masks a promoter's target at runtime, stops it,
// waits for a peer to become Primary, and (unless --keep-masked) unmasks and starts it again.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { PromoterSnippet } from "../promoter-api.ts";
import { type CtlTables, entries, type Out, pluginCount, readSnippet, withState } from "./snippets.ts";

const promoters = (path: string, tables: CtlTables) => entries<PromoterSnippet>(readSnippet(path, tables), "promoter");
import { primaryOn, promoteService, reloadDaemon, run, serviceName, servicesTarget, systemctl } from "./system.ts";

export interface Ctx extends Out {
  /** Answers a yes/no question from stdin (false when there is none). */
  ask(question: string, def: boolean): Promise<boolean>;
  info(s: string): void;
}

/** The paths that exist, in order; each missing one is warned about when its turn comes. */
function* existing(paths: string[], o: Out): Generator<string> {
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
  for (const p of paths) for (const pr of promoters(p, tables)) for (const res of Object.keys(pr.resources)) systemctl("stop", servicesTarget(res));
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

/** The start list up to a number of entries or up to (and with) a named one. */
export function startUntilList(start: string[], until: string): string[] {
  if (/^\d+$/.test(until)) return start.slice(0, Number(until));
  const i = start.indexOf(until);
  if (i < 0) throw new Error(`Could not find unit '${until}' in start list`);
  return start.slice(0, i + 1);
}

export function startUntil(paths: string[], until: string, o: Ctx, self: string): void {
  if (!paths.length) throw new Error("Could not get disabled snippet file");
  const path = paths[0]!;
  if (!existsSync(path)) throw new Error(`File '${path}' does not exist`);
  for (const pr of promoters(path, o.tables)) {
    for (const [res, cfg] of Object.entries(pr.resources)) {
      const list = startUntilList(cfg.start, until);
      for (const u of [promoteService(res), ...list.map((s) => serviceName(s, res))]) {
        o.out(`systemctl start ${u}`);
        systemctl("start", u);
      }
      o.info("To resume normal operation, execute:");
      o.out(`- systemctl start ${servicesTarget(res)} # on this node`);
      o.out(`- ${self} enable ${path} # on all cluster nodes`);
    }
  }
}

function unmaskAndStart(resources: string[], o: Ctx): void {
  for (const res of resources) {
    const target = servicesTarget(res);
    o.out(`Re-enabling ${res}`);
    // `systemctl unmask --runtime` is missing on older systemd: remove the runtime mask link.
    const path = `/run/systemd/system/${target}`;
    rmSync(path, { force: true });
    o.out(`Removed ${path}.`);
    systemctl("daemon-reload");
    run(["systemctl", "start", target]); // fails, as intended, while a peer is Primary
  }
}

async function evictOne(res: string, delay: number, o: Ctx, stop: () => boolean): Promise<void> {
  o.out(`Evicting ${res}`);
  const p = primaryOn(res);
  if (p === null) return o.out(`Sorry, resource state for '${res}' unknown, ignoring`);
  if ("remote" in p) return o.out(`Active on '${p.remote}', nothing to do on this node, ignoring`);
  const target = servicesTarget(res);
  systemctl("mask", "--runtime", target);
  systemctl("daemon-reload");
  const r = run(["systemctl", "stop", target]);
  if (r.code !== 0) throw new Error(`'systemctl stop ${target}' exited with ${r.code}`);
  let countdown = "";
  for (let i = delay; i >= 0; i--) {
    const now = primaryOn(res);
    if (now !== null && "remote" in now) break;
    countdown += i !== 0 ? `${i}..` : `${i}`;
    process.stdout.write(i !== 0 ? `${i}..` : `${i}`);
    if (i !== 0) {
      if (stop()) break;
      await Bun.sleep(1000);
    }
  }
  if (countdown) o.out("");
  const after = primaryOn(res);
  if (after === null) o.out("Unfortunately no other node took over, resource in unknown state");
  else if ("remote" in after) o.out(`Node '${after.remote}' took over`);
  else o.out("Local node still DRBD Primary, not all services stopped in time locally");
}

export async function evict(
  paths: string[], opts: { force: boolean; keepMasked: boolean; unmask: boolean; delay: number }, o: Ctx,
): Promise<void> {
  const resources: string[] = [];
  for (const p of existing(paths, o)) {
    const pl = readSnippet(p, o.tables);
    const prs = entries<PromoterSnippet>(pl, "promoter");
    if (!prs.length) continue;
    o.out(`${p}:`);
    if (pluginCount(pl) !== prs.length && !opts.force) throw new Error(`Config file '${p}' contains mixed promoter and other plugins`);
    for (const pr of prs) {
      const names = Object.keys(pr.resources);
      if (names.length > 1 && !opts.force) throw new Error(`Promoter in config file '${p}' responsible for multiple resources`);
      // Those that cannot reboot the node on a failed demotion first.
      for (const n of names) {
        const fa = pr.resources[n]!["on-drbd-demote-failure"];
        if (fa === undefined || fa === "none") resources.unshift(n);
        else resources.push(n);
      }
    }
  }
  if (opts.unmask) return unmaskAndStart(resources, o);
  let stopped = false;
  const onSig = () => (stopped = true);
  process.on("SIGINT", onSig).on("SIGTERM", onSig);
  try {
    for (const res of resources) {
      let err: unknown;
      try {
        await evictOne(res, opts.delay, o, () => stopped);
      } catch (e) {
        err = e;
      }
      if (!opts.keepMasked) unmaskAndStart([res], o);
      if (err) throw err;
      if (stopped) break;
    }
  } finally {
    process.off("SIGINT", onSig).off("SIGTERM", onSig);
  }
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
  for (const pr of entries<PromoterSnippet>(pl, "promoter")) {
    for (const r of Object.values(pr.resources)) {
      if (r.start.at(-1)?.endsWith(".mount")) {
        const msg = "Mount unit should not be the topmost unit, consider using an OCF file system RA";
        if (!force) return msg;
        o.warn(msg);
      }
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
