// Scenario 7's body abuser, run as its own process (control-abuse.test.ts spawns it) so that pushing
// 1 GB through a socket does not share an event loop with the status prober: a late probe is then
// the daemon's delay, not the test's own. Usage: bun control-abuser.ts <socket> <minMs>
// Each kind of body (Content-Length, then chunked) is sent again and again for at least minMs:
// the daemon answers on the header and hangs up, so one attempt alone lasts a few ms, too short for
// status probes to land in it. Prints one JSON line: per kind the answers' first lines, the MiB
// sent, the attempts and its start and end (ms since the epoch, to line up with the prober's).
import net from "node:net";

const sock = process.argv[2]!;
const minMs = Number(process.argv[3] ?? 1000);
const at = () => performance.timeOrigin + performance.now();
const GB = 1 << 30;

/** One request: the header, a moment for an answer on the header alone (a server that answers so
 * closes before the body, and the client's next write would get EPIPE and lose the answer), then
 * the body as fast as the socket takes it, on past the answer, until the daemon hangs up. */
async function attempt(head: string, piece: Buffer, pieces: number): Promise<{ reply: string; sent: number }> {
  const s = net.connect(sock);
  let reply = "";
  s.on("data", (x) => (reply += x.toString()));
  s.on("error", () => {});
  s.write(head);
  for (let i = 0; i < 10 && !reply && !s.destroyed; i++) await Bun.sleep(50);
  let sent = 0;
  const t0 = performance.now();
  while (sent < pieces && !s.destroyed && !s.writableEnded && performance.now() - t0 < 60_000) {
    if (!s.write(piece)) await new Promise((r) => { s.once("drain", r); s.once("close", r); });
    sent++;
  }
  for (let i = 0; i < 40 && !reply && !s.destroyed; i++) await Bun.sleep(50);
  s.destroy();
  return { reply, sent };
}

async function kind(head: string, piece: Buffer, pieces: number) {
  const start = at();
  const replies: string[] = [];
  let mib = 0;
  do {
    const r = await attempt(head, piece, pieces);
    replies.push(r.reply.split("\r\n")[0] || "(none; connection closed)");
    mib += (r.sent * piece.length) / 2 ** 20;
  } while (at() - start < minMs);
  return { replies, mib, attempts: replies.length, start, end: at() };
}

const length = await kind(`POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: ${GB}\r\n\r\n`, Buffer.alloc(1 << 20), 1024);
// the same 1 GB chunked (no length for a size limit to catch)
const piece = Buffer.concat([Buffer.from((1 << 20).toString(16) + "\r\n"), Buffer.alloc(1 << 20, 97), Buffer.from("\r\n")]);
const chunked = await kind("POST /v1/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", piece, 1024);
console.log(JSON.stringify({ length, chunked }));
process.exit(0);
