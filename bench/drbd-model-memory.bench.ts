// Memory of the DRBD model per object: bytes per resource, device, connection (with its path) and
// peer device, from the JS heap after a full GC over models of 10 000 resources in five shapes; and
// the peak RSS of the daemon's live pipeline (fresh process, [drbd] + [[umh]]) holding 10 000
// resources through their dump and two statistics rounds (goal: 10 000 resources in 128 MB).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { heapStats } from "bun:jsc";
import { decodeEvents2Text } from "../src/drbd/events2.ts";
import { DrbdModel } from "../src/drbd/model.ts";
import { initialDump, makeResource, statisticsRound } from "../test/drbd/cluster.ts";
import { cluster } from "./drbd-stream.ts";

const N = 10_000;
const root = join(import.meta.dir, "..");

function heapOf(volumes: number, peers: number): number {
  const peerNames = ["alpha", "beta"].slice(0, peers);
  const text = initialDump(Array.from({ length: N }, (_, i) => makeResource(`res${i}`, 1000 + i * 4, volumes, peerNames))).join("\n");
  Bun.gc(true);
  const h0 = heapStats().heapSize;
  const m = new DrbdModel();
  for (const r of decodeEvents2Text(text)) m.apply(r, () => {});
  Bun.gc(true);
  const h1 = heapStats().heapSize;
  if (m.resources().length !== N) throw new Error("model incomplete");
  return (h1 - h0) / N;
}

export default async function () {
  const a = heapOf(1, 0); // resource + device
  const b = heapOf(1, 1); // + connection (+ path) + peer device
  const c = heapOf(1, 2); // + connection + peer device
  const d = heapOf(2, 1); // b + device + peer device
  const e = heapOf(2, 2); // c + 2 devices' worth of peer devices
  const pd = e - c - (d - b);
  const dev = d - b - pd;
  const out: Record<string, number | string> = {
    bytes_per_resource: Math.round(a - dev),
    bytes_per_device: Math.round(dev),
    bytes_per_connection_with_path: Math.round(c - b - pd),
    bytes_per_peer_device: Math.round(pd),
    bytes_per_resource_1vol_2peers: Math.round(c),
  };
  // 10 000 resources in the live pipeline.
  const dir = mkdtempSync(join(tmpdir(), "storeventd-drbd-mem-"));
  try {
    const rs = cluster(N);
    const dump = initialDump(rs);
    writeFileSync(join(dir, "stream"), dump.join("\n") + "\n");
    writeFileSync(join(dir, "stats"), [...statisticsRound(rs, 1), ...statisticsRound(rs, 2)].join("\n") + "\n");
    const lines = dump.length * 3;
    const p = Bun.spawn([process.execPath, join(root, "test/drbd/live-child.ts"), dir, String(lines), "umh"], { stdout: "pipe", stderr: "inherit" });
    const r = JSON.parse(await new Response(p.stdout).text());
    await p.exited;
    out.live_10k_resources_lines = r.lines;
    out.live_10k_resources_rss_mib_after_start = Math.round(r.start_rss_kib / 1024);
    out.live_10k_resources_peak_rss_mib = Math.round(r.hwm_kib / 1024);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
