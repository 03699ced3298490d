// Child of bench/drbd.bench.ts: streams N generated events2 lines through a tokenizer and the DRBD
// model in a fresh process and reports its peak and final RSS (memory must stay flat as N grows).
// bun bench/drbd-rss.ts LINES ts|native
import { readFileSync } from "node:fs";
import { decodeEvents2Batch, tokenizeEvents2Line } from "../src/drbd/events2.ts";
import { DrbdModel } from "../src/drbd/model.ts";
import { nativeAddon } from "../src/native.ts";
import { stream } from "./drbd-stream.ts";

const lines = Number(process.argv[2] ?? 200_000);
const mode = process.argv[3] ?? "ts";
const model = new DrbdModel();
let events = 0;
const emit = () => void events++;
const addon = nativeAddon();
let chunk: string[] = [];
const flush = () => {
  const [bytes, ends, nums] = addon!.events2Tokenize!(Buffer.from(chunk.join("\n") + "\n"));
  decodeEvents2Batch(bytes, ends, nums, "drbd", (r) => model.apply(r, emit), () => {});
  chunk = [];
};
for (const l of stream(1000, lines)) {
  if (mode === "native") {
    chunk.push(l);
    if (chunk.length === 4096) flush();
  } else {
    model.apply(tokenizeEvents2Line(l)!, emit);
  }
}
if (mode === "native" && chunk.length) flush();
Bun.gc(true);
const status = readFileSync("/proc/self/status", "utf8");
const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(status)![1]);
console.log(JSON.stringify({ lines, events, resources: model.resources().length, hwm_kib: kib("VmHWM"), rss_kib: kib("VmRSS") }));
