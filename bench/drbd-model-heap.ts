// Child of bench/drbd-model-memory.bench.ts: the JS heap (live cells) a DrbdModel of N resources of one shape
// takes, after full collections, in a fresh process. bun bench/drbd-model-heap.ts N VOLUMES PEERS
import { heapStats } from "bun:jsc";
import { decodeEvents2Text } from "../src/drbd/events2.ts";
import { DrbdModel } from "../src/drbd/model.ts";
import { initialDump, makeResource } from "../test/helpers/drbd-cluster.ts";

const [n, volumes, peers] = process.argv.slice(2).map(Number) as [number, number, number];
const names = ["alpha", "beta"].slice(0, peers);
const lines = initialDump(Array.from({ length: n }, (_, i) => makeResource(`res${i}`, 1000 + i * 4, volumes, names)));
const settle = () => {
  for (let i = 0; i < 3; i++) Bun.gc(true);
  return heapStats().heapSize;
};
const h0 = settle();
const m = new DrbdModel();
// Line by line: no decoded text outlives its record.
for (const l of lines) for (const r of decodeEvents2Text(l)) m.apply(r, () => {});
const h1 = settle();
if (m.resources().length !== n) throw new Error("model incomplete");
// `lines` is used after h1 so it is alive at both measurements.
console.log(JSON.stringify({ bytes: h1 - h0, lines: lines.length }));
