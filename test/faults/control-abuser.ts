// Scenario 7's body abuser, run as its own process (control-abuse.test.ts spawns it) so that pushing
// 1 GB through a socket does not share an event loop with the status prober: a late probe is then
// the daemon's delay, not the test's own. Usage: bun control-abuser.ts <socket>
// Prints one JSON line with the answers, the bytes sent and stage times (ms since the epoch, from
// performance.timeOrigin + now, to line up with the prober's).
import net from "node:net";

const sock = process.argv[2]!;
const at = () => performance.timeOrigin + performance.now();
const stages: Record<string, number> = {};
const GB = 1 << 30;

function open(head: string): { s: net.Socket; reply: () => string } {
  const s = net.connect(sock);
  let reply = "";
  s.on("data", (x) => (reply += x.toString()));
  s.on("error", () => {});
  s.write(head);
  return { s, reply: () => reply };
}

const writeAll = (s: net.Socket, b: Buffer) =>
  s.write(b) ? Promise.resolve() : new Promise((r) => { s.once("drain", r); s.once("close", r); });

// 1 GB with a Content-Length on a route that takes a body
stages.lengthStart = at();
const big = open(`POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: ${GB}\r\n\r\n`);
// a server that answers on the header alone closes before the body: the next write would get
// EPIPE and lose the answer, so give it a moment first
for (let i = 0; i < 10 && !big.reply() && !big.s.destroyed; i++) await Bun.sleep(50);
const chunk = Buffer.alloc(1 << 20);
let sent = 0;
const t0 = performance.now();
while (sent < GB && !big.s.destroyed && !big.reply() && performance.now() - t0 < 60_000) {
  await writeAll(big.s, chunk);
  sent += chunk.length;
  if (sent === 1 << 20) stages.lengthFirstMiB = at();
}
for (let i = 0; i < 40 && !big.reply() && !big.s.destroyed; i++) await Bun.sleep(50);
stages.lengthEnd = at();
big.s.destroy();

// the same 1 GB chunked (no length for a size limit to catch)
stages.chunkedStart = at();
const ch = open("POST /v1/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
for (let i = 0; i < 10 && !ch.reply() && !ch.s.destroyed; i++) await Bun.sleep(50);
const piece = Buffer.concat([Buffer.from((1 << 20).toString(16) + "\r\n"), Buffer.alloc(1 << 20, 97), Buffer.from("\r\n")]);
let chSent = 0;
const t1 = performance.now();
while (chSent < 1024 && !ch.s.destroyed && !ch.reply() && performance.now() - t1 < 20_000) {
  await writeAll(ch.s, piece);
  chSent++;
  if (chSent === 1) stages.chunkedFirstMiB = at();
}
await Bun.sleep(200);
stages.chunkedEnd = at();
ch.s.destroy();

console.log(JSON.stringify({ sent, bigReply: big.reply(), chSent, chReply: ch.reply(), stages }));
process.exit(0);
