// A fake DaemonHandle for control-plane tests: a real event fan-out, a real store (when asked),
// scripted reload results. Everything else about the API (socket, HTTP, streams) is real.
import plugins from "../../plugins/all.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DaemonHandle, DaemonStatus, ReloadResult } from "../../src/daemon-api.ts";
import { formatTime, nowUs, type StorageEvent } from "../../src/event.ts";
import { createDeviceDirectory } from "../../src/devices/index.ts";
import { DrbdModel } from "../../src/drbd/model.ts";
import { ServiceMap } from "../../src/util/services.ts";
import { EventStore } from "../../plugins/receiver/store/sqlite.ts";
import { STORE_SERVICE } from "../../src/store-api.ts";
import type { Logger } from "../../src/plugin-api.ts";

export const quietLog: Logger = { debug() {}, info() {}, warn() {}, error() {}, once() {} };

let counter = 0;
export function makeEvent(over: Partial<StorageEvent> & { time_us?: number } = {}): StorageEvent {
  const n = ++counter;
  const { time_us, ...rest } = over;
  return {
    event_id: crypto.randomUUID(),
    time: formatTime(time_us ?? nowUs()),
    hostname: "testhost",
    severity: "error",
    system: "scsi",
    event_type: "SCSI_SENSE",
    dev_name: "sdb",
    dev_path: "/dev/sdb",
    dev_wwid: "naa.5000c500a1b2c3d4",
    owners: [{ dev_name: "dm-0", dev_wwid: "mpatha" }],
    msg: `event ${n}`,
    source: "kmsg",
    raw: `sd 2:0:0:1: [sdb] tag#${n} Sense Key : Medium Error [current]`,
    extension: { sense_key: 3, asc: 17, ascq: 0, n },
    ...rest,
  };
}

export class FakeDaemon implements DaemonHandle {
  listeners = new Set<(e: StorageEvent) => void>();
  services = new ServiceMap();
  /** The real plugin list: their contributed routes (the promoter's) are served as in the daemon. */
  plugins = () => plugins;
  devices = createDeviceDirectory();
  drbd = new DrbdModel();
  reloadResult: ReloadResult = { ok: true, started: ["mail"], stopped: ["old"], kept: ["kmsg", "store"] };
  reloadDelayMs = 0;
  reloads = 0;
  store?: EventStore;
  readonly dir: string;

  constructor(opts: { store?: boolean; maxBytes?: number } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), "storeventd-control-"));
    if (opts.store) {
      this.store = new EventStore({ path: join(this.dir, "events.db"), maxAgeUs: 0, maxBytes: opts.maxBytes ?? 0 });
      this.services.provide(STORE_SERVICE, this.store);
    }
  }

  /** Routes one event: subscribers see it now, the store buffers it (like a receiver queue). */
  emit(e: StorageEvent): void {
    for (const l of this.listeners) l(e);
    this.store?.add([e]);
  }

  subscribe(listener: (e: StorageEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): DaemonStatus {
    return {
      version: "0.1.0", commit: "test", pid: process.pid, started: formatTime(nowUs() - 65e6), uptime_s: 65,
      config_files: ["/etc/storeventd/storeventd.toml"], addon: { loaded: true, features: ["kmsg", "uevent"] },
      hostname: "testhost",
      instances: [
        { name: "kmsg", kind: "sender", plugin: "kmsg", counters: { records: 120, parsed: 118, dropped: 2, overrun: 0 } },
        { name: "store", kind: "receiver", plugin: "store", counters: { written: 118 }, queue: { depth: 3, max: 1000, dropped: 0, sent: 115, errors: 0 } },
      ],
      counters: { events: 118, folded: 4, dropped: 0 },
    };
  }

  async reload(): Promise<ReloadResult> {
    this.reloads++;
    if (this.reloadDelayMs) await Bun.sleep(this.reloadDelayMs);
    return this.reloadResult;
  }

  main() {
    return { control_socket: join(this.dir, "control.sock"), state_dir: this.dir, hostname: "testhost" };
  }

  cleanup(): void {
    try { this.store?.close(); } catch { /* closed */ }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
