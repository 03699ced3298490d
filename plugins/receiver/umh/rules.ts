// drbd-reactor's umh rules (doc/umh.md): per object kind, common fields (name, command, env), common
// filters (resource-name, event-type), kind filters (volume, peer-node-id) and old/new state
// matchers. A filter is a value (Equals) or { operator = "Equals" | "NotEquals", value }. Fields not
// set are "don't care". Also the environment a matching command gets (DRBD_* as documented).
import * as v from "valibot";
import {
  CONNECTION_STATES, DISK_STATES, type DrbdModel, type DrbdUpdate, REPLICATION_STATES, ROLES,
} from "../../../src/plugin-kit/drbd.ts";

function pattern<T extends v.GenericSchema>(value: T, what: string) {
  return v.pipe(
    v.optional(v.union([
      value,
      v.strictObject({ operator: v.optional(v.picklist(["Equals", "NotEquals"]), "Equals"), value }),
    ])),
    v.description(`${what}: a value (Equals), or { operator = "Equals" | "NotEquals", value = ... }`),
  );
}

const role = v.picklist(ROLES);
const disk = v.picklist(DISK_STATES);
const bool = v.boolean();
const int = v.pipe(v.number(), v.integer());

const common = {
  name: v.pipe(v.optional(v.string(), ""), v.description("name of the rule, written to logs")),
  command: v.pipe(
    v.string(),
    v.minLength(1, "command: empty"),
    v.description("shell command, run as `sh -c COMMAND`; event data arrives only as $DRBD_* variables"),
  ),
  env: v.pipe(v.optional(v.record(v.string(), v.string()), {}), v.description("extra environment variables for the command")),
  "resource-name": pattern(v.string(), "resource name"),
  "event-type": pattern(v.picklist(["Exists", "Create", "Change", "Destroy"]), "event type"),
};

const state = <T extends v.ObjectEntries>(entries: T) => v.pipe(v.optional(v.strictObject(entries)), v.description("state matchers"));

const resourceState = { role: pattern(role, "role"), "may-promote": pattern(bool, "may promote"), "promotion-score": pattern(int, "promotion score") };
const deviceState = {
  "disk-state": pattern(disk, "disk state"), client: pattern(bool, "client"), quorum: pattern(bool, "quorum"),
  size: pattern(int, "size"), open: pattern(bool, "open"),
};
const peerDeviceState = {
  "replication-state": pattern(v.picklist(REPLICATION_STATES), "replication state"),
  "peer-disk-state": pattern(disk, "peer disk state"), "peer-client": pattern(bool, "peer client"),
  "resync-suspended": pattern(bool, "resync suspended"),
};
const connectionState = {
  "conn-name": pattern(v.string(), "connection name"),
  "connection-state": pattern(v.picklist(CONNECTION_STATES), "connection state"),
  "peer-role": pattern(role, "peer role"), congested: pattern(bool, "congested"),
};

export const ResourceRule = v.strictObject({ ...common, old: state(resourceState), new: state(resourceState) });
export const DeviceRule = v.strictObject({ ...common, volume: pattern(int, "volume"), old: state(deviceState), new: state(deviceState) });
export const PeerDeviceRule = v.strictObject({
  ...common, volume: pattern(int, "volume"), "peer-node-id": pattern(int, "peer node id"),
  old: state(peerDeviceState), new: state(peerDeviceState),
});
export const ConnectionRule = v.strictObject({
  ...common, "peer-node-id": pattern(int, "peer node id"), old: state(connectionState), new: state(connectionState),
});

type Pattern = unknown;
export interface Rule {
  kind: DrbdUpdate["kind"];
  name: string;
  command: string;
  env: Record<string, string>;
  filters: Record<string, Pattern>; // resource-name, event-type, volume, peer-node-id
  old: Record<string, Pattern> | undefined;
  new: Record<string, Pattern> | undefined;
}

function matches(p: Pattern, actual: unknown): boolean {
  if (p === undefined) return true;
  if (typeof p === "object" && p !== null && "value" in p) {
    const { operator, value } = p as { operator: string; value: unknown };
    return operator === "NotEquals" ? actual !== value : actual === value;
  }
  return actual === p;
}

function matchState(ps: Record<string, Pattern> | undefined, s: object): boolean {
  if (!ps) return true;
  for (const k in ps) if (!matches(ps[k], (s as Record<string, unknown>)[k])) return false;
  return true;
}

