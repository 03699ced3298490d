// The [[promoter]] options: drbd-reactor's keys and defaults unchanged (its promoter(5) and
// PromoterOptResource), plus a few storeventd keys at the top level (unit directory, tool paths,
// node name, retry interval, eviction hold). Combinations that cannot work are schema errors with
// the reason, so `storeventd check` reports them with file and line.
import * as v from "valibot";
import { durationSchema } from "../../../src/plugin-kit/duration.ts";
import { parseStartEntry } from "../../../src/plugin-kit/systemd.ts";

export const DEPENDENCIES = ["Wants", "Requires", "Requisite", "BindsTo"] as const;
export const FAILURE_ACTIONS = [
  "none", "reboot", "reboot-force", "reboot-immediate", "poweroff", "poweroff-force", "poweroff-immediate", "exit",
  "exit-force",
] as const;

const names = (what: string) => v.pipe(v.array(v.pipe(v.string(), v.minLength(1, `an empty ${what}`))));

const ResourceSchema = v.pipe(
  v.strictObject({
    start: v.pipe(v.optional(names("start entry"), []),
      v.description("systemd units (with their suffix) or `ocf:VENDOR:AGENT INSTANCE k=v ...` entries, started in order; with runner = \"shell\" commands")),
    stop: v.pipe(v.optional(names("stop entry"), []),
      v.description("runner = \"shell\" only: commands run to stop (default: start reversed); systemd stops the target")),
    runner: v.pipe(v.optional(v.picklist(["systemd", "shell"]), "systemd"),
      v.description("systemd (generated target and drop-ins) or shell (start/stop commands in order, run without a shell)")),
    "dependencies-as": v.pipe(v.optional(v.picklist(DEPENDENCIES)),
      v.description("dependency of each start unit on the one before it (systemd.unit(5)); default Requires")),
    "target-as": v.pipe(v.optional(v.picklist(DEPENDENCIES)),
      v.description("dependency of drbd-services@RES.target on each start unit; default Requires")),
    "on-drbd-demote-failure": v.pipe(v.optional(v.picklist(FAILURE_ACTIONS)),
      v.description("systemd FailureAction when demoting fails (drbd-demote-or-escalate@RES); default none")),
    "secondary-force": v.pipe(v.optional(v.boolean(), true),
      v.description("demote with `drbdsetup secondary`, then `secondary --force` if that fails")),
    "stop-services-on-exit": v.pipe(v.optional(v.boolean(), false),
      v.description("stop the services when the promoter stops (daemon stop, or a reload removing it)")),
    "sleep-before-promote-factor": v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 1),
      v.description("scales the sleep before promoting (disk state, preferred-node rank, fencing and freeze terms)")),
    "preferred-nodes": v.pipe(v.optional(names("node name"), []),
      v.description("node names (uname -n) in order of preference; a later position sleeps longer before promoting")),
    "preferred-nodes-policy": v.pipe(v.optional(v.picklist(["always", "start-only"]), "always"),
      v.description("always: stop locally when a more preferred node becomes UpToDate (fail back); start-only: rank only at start")),
    "on-quorum-loss": v.pipe(v.optional(v.picklist(["shutdown", "freeze"]), "shutdown"),
      v.description("shutdown: stop the services on quorum loss; freeze: freeze them (cgroup v2) and thaw on regain")),
    "on-disk-detach": v.pipe(v.optional(v.picklist(["ignore", "fail-over"]), "ignore"),
      v.description("fail-over: a Primary that loses its disk stops the services when an UpToDate peer exists")),
    "fencing-promote-delay": v.pipe(v.optional(v.pipe(v.number(), v.minValue(0)), 5),
      v.description("seconds to wait before promoting when fencing (not quorum) avoids split brain and a peer is unreachable")),
    "adjust-resource-on-start": v.pipe(v.optional(v.boolean(), true),
      v.description("run `drbdadm adjust RES` when the promoter starts (after the backing devices exist)")),
    "on-stop-failure": v.pipe(v.optional(v.string()), v.description("deprecated in drbd-reactor (use on-drbd-demote-failure); accepted and ignored")),
  }),
  v.forward(v.check((r) => !(r.runner === "shell" && r["on-quorum-loss"] === "freeze"),
    "on-quorum-loss = \"freeze\" needs runner = \"systemd\": the shell runner cannot freeze services"), ["on-quorum-loss"]),
  v.forward(v.check((r) => !(r.runner === "shell" && r["on-drbd-demote-failure"] !== undefined && r["on-drbd-demote-failure"] !== "none"),
    "on-drbd-demote-failure is a systemd FailureAction: it needs runner = \"systemd\""), ["on-drbd-demote-failure"]),
  v.forward(v.check((r) => new Set(r["preferred-nodes"]).size === r["preferred-nodes"].length,
    "a node is named twice"), ["preferred-nodes"]),
  v.forward(v.check((r) => r.runner === "shell" || startProblem(r.start) === undefined, (i) => startProblem((i.input as { start: string[] }).start) ?? ""), ["start"]),
);

