// drbd-reactorctl's `evict`: masks a resource's drbd-services target at runtime, stops it, waits for
// a peer to become Primary, and (unless --keep-masked) unmasks and starts it again.
import { rmSync } from "node:fs";
import type { CtlVerbContext } from "../../../src/plugin-api.ts";
import { primaryOn, run, servicesTarget, systemctl } from "../../../src/plugin-kit/ctl.ts";
import { resourcesOf } from "./ctl-verbs.ts";

type Say = Pick<CtlVerbContext, "out">;

function unmaskAndStart(resources: string[], o: Say): void {
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

async function evictOne(res: string, delay: number, o: Say, stop: () => boolean): Promise<void> {
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

export async function evict(c: CtlVerbContext): Promise<void> {
  const f = c.flags;
  const delay = Number(f.delay ?? "20");
  if (!/^\d+$/.test(String(f.delay ?? "20")) || delay <= 0) c.usage("Invalid value for '--delay <delay>': Value has to be a positive integer");
  const force = Boolean(f.force);
  const paths = c.pick(c.args.length ? c.args : undefined, "enabled", true);
  const resources: string[] = [];
  for (const p of c.existing(paths)) {
    const { entries: prs, plugins } = c.read(p);
    if (!prs.length) continue;
    c.out(`${p}:`);
    if (plugins !== prs.length && !force) throw new Error(`Config file '${p}' contains mixed promoter and other plugins`);
    for (const pr of prs) {
      const rs = resourcesOf(pr);
      const names = Object.keys(rs);
      if (names.length > 1 && !force) throw new Error(`Promoter in config file '${p}' responsible for multiple resources`);
      // Those that cannot reboot the node on a failed demotion first.
      for (const n of names) {
        const fa = rs[n]!["on-drbd-demote-failure"];
        if (fa === undefined || fa === "none") resources.unshift(n);
        else resources.push(n);
      }
    }
  }
  if (f.unmask) return unmaskAndStart(resources, c);
  let stopped = false;
  const onSig = () => (stopped = true);
  process.on("SIGINT", onSig).on("SIGTERM", onSig);
  try {
    for (const res of resources) {
      let err: unknown;
      try {
        await evictOne(res, delay, c, () => stopped);
      } catch (e) {
        err = e;
      }
      if (!f["keep-masked"]) unmaskAndStart([res], c);
      if (err) throw err;
      if (stopped) break;
    }
  } finally {
    process.off("SIGINT", onSig).off("SIGTERM", onSig);
  }
}
