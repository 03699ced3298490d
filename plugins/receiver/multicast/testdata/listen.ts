// Test listener, run inside the test's network namespace:
//   bun listen.ts GROUP COUNT TIMEOUT_MS [INTERFACE]
// Prints "ready" once joined, then {received, unique, seqs_missing, bad, truncated, max_bytes} as
// JSON when COUNT events arrived or the timeout passed.
import { subscribe } from "../../../../src/plugin-kit/multicast.ts";

const [group, countS, timeoutS, iface] = process.argv.slice(2);
const count = Number(countS);
const abort = new AbortController();
let timer: ReturnType<typeof setTimeout> | undefined;
const seen = new Set<number>();
let received = 0;
let bad = 0;
let truncated = 0;
let maxBytes = 0;
for await (const e of subscribe(group!, {
  interface: iface || undefined,
  signal: abort.signal,
  onBad: () => void bad++,
  onReady: () => {
    console.log("ready");
    timer = setTimeout(() => abort.abort(), Number(timeoutS));
  },
})) {
  received++;
  maxBytes = Math.max(maxBytes, Buffer.byteLength(JSON.stringify(e)));
  if (e.extension.truncated === true && e.raw === "" && e.msg.length > 0) truncated++;
  if (typeof e.extension.seq === "number") seen.add(e.extension.seq);
  if (seen.size >= count) break;
}
clearTimeout(timer);
let missing = 0;
for (let i = 0; i < count; i++) if (!seen.has(i)) missing++;
console.log(JSON.stringify({ received, unique: seen.size, seqs_missing: missing, bad, truncated, max_bytes: maxBytes }));
process.exit(0);