/** Why a systemd start list cannot be turned into units, or undefined. */
export function startProblem(start: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const entry of start) {
    const parsed = parseStartEntry("RES", entry);
    if ("error" in parsed) return parsed.error;
    const unit = parsed.unit;
    if (unit.includes("/")) return `"${entry}" contains a "/"; name a mount unit as \`systemd-escape --path --suffix=mount PATH\` prints it`;
    if (!/\.(service|socket|device|mount|automount|swap|target|path|timer|slice|scope)$/.test(unit)) {
      return `"${entry}" is not a systemd unit name with its suffix (.service, .mount, ...)`;
    }
    if (seen.has(unit)) return `"${unit}" is listed twice`;
    seen.add(unit);
  }
  return undefined;
}

export const PromoterSchema = v.strictObject({
  resources: v.pipe(v.optional(v.record(v.pipe(v.string(), v.minLength(1)), ResourceSchema), {}),
    v.description("one table per DRBD resource the promoter manages: [promoter.resources.NAME]")),
  id: v.pipe(v.optional(v.string()), v.description("deprecated in drbd-reactor; accepted and ignored")),
  "unit-dir": v.pipe(v.optional(v.string(), "/run/systemd/system"),
    v.description("storeventd: where the generated units and drop-ins are written")),
  "service-name": v.pipe(v.optional(v.string(), "storeventd.service"),
    v.description("storeventd: the daemon's own unit; the generated target is ordered Before= it")),
  "node-name": v.pipe(v.optional(v.string(), ""),
    v.description("storeventd: this node's name as preferred-nodes and DRBD's conn-name spell it (default: uname -n)")),
  systemctl: v.pipe(v.optional(v.string(), "systemctl"), v.description("storeventd: systemctl to run")),
  drbdsetup: v.pipe(v.optional(v.string(), "drbdsetup"), v.description("storeventd: drbdsetup to run (show --json: quorum or fencing)")),
  drbdadm: v.pipe(v.optional(v.string(), "drbdadm"), v.description("storeventd: drbdadm to run (adjust, sh-ll-dev)")),
  "shim-path": v.pipe(v.optional(v.string(), "/usr/lib/drbd/scripts/drbd-service-shim.sh"),
    v.description("storeventd: drbd-utils' drbd-service-shim.sh named in generated ExecStop/ExecStart lines")),
  "retry-interval": durationSchema("storeventd: how often a target that is not active is started again while may_promote holds", "20s"),
  "evict-hold": durationSchema("storeventd: how long `promoter evict` keeps this node from promoting (or favours --to's node)", "60s"),
});

export type PromoterConfig = v.InferOutput<typeof PromoterSchema>;
export type ResourceConfig = v.InferOutput<typeof ResourceSchema>;

/** A resource's options with every default resolved (dependencies-as etc. are optional only to detect explicit use). */
export interface ResolvedResource extends Omit<ResourceConfig, "dependencies-as" | "target-as" | "on-drbd-demote-failure"> {
  name: string;
  "dependencies-as": (typeof DEPENDENCIES)[number];
  "target-as": (typeof DEPENDENCIES)[number];
  "on-drbd-demote-failure": (typeof FAILURE_ACTIONS)[number];
}

export function resolveResource(name: string, r: ResourceConfig): ResolvedResource {
  return {
    ...r,
    name,
    "dependencies-as": r["dependencies-as"] ?? "Requires",
    "target-as": r["target-as"] ?? "Requires",
    "on-drbd-demote-failure": r["on-drbd-demote-failure"] ?? "none",
    // drbd-reactor: stop defaults to start reversed.
    stop: r.stop.length ? r.stop : [...r.start].reverse(),
  };
}
