// What the running daemon offers the control plane (unix-socket API, /metrics, web page).
import type { StorageEvent } from "./event.ts";
import type { DeviceDirectory } from "./plugin-api.ts";
import type { DrbdModel } from "./drbd/model.ts";

export interface InstanceStatus {
  name: string;
  kind: "sender" | "parser" | "receiver";
  plugin: string;
  counters: Record<string, number>;
  /** Receivers: queue depth and capacity. */
  queue?: { depth: number; max: number; dropped: number; sent: number; errors: number };
  extra?: Record<string, unknown>;
}

export interface DaemonStatus {
  version: string;
  commit: string;
  pid: number;
  started: string; // RFC 3339
  uptime_s: number;
  config_files: string[];
  addon: { loaded: boolean; features: string[]; error?: string };
  hostname: string;
  instances: InstanceStatus[];
  counters: Record<string, number>; // daemon-wide: events, folded, dropped, bad_records ...
  /** The process's own memory figures (bytes), for soak runs and leak hunting. */
  memory?: { rss: number; heap_used: number; heap_total: number; external: number };
}

export interface ReloadResult {
  /** false when the config was refused or an instance failed to start (see failed). */
  ok: boolean;
  error?: string;
  started: string[];
  stopped: string[];
  kept: string[];
  /** Instances whose start failed; the instance each replaced is started again (restored). */
  failed?: { instance: string; error: string }[];
  restored?: string[];
}

export interface DaemonHandle {
  status(): DaemonStatus;
  reload(): Promise<ReloadResult>;
  /** Every event after routing decisions, in order; returns an unsubscribe function. */
  subscribe(listener: (e: StorageEvent) => void): () => void;
  devices: DeviceDirectory;
  drbd: DrbdModel;
  /** Main section of the current config. */
  main(): { control_socket: string; state_dir: string; hostname: string };
  services: import("./plugin-api.ts").Services;
  /** The registered plugins (their contributed routes). */
  plugins(): readonly import("./plugin-api.ts").AnyPluginDef[];
}

/** What Pipeline.apply() did with a config. */
export interface ApplyResult {
  started: string[];
  stopped: string[];
  kept: string[];
  /** Instances whose start() failed (a port in use, a unit dir not writable), with the reason. */
  failed: { instance: string; error: string }[];
  /** Replaced instances started again from their previous config after their successor failed. */
  restored: string[];
}
