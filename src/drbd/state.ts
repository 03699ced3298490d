// The DRBD model's state tree (resources -> connections -> devices -> peer devices) and the
// DrbdUpdate a subscriber gets per changed object (drbd-reactor's PluginUpdate).
import type { DrbdModel } from "./model.ts";
import type { Keyed } from "./small-map.ts";

// ---- state -------------------------------------------------------------------------------------

export interface DrbdPath {
  local: string; // as events2 prints it: ipv4:10.0.0.1:7789
  peer: string;
  established: boolean;
}

export type { Keyed } from "./small-map.ts";

export interface DrbdPeerDevice {
  volume: number;
  replication: string;
  peerDisk: string;
  peerClient: boolean;
  resyncSuspended: string; // no | user | peer | dependency | max-parallel, comma joined
  received: number;
  sent: number;
  outOfSync: number; // KiB
  pending: number;
  unacked: number;
  /** Resync progress in percent while a resync runs (events2 `done:`), else undefined. */
  done: number | undefined;
  extra: Record<string, string>;
}

export interface DrbdConnection {
  peerNodeId: number;
  connName: string;
  connection: string;
  peerRole: string;
  congested: boolean;
  apInFlight: number;
  rsInFlight: number;
  paths: Keyed<string, DrbdPath>;
  peerDevices: Keyed<number, DrbdPeerDevice>;
  extra: Record<string, string>;
}

export interface DrbdDevice {
  volume: number;
  minor: number;
  disk: string;
  backingDev: string; // "none" when diskless
  client: boolean;
  open: boolean;
  quorum: boolean;
  size: number; // KiB
  read: number;
  written: number;
  alWrites: number;
  bmWrites: number;
  upperPending: number;
  lowerPending: number;
  alSuspended: boolean;
  blocked: string;
  extra: Record<string, string>;
}

export interface DrbdResource {
  name: string;
  role: string;
  suspended: string; // no | user | no-data | fencing | quorum, comma joined
  forceIoFailures: boolean;
  writeOrdering: string;
  mayPromote: boolean;
  promotionScore: number;
  devices: Keyed<number, DrbdDevice>;
  connections: Keyed<number, DrbdConnection>;
  extra: Record<string, string>;
}

// ---- updates (drbd-reactor's PluginUpdate: old/new state of one object) --------------------------

export type UpdateEventType = "Exists" | "Create" | "Change" | "Destroy";

export interface ResourceState { role: string; "may-promote": boolean; "promotion-score": number }
export interface DeviceState { "disk-state": string; client: boolean; quorum: boolean; size: number; open: boolean }
export interface PeerDeviceState {
  "replication-state": string; "peer-disk-state": string; "peer-client": boolean; "resync-suspended": boolean;
}
export interface ConnectionState {
  "conn-name": string; "connection-state": string; "peer-role": string; congested: boolean;
}

export type DrbdUpdate =
  | { kind: "resource"; eventType: UpdateEventType; resource: string; old: ResourceState; new: ResourceState }
  | { kind: "device"; eventType: UpdateEventType; resource: string; volume: number; old: DeviceState; new: DeviceState }
  | {
    kind: "peer-device"; eventType: UpdateEventType; resource: string; volume: number; peerNodeId: number;
    old: PeerDeviceState; new: PeerDeviceState;
  }
  | {
    kind: "connection"; eventType: UpdateEventType; resource: string; peerNodeId: number;
    old: ConnectionState; new: ConnectionState;
  };

export type UpdateListener = (u: DrbdUpdate, model: DrbdModel) => void;

// drbd-reactor's defaults for an object it has not seen (Role::Unknown, DiskState::DUnknown, ...).
export const RES0: ResourceState = { role: "Unknown", "may-promote": false, "promotion-score": 0 };
export const DEV0: DeviceState = { "disk-state": "DUnknown", client: false, quorum: false, size: 0, open: false };
export const PD0: PeerDeviceState = {
  "replication-state": "Off", "peer-disk-state": "DUnknown", "peer-client": false, "resync-suspended": false,
};
export const CONN0: ConnectionState = { "conn-name": "", "connection-state": "StandAlone", "peer-role": "Unknown", congested: false };

/** One state tree: the live one, or the shadow a resync's dump is built into. */
export class ModelState {
  resources = new Map<string, DrbdResource>();
  /** Bumped when a resource leaves `resources` or is renamed: caches of name -> resource
   * (the fast lane's) hold while it stays the same. */
  gen = 0;
}
