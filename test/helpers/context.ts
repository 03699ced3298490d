// A plugin context for unit tests: records what the plugin emits, counts and logs.
import type {
  BaseContext, DeviceDirectory, EventDraft, Logger, ParserContext, RawRecord, SenderContext, StorageEvent,
} from "../../src/plugin-api.ts";
import { createDeviceDirectory } from "../../src/devices/index.ts";
import { ServiceMap } from "../../src/util/services.ts";
import { nativeAddon } from "../../src/native.ts";

export interface Recorded {
  records: RawRecord[];
  events: EventDraft[];
  injected: StorageEvent[];
  counts: Map<string, number>;
  logs: string[];
  readyCalls: number;
}

export function makeContext(over: Partial<SenderContext & ParserContext> = {}): { ctx: SenderContext & ParserContext; rec: Recorded; abort: AbortController } {
  const rec: Recorded = { records: [], events: [], injected: [], counts: new Map(), logs: [], readyCalls: 0 };
  const abort = new AbortController();
  const seen = new Set<string>();
  const at = (level: string) => (msg: string) => void rec.logs.push(`${level}: ${msg}`);
  const log: Logger = {
    debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"),
    once: (kind, msg) => { if (!seen.has(kind)) { seen.add(kind); rec.logs.push(`once: ${msg}`); } },
  };
  const devices: DeviceDirectory = createDeviceDirectory();
  const ctx: SenderContext & ParserContext = {
    instance: "test", plugin: "test", hostname: "testhost", stateDir: "/tmp/storeventd-test-state",
    log, native: nativeAddon(), devices, services: new ServiceMap(), signal: abort.signal,
    count: (name, n = 1) => void rec.counts.set(name, (rec.counts.get(name) ?? 0) + n),
    emitEvent: (d) => void rec.events.push(d),
    emit: (r) => void rec.records.push(r),
    ready: () => void rec.readyCalls++,
    inject: (e) => void rec.injected.push(e),
    delivered: async () => {},
    holdMaxMs: 250,
    clock: () => performance.now(),
    ...over,
  };
  return { ctx, rec, abort };
}

export type { BaseContext };