export function ruleMatches(r: Rule, u: DrbdUpdate): boolean {
  if (r.kind !== u.kind) return false;
  const f = r.filters;
  if (!matches(f["resource-name"], u.resource) || !matches(f["event-type"], u.eventType)) return false;
  if ("volume" in u && !matches(f["volume"], u.volume)) return false;
  if ("peerNodeId" in u && !matches(f["peer-node-id"], u.peerNodeId)) return false;
  return matchState(r.old, u.old) && matchState(r.new, u.new);
}

export function toRule(kind: DrbdUpdate["kind"], raw: Record<string, unknown>): Rule {
  const filters: Record<string, Pattern> = {};
  for (const k of ["resource-name", "event-type", "volume", "peer-node-id"]) if (raw[k] !== undefined) filters[k] = raw[k];
  return {
    kind, name: (raw.name as string) || raw.command as string, command: raw.command as string,
    env: (raw.env as Record<string, string>) ?? {}, filters,
    old: raw.old as Record<string, Pattern> | undefined, new: raw.new as Record<string, Pattern> | undefined,
  };
}

const s = (x: unknown) => String(x);

/** DRBD_* variables for an update, as drbd-reactor's code sets them (the get_env of each update in
 * its src/drbd.rs; its doc/umh.md also lists _OPEN, _CONGESTED and a peer device's _VOLUME, which
 * the code never sets, so neither do we). */
export function updateEnv(u: DrbdUpdate, model: DrbdModel | undefined): Record<string, string> {
  const env: Record<string, string> = { DRBD_RES_NAME: u.resource };
  const device = (volume: number) => {
    const d = model?.resource(u.resource)?.devices.get(volume);
    if (!d) return;
    env.DRBD_MINOR = s(d.minor);
    env[`DRBD_MINOR_${volume}`] = s(d.minor);
    env.DRBD_BACKING_DEV = d.backingDev;
    env[`DRBD_BACKING_DEV_${volume}`] = d.backingDev;
  };
  switch (u.kind) {
    case "resource":
      env.DRBD_OLD_ROLE = u.old.role;
      env.DRBD_NEW_ROLE = u.new.role;
      env.DRBD_OLD_MAY_PROMOTE = s(u.old["may-promote"]);
      env.DRBD_NEW_MAY_PROMOTE = s(u.new["may-promote"]);
      break;
    case "device":
      device(u.volume);
      env.DRBD_VOLUME = s(u.volume);
      env.DRBD_OLD_DISK_STATE = u.old["disk-state"];
      env.DRBD_NEW_DISK_STATE = u.new["disk-state"];
      env.DRBD_OLD_CLIENT = s(u.old.client);
      env.DRBD_NEW_CLIENT = s(u.new.client);
      env.DRBD_OLD_QUORUM = s(u.old.quorum);
      env.DRBD_NEW_QUORUM = s(u.new.quorum);
      break;
    case "peer-device":
      device(u.volume);
      env.DRBD_PEER_NODE_ID = s(u.peerNodeId);
      env.DRBD_OLD_PEER_DISK_STATE = u.old["peer-disk-state"];
      env.DRBD_NEW_PEER_DISK_STATE = u.new["peer-disk-state"];
      env.DRBD_OLD_PEER_CLIENT = s(u.old["peer-client"]);
      env.DRBD_NEW_PEER_CLIENT = s(u.new["peer-client"]);
      env.DRBD_OLD_PEER_RESYNC_SUSPENDED = s(u.old["resync-suspended"]);
      env.DRBD_NEW_PEER_RESYNC_SUSPENDED = s(u.new["resync-suspended"]);
      env.DRBD_OLD_PEER_REPLICATION_STATE = u.old["replication-state"];
      env.DRBD_NEW_PEER_REPLICATION_STATE = u.new["replication-state"];
      break;
    case "connection":
      env.DRBD_PEER_NODE_ID = s(u.peerNodeId);
      env.DRBD_CSTATE = u.new["connection-state"];
      env.DRBD_OLD_CONN_NAME = u.old["conn-name"];
      env.DRBD_NEW_CONN_NAME = u.new["conn-name"];
      env.DRBD_OLD_CONN_STATE = u.old["connection-state"];
      env.DRBD_NEW_CONN_STATE = u.new["connection-state"];
      env.DRBD_OLD_PEER_ROLE = u.old["peer-role"];
      env.DRBD_NEW_PEER_ROLE = u.new["peer-role"];
      break;
  }
  return env;
}

/** What every command also gets, after the rule's env (drbd-reactor's umh common_env). */
export const COMMON_ENV: Record<string, string> = { HOME: "/", TERM: "Linux", PATH: "/sbin:/usr/sbin:/bin:/usr/bin" };
