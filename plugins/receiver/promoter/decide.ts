// Pure decision rules of the promoter, drbd-reactor's semantics (facts from its promoter(5) and
// plugin): what one model update means for one resource. No I/O, no clock: the engine (engine.ts)
// applies the result.
import type { DrbdResource, DrbdUpdate } from "../../../src/plugin-kit/drbd.ts";
import type { ResolvedResource } from "./config.ts";

export type SplitBrainPolicy = "quorum" | "fencing";

/** Seconds of sleep before promoting per local disk state (worst volume wins); unknown states count as DUnknown. */
export const DISK_SLEEP_S: Record<string, number> = {
  Diskless: 6, Attaching: 6, Detaching: 6, Failed: 6, Negotiating: 6, DUnknown: 6,
  Inconsistent: 3, Outdated: 2, Consistent: 1, UpToDate: 0,
};
/** Extra seconds a Secondary waits under on-quorum-loss = freeze, so a frozen old Primary can thaw first. */
export const FREEZE_SLEEP_S = 2;

export interface SleepTerms {
  disk_s: number;
  preferred_s: number;
  fencing_s: number;
  freeze_s: number;
  factor: number;
  total_ms: number;
}

/** Position of `node` in preferred-nodes; not listed ranks after every listed node; an empty list ranks all 0. */
export function preferredRank(preferred: readonly string[], node: string): number {
  const i = preferred.indexOf(node);
  return i < 0 ? preferred.length : i;
}

export function sleepBeforePromote(res: DrbdResource, cfg: ResolvedResource, node: string, policy: SplitBrainPolicy): SleepTerms {
  let disk_s = 0;
  for (const d of res.devices.values()) disk_s = Math.max(disk_s, DISK_SLEEP_S[d.disk] ?? 6);
  const preferred_s = preferredRank(cfg["preferred-nodes"], node);
  let fencing_s = 0;
  let freeze_s = 0;
  if (policy === "fencing") {
    for (const c of res.connections.values()) {
      if (c.connection !== "Connected") fencing_s = Math.max(fencing_s, cfg["fencing-promote-delay"]);
    }
  } else if (cfg["on-quorum-loss"] === "freeze" && res.role === "Secondary") {
    freeze_s = FREEZE_SLEEP_S;
  }
  const factor = cfg["sleep-before-promote-factor"];
  return { disk_s, preferred_s, fencing_s, freeze_s, factor, total_ms: (disk_s + preferred_s + fencing_s + freeze_s) * 1000 * factor };
}

export type Decision =
  | { action: "promote"; reason: string }
  | { action: "cancel"; reason: string }
  | { action: "stop"; reason: string }
  | { action: "freeze"; reason: string }
  | { action: "thaw"; reason: string }
  | { action: "none" };

const NONE: Decision = { action: "none" };

/** The name DRBD knows a peer by (conn-name), for a peer node id. */
function peerName(res: DrbdResource, peerNodeId: number): string | undefined {
  return res.connections.get(peerNodeId)?.connName || undefined;
}

/** What an update means for this resource (`res` is the model's state after the update). */
export function decide(u: DrbdUpdate, res: DrbdResource, cfg: ResolvedResource, node: string, policy: SplitBrainPolicy): Decision {
  if (u.eventType !== "Change" && u.eventType !== "Exists" && u.eventType !== "Create") return NONE;
  switch (u.kind) {
    case "resource": {
      if (!u.old["may-promote"] && u.new["may-promote"]) return { action: "promote", reason: "may_promote" };
      if (u.old["may-promote"] && !u.new["may-promote"]) return { action: "cancel", reason: "may_promote lost" };
      if (u.old.role === "Primary" && u.new.role === "Secondary" && policy === "quorum" && cfg["on-quorum-loss"] === "freeze") {
        return { action: "stop", reason: "forced to Secondary while frozen" };
      }
      return NONE;
    }
    case "device": {
      // The initial dump (Exists) is a state, not a transition: a daemon (re)start thaws nothing.
      if (policy === "fencing" || u.eventType !== "Change") return NONE;
      if (u.old.quorum && !u.new.quorum) {
        return cfg["on-quorum-loss"] === "freeze" ? { action: "freeze", reason: "quorum lost" } : { action: "stop", reason: "quorum lost" };
      }
      if (!u.old.quorum && u.new.quorum && cfg["on-quorum-loss"] === "freeze" && res.role === "Primary") {
        return { action: "thaw", reason: "quorum regained" };
      }
      if (u.old["disk-state"] !== "Diskless" && u.new["disk-state"] === "Diskless" && !u.old.client && !u.new.client &&
        res.role === "Primary") {
        if (cfg["on-disk-detach"] === "ignore") return NONE;
        for (const c of res.connections.values()) {
          for (const pd of c.peerDevices.values()) {
            if (!pd.peerClient && pd.peerDisk === "UpToDate") return { action: "stop", reason: `local disk detached, ${c.connName || `peer ${c.peerNodeId}`} is UpToDate` };
          }
        }
      }
      return NONE;
    }
    case "peer-device": {
      // Fail back on a peer becoming UpToDate, not on a daemon restart that finds it UpToDate.
      if (u.eventType !== "Change") return NONE;
      if (!cfg["preferred-nodes"].length || cfg["preferred-nodes-policy"] !== "always") return NONE;
      if (u.old["peer-disk-state"] === "UpToDate" || u.new["peer-disk-state"] !== "UpToDate") return NONE;
      if (res.role !== "Primary") return NONE;
      const peer = peerName(res, u.peerNodeId);
      if (!peer) return NONE;
      const peerRank = cfg["preferred-nodes"].indexOf(peer);
      if (peerRank < 0) return NONE;
      if (peerRank < preferredRank(cfg["preferred-nodes"], node)) {
        return { action: "stop", reason: `more preferred node ${peer} is UpToDate (fail back)` };
      }
      return NONE;
    }
    default:
      return NONE;
  }
}

