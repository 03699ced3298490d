// The event store and the follow fan-out:
// - events/s into the store (batched flushes), as a ratio to JSON.stringify of the same events;
// - events/s sustained through the control server (store + follow fan-out to 20 NDJSON clients in
//   another process), as a ratio to the store alone;
// - query latency (median of repeated runs) on a 1M-event store generated once in a temp dir,
//   directly and through the control API;
// - one retention pass on that store.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventStore } from "../plugins/receiver/store/sqlite.ts";
import { STORE_SERVICE } from "../src/store-api.ts";
import { startControlServer } from "../src/control/server.ts";
import { formatTime, SYSTEMS, type StorageEvent } from "../src/event.ts";
import { FakeDaemon, quietLog } from "../test/helpers/fake-daemon.ts";
import { startCrowd } from "../test/control/crowd.ts";

const TYPES = ["SCSI_SENSE", "BLK_IO_ERROR", "DM_MPATH_PATH_DOWN", "DM_MPATH_PATH_UP", "FS_ERROR", "MD_DISK_FAILED", "DEVICE_CHANGED", "DRBD_ROLE_CHANGED"];
const SEVS = ["info", "warn", "error"] as const;

function genEvent(i: number, timeUs: number): StorageEvent {
  const sys = SYSTEMS[i % 11]!;
  return {
    event_id: crypto.randomUUID(), time: formatTime(timeUs), hostname: "bench", severity: SEVS[i % 3]!, system: sys,
    event_type: TYPES[(i * 7) % TYPES.length]!, dev_name: `sd${i % 1000}`, dev_path: `/dev/sd${i % 1000}`,
    dev_wwid: `naa.5000c500${(i % 1000).toString(16).padStart(8, "0")}`, owners: [{ dev_name: `dm-${i % 50}`, dev_wwid: `mpath${i % 50}` }],
    msg: `sd${i % 1000}: event ${i} on the bench host`, source: "kmsg",
    raw: `sd 2:0:0:${i % 64}: [sd${i % 1000}] tag#${i % 256} FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK cmd_age=0s`,
    extension: { n: i },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => unknown, runs = 15): number {
  fn(); // warm
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return Number(median(ms).toFixed(3));
}

/** Events/s through store + follow fan-out to 20 readers (plus `idle` followers that never read), and peak RSS growth. */
async function fanOut(dir: string, events: StorageEvent[], idle: number): Promise<{ rate: number; rssGrowthMiB: number }> {
  const daemon = new FakeDaemon({ store: true });
  const sock = join(dir, `bench-${idle}.sock`);
  const server = await startControlServer(daemon, { socketPath: sock, log: quietLog });
  const readers = 20;
  const crowd = startCrowd(sock, readers, idle, events.length);
  const progress = crowd.progress;
  const status = () => fetch("http://localhost/v1/status", { unix: sock } as RequestInit).then((r) => r.json()) as Promise<{ control: { follow_clients: number } }>;
  while ((await status()).control.follow_clients < readers + idle) await Bun.sleep(20);
  Bun.gc(true);
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const t0 = performance.now();
  for (let i = 0; i < events.length; i++) {
    daemon.emit(events[i]!);
    if ((i + 1) % 1000 === 0) {
      daemon.store!.flush();
      peak = Math.max(peak, process.memoryUsage().rss);
      // Sustained, not buffered: stay within 5000 events of the slowest reader.
      while (progress.min < i + 1 - 5000) await Bun.sleep(1);
    }
  }
  daemon.store!.flush();
  while (!progress.done) await Bun.sleep(2);
  const secs = (performance.now() - t0) / 1000;
  await crowd.exited();
  await server.close();
  daemon.cleanup();
  return { rate: events.length / secs, rssGrowthMiB: Number(((peak - rss0) / 1048576).toFixed(1)) };
}

export default async function bench(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), "storeventd-bench-store-"));
  const out: Record<string, number | string> = {};
  try {
    const t0us = Date.now() * 1000 - 30 * 86400e6;
    const N = 100_000;
    const events = Array.from({ length: N }, (_, i) => genEvent(i, t0us + i * 1000));

    let t = performance.now();
    let bytes = 0;
    for (const e of events) bytes += JSON.stringify(e).length;
    const baseline = N / ((performance.now() - t) / 1000);
    out["baseline_json_stringify_events_per_s"] = Math.round(baseline);

    const small = new EventStore({ path: join(dir, "write.db"), maxAgeUs: 0, maxBytes: 0 });
    t = performance.now();
    for (let i = 0; i < N; i += 1000) {
      small.add(events.slice(i, i + 1000));
      small.flush();
    }
    const storeRate = N / ((performance.now() - t) / 1000);
    small.close();
    out["store_write_events_per_s"] = Math.round(storeRate);
    out["store_write_vs_json_stringify"] = Number((storeRate / baseline).toFixed(3));
    out["avg_event_json_bytes"] = Math.round(bytes / N);

    // Fan-out, and what 10 followers that never read cost on top (each is sent ~15 MB; their
    // queues are bounded at 4 MiB of shared lines).
    const fan = await fanOut(dir, events.slice(0, 30_000), 0);
    const fanIdle = await fanOut(dir, events.slice(0, 30_000), 10);
    out["store_plus_20_followers_events_per_s"] = Math.round(fan.rate);
    out["store_plus_20_followers_vs_store_alone"] = Number((fan.rate / storeRate).toFixed(3));
    out["followers_rss_growth_mib"] = fan.rssGrowthMiB;
    out["followers_plus_10_idle_rss_growth_mib"] = fanIdle.rssGrowthMiB;
    out["followers_plus_10_idle_events_per_s"] = Math.round(fanIdle.rate);

    // The 1M-event store: 30 days of events, 1000 devices, 11 systems.
    const M = 1_000_000;
    const path = join(dir, "1m.db");
    const big = new EventStore({ path, maxAgeUs: 0, maxBytes: 0 });
    t = performance.now();
    const step = (30 * 86400e6) / M;
    for (let i = 0; i < M; i += 10_000) {
      const batch: StorageEvent[] = [];
      for (let j = i; j < i + 10_000; j++) batch.push(genEvent(j, t0us + Math.floor(j * step)));
      big.add(batch);
      big.flush();
    }
    out["generate_1m_seconds"] = Number(((performance.now() - t) / 1000).toFixed(1));
    out["db_1m_mib"] = Number(((statSync(path).size + (statSync(path + "-wal", { throwIfNoEntry: false })?.size ?? 0)) / 1048576).toFixed(1));
    const end = t0us + 30 * 86400e6;
    out["query_ms_newest_100"] = time(() => big.query({ order: "desc", limit: 100 }));
    out["query_ms_dev_limit_1000"] = time(() => big.query({ dev_name: ["sd417"], limit: 1000 }));
    out["query_ms_dev_newest_20"] = time(() => big.query({ dev_name: ["sd417"], order: "desc", limit: 20 }));
    out["query_ms_system_last_1h"] = time(() => big.query({ system: ["scsi"], since_us: end - 3600e6, limit: 1000 }));
    out["query_ms_type_sev_system_last_6h"] = time(() => big.query({ event_type: ["FS_ERROR"], severity: "error", system: ["fs", "scsi"], since_us: end - 6 * 3600e6, limit: 1000 }));
    out["query_ms_since_1d_page_1000"] = time(() => big.query({ since_us: end - 86400e6, limit: 1000 }));
    out["query_ms_keyset_page_mid"] = time(() => big.query({ since_us: t0us, after: { time_us: t0us + 15 * 86400e6, seq: 500_000 }, limit: 1000 }));
    out["query_ms_no_match_type"] = time(() => big.query({ event_type: ["NO_SUCH_TYPE"], limit: 1000 }));
    out["query_ms_severity_only_limit_1000"] = time(() => big.query({ severity: "error", order: "desc", limit: 1000 }));
    out["stats_ms"] = time(() => big.stats(), 5);

    // The same through the control API: HTTP over the unix socket, JSON encode and decode.
    const daemon = new FakeDaemon();
    daemon.services.provide(STORE_SERVICE, big);
    const sock = join(dir, "api.sock");
    const server = await startControlServer(daemon, { socketPath: sock, log: quietLog });
    const api = async (q: string, runs = 15) => {
      const ms: number[] = [];
      for (let i = 0; i <= runs; i++) {
        const t1 = performance.now();
        const r = await fetch(`http://localhost/v1/events?${q}`, { unix: sock } as RequestInit);
        await r.json();
        if (i) ms.push(performance.now() - t1);
      }
      return Number(median(ms).toFixed(3));
    };
    out["api_ms_newest_100"] = await api("order=desc&limit=100");
    out["api_ms_dev_limit_1000"] = await api("dev=sd417&limit=1000");
    out["api_ms_system_since_1h"] = await api(`system=scsi&since=${new Date(end / 1000 - 3600e3).toISOString()}`);
    await server.close();
    daemon.cleanup();
    big.close();

    // One retention pass over the 1M store (5000 oldest rows, then incremental vacuum).
    const prune = new EventStore({ path, maxAgeUs: 0, maxBytes: 1 << 20, pruneBatch: 5000 });
    t = performance.now();
    const n = prune.prune();
    out["retention_pass_ms_5000_rows"] = Number((performance.now() - t).toFixed(1));
    out["retention_pass_rows"] = n;
    prune.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
