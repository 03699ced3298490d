// Scenario 7's crowd, run as its own process (control-abuse.test.ts spawns it) so that holding 1000
// connections and dripping slowloris bytes does not share an event loop with the status prober.
// Usage: bun control-crowd.ts <socket> <connections> <waitMs>
// Even-numbered connections stay silent; odd ones drip a request header one byte every 200 ms. Prints
// "open <t0>" once all are connected, then, when the daemon has closed them all (or waitMs after
// that), one JSON line: each connection's close time (ms since the epoch, null if still open) and
// the first line of whatever the slowloris ones got back.
import net from "node:net";

const [sock, connsArg, waitArg] = process.argv.slice(2);
const CONNS = Number(connsArg);
const at = () => performance.timeOrigin + performance.now();

const connect = () => new Promise<net.Socket>((resolve, reject) => {
  const s = net.connect(sock!);
  s.once("connect", () => resolve(s)).once("error", reject);
  s.on("error", () => {});
});

const t0 = at();
const closedAt: (number | null)[] = new Array(CONNS).fill(null);
const answers: string[] = [];
const crowd: net.Socket[] = [];
for (let i = 0; i < CONNS; i++) {
  const s = await connect();
  s.once("close", () => (closedAt[i] = at()));
  if (i % 2 === 1) s.on("data", (b) => answers.push(b.toString().split("\r\n")[0]!));
  crowd.push(s);
}
const slow = crowd.filter((_, i) => i % 2 === 1);
const header = "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(200);
let pos = 0;
// the slowloris ones keep dripping until the daemon closes them
const drip = setInterval(() => { for (const s of slow) if (!s.destroyed) s.write(header[pos % header.length]!); pos++; }, 200);
console.log(`open ${t0}`);
// Nobody closes the crowd but the daemon.
const until = performance.now() + Number(waitArg);
while (closedAt.some((x) => x === null) && performance.now() < until) await Bun.sleep(200);
clearInterval(drip);
console.log(JSON.stringify({ t0, closedAt, answers }));
process.exit(0);