/** The node currently Primary for this resource: "local", a peer's conn-name, or undefined. */
export function primaryOn(res: DrbdResource): string | undefined {
  if (res.role === "Primary") return "local";
  for (const c of res.connections.values()) if (c.peerRole === "Primary") return c.connName || `peer ${c.peerNodeId}`;
  return undefined;
}

/** Whether every device has quorum (a resource without devices counts as having it). */
export function hasQuorum(res: DrbdResource): boolean {
  for (const d of res.devices.values()) if (!d.quorum) return false;
  return true;
}

/** The part of `drbdsetup show --show-defaults --json RES` the promoter reads. */
export interface ShownResource {
  resource: string;
  options?: Record<string, unknown>;
  connections?: { net?: Record<string, unknown> }[];
}

export interface PolicyCheck {
  policy: SplitBrainPolicy;
  /** DRBD options that do not fit the promoter's configuration (logged, as drbd-reactor does). */
  warnings: string[];
  /** Set when the resource has no split-brain avoidance at all: the promoter must not act. */
  error?: string;
}

/** drbd-reactor's split-brain avoidance detection and DRBD option checks: quorum unless quorum is
 * off, then fencing, which needs a fencing policy other than dont-care on every connection. */
export function checkDrbdOptions(shown: ShownResource, cfg: ResolvedResource, cgroupV2: boolean): PolicyCheck {
  const o = shown.options ?? {};
  const conns = shown.connections ?? [];
  const warnings: string[] = [];
  const want = (key: string, expected: string, is: unknown) => {
    const v = is === true ? "yes" : is === false ? "no" : String(is);
    if (is !== undefined && v !== expected) warnings.push(`DRBD option ${key} should be ${expected}, but is ${v}`);
  };
  const quorumOff = o["quorum"] === "off";
  const policy: SplitBrainPolicy = quorumOff ? "fencing" : "quorum";
  if (quorumOff && conns.some((c) => c.net?.["fencing"] === "dont-care")) {
    return { policy, warnings, error: "quorum is off and fencing is dont-care: no split-brain avoidance, the promoter leaves this resource alone" };
  }
  want("auto-promote", "no", o["auto-promote"]);
  want("quorum", quorumOff ? "off" : "majority", o["quorum"]);
  want("on-suspended-primary-outdated", "force-secondary", o["on-suspended-primary-outdated"]);
  if (policy === "quorum") {
    const onNoQuorum = cfg["on-quorum-loss"] === "freeze" ? "suspend-io" : "io-error";
    want("on-no-quorum", onNoQuorum, o["on-no-quorum"]);
    want("on-no-data-accessible", onNoQuorum, o["on-no-data-accessible"]);
    if (cfg["on-quorum-loss"] === "freeze") {
      for (const c of conns) want("rr-conflict", "retry-connect", c.net?.["rr-conflict"]);
      if (!cgroupV2) warnings.push("on-quorum-loss = \"freeze\" needs unified cgroups (cgroup v2): freezing will fail here");
    }
  }
  return { policy, warnings };
}
