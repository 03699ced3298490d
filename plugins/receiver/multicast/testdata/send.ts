// Test sender, run inside the test's network namespace:
//   bun send.ts GROUP COUNT RATE_PER_S [INTERFACE] [BIG_EVERY]
// Sends COUNT events through the multicast receiver at RATE events/s (batches every 10 ms) and
// prints {sent, errors, truncated, ms} as JSON.
import * as v from "valibot";
import plugin from "../index.ts";
import { makeEvent, receiverContext } from "../../../../test/helpers/receiver.ts";

const [group, countS, rateS, iface, bigEveryS] = process.argv.slice(2);
const count = Number(countS);
const rate = Number(rateS);
const bigEvery = Number(bigEveryS ?? 0);
const { ctx, rec } = receiverContext();
const opts = v.parse(plugin.schema, { group, ...(iface ? { interface: iface } : {}) });
const r = await plugin.create(opts, ctx);
await r.start?.();
// JUNK=N: first N datagrams that are not events (half not JSON, half JSON of something else).
const junk = Number(process.env.JUNK ?? 0);
if (junk > 0) {
  const dgram = await import("node:dgram");
  const m = /^\[?(.+?)\]?:(\d+)$/.exec(group!)!;
  const s = dgram.createSocket(m[1]!.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((r) => s.bind(0, () => r()));
  if (iface) s.setMulticastInterface(m[1]!.includes(":") ? `::%${iface}` : iface);
  for (let i = 0; i < junk; i++) {
    const body = i % 2 ? Buffer.from([0xff, 0xfe, 0x00, 0x7b]) : Buffer.from(JSON.stringify({ hello: i }));
    await new Promise<void>((r) => s.send(body, Number(m[2]), m[1]!, () => r()));
  }
  s.close();
}
const perTick = Math.max(1, Math.round(rate / 100));
const t0 = performance.now();
let n = 0;
while (n < count) {
  const batch = [];
  for (let i = 0; i < perTick && n < count; i++, n++) {
    const big = bigEvery > 0 && n % bigEvery === bigEvery - 1;
    batch.push(makeEvent({ extension: { seq: n }, ...(big ? { raw: "R".repeat(100_000) } : {}) }));
  }
  await r.send(batch);
  const due = t0 + (n / rate) * 1000;
  const wait = due - performance.now();
  if (wait > 0) await Bun.sleep(wait);
}
await r.close?.();
const c = Object.fromEntries(rec.counts);
console.log(JSON.stringify({ sent: c.sent ?? 0, errors: c.errors ?? 0, truncated: c.truncated ?? 0, ms: Math.round(performance.now() - t0) }));
