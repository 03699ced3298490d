// A crowd of follow clients in their own process (so the daemon's RSS is measured alone):
//   bun follow-clients.ts SOCKET READERS IDLE EXPECTED [SEQ_REGEX [QUERY]]
// READERS clients read /v1/events?follow=1[&QUERY] and count events; IDLE clients send the request
// and never read. Prints a JSON progress line every 50 ms ({min, max, closedIdle, bad}) and a final
// {done: true, ...} when every reader has EXPECTED events. SEQ_REGEX captures each event's number
// (default: extension.n, the last key, from 1): `dup` counts numbers a reader got twice,
// `unordered` numbers not one more than the previous, `orders` the distinct sequences the readers saw.
import { connect, type Socket } from "node:net";

const [socketPath, readersArg, idleArg, expectedArg, seqArg, queryArg] = process.argv.slice(2);
const readers = Number(readersArg), idle = Number(idleArg), expected = Number(expectedArg);
const seqRe = new RegExp(seqArg ?? '"n":(\\d+)\\}');
const req = `GET /v1/events?follow=1${queryArg ? "&" + queryArg : ""} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
const counts: number[] = [];
const lastN: number[] = [];
const seen: Uint8Array[] = [];
const orderHash: number[] = [];
let dup = 0;
let unordered = 0;
let closedIdle = 0;
const sockets: Socket[] = [];

for (let i = 0; i < readers + idle; i++) {
  const s = connect(socketPath!);
  sockets.push(s);
  if (i >= readers) {
    s.on("connect", () => { s.write(req); s.pause(); });
    s.on("close", () => closedIdle++);
    s.on("error", () => {});
    continue;
  }
  counts[i] = 0;
  lastN[i] = 0;
  seen[i] = new Uint8Array(expected + 2);
  orderHash[i] = 0;
  let header = true;
  let buf = "";
  s.setEncoding("utf8");
  s.on("connect", () => s.write(req));
  s.on("error", () => {});
  s.on("data", (d: string) => {
    buf += d;
    if (header) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      buf = buf.slice(end + 4);
      header = false;
    }
    // Chunked transfer encoding: events are whole lines inside; chunk size lines are hex only.
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = seqRe.exec(line);
      if (!m) continue;
      const n = Number(m[1]);
      if (n !== lastN[i]! + 1) unordered++;
      if (seen[i]![n]) dup++;
      seen[i]![n] = 1;
      orderHash[i] = (Math.imul(orderHash[i]!, 31) + n) | 0;
      lastN[i] = n;
      counts[i]!++;
    }
  });
}

const report = (done: boolean) => {
  const c = counts.length ? counts : [0];
  const orders = new Set(orderHash).size;
  console.log(JSON.stringify({ done, min: Math.min(...c), max: Math.max(...c), closedIdle, dup, unordered, orders }));
};
const timer = setInterval(() => {
  const done = counts.every((c) => c >= expected);
  report(done);
  if (done) {
    clearInterval(timer);
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
}, 50);
