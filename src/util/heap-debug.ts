// Debug only: with STOREVENTD_HEAP_STATS=<path prefix> set, SIGUSR2 makes the daemon collect
// garbage and write JSC's heap statistics (object counts per type) to <prefix>.<n>.json, so a soak
// can diff two points in time and see what grows; with STOREVENTD_HEAP_SNAPSHOT=1 also a V8-format
// heap snapshot (<prefix>.<n>.heapsnapshot) to see what holds it. Unset (always, in production) it
// does nothing.
import { heapStats } from "bun:jsc";

/** Installs the SIGUSR2 hook when the env var is set; returns the uninstaller. */
export function installHeapDebug(env = process.env): () => void {
  const prefix = env.STOREVENTD_HEAP_STATS;
  if (!prefix) return () => {};
  let n = 0;
  const onUsr2 = () => {
    Bun.gc(true);
    const s = heapStats();
    const out = {
      at: new Date().toISOString(), rss: process.memoryUsage().rss, heapSize: s.heapSize, heapCapacity: s.heapCapacity,
      extraMemorySize: s.extraMemorySize, objectCount: s.objectCount, objectTypeCounts: s.objectTypeCounts, protectedObjectTypeCounts: s.protectedObjectTypeCounts,
    };
    if (env.STOREVENTD_HEAP_SNAPSHOT === "1") void Bun.write(`${prefix}.${n}.heapsnapshot`, Bun.generateHeapSnapshot("v8"));
    void Bun.write(`${prefix}.${n++}.json`, JSON.stringify(out, null, 1));
  };
  process.on("SIGUSR2", onUsr2);
  return () => process.off("SIGUSR2", onUsr2);
}
