// Memory of the DRBD model: bytes per resource in five shapes (volumes x peers) and what one more
// connection or volume adds, from the JS heap after full collections over models of 10 000
// resources (each shape in a fresh process); and
// the peak RSS of the daemon's live pipeline (fresh process, [drbd] + [[umh]]) holding 10 000
// resources through their dump and two statistics rounds (goal: 10 000 resources in 128 MB).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initialDump, statisticsRound } from "../test/helpers/drbd-cluster.ts";
import { cluster } from "./drbd-stream.ts";

const N = 10_000;
const root = join(import.meta.dir, "..");

function heapOf(volumes: number, peers: number): number {
  const r = Bun.spawnSync([process.execPath, join(import.meta.dir, "drbd-model-heap.ts"), String(N), String(volumes), String(peers)]);
  return JSON.parse(r.stdout.toString()).bytes / N;
}

export default async function () {
  const a = heapOf(1, 0);
  const b = heapOf(1, 1);
  const c = heapOf(1, 2);
  const d = heapOf(2, 1);
  const e = heapOf(2, 2);
  const out: Record<string, number | string> = {
    bytes_per_resource_1_volume_no_peer: Math.round(a),
    bytes_per_resource_1_volume_1_peer: Math.round(b),
    bytes_per_resource_1_volume_2_peers: Math.round(c),
    bytes_per_resource_2_volumes_1_peer: Math.round(d),
    bytes_per_resource_2_volumes_2_peers: Math.round(e),
    // A connection with its path, its peer device and their maps; a volume's device and peer device.
    bytes_per_added_connection: Math.round(c - b),
    bytes_per_added_volume: Math.round((d - b + e - c) / 2),
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
