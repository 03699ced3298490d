// `storeventd monitor --multicast GROUP`: joins a multicast group and yields the events that the
// multicast receivers of storage hosts send (one JSON datagram each). Pure transport: no printing.
import { dgramLib } from "../util/lazy-builtins.ts";
import type { StorageEvent } from "../event.ts";
import { parseGroup } from "../util/multicast-group.ts";

export interface SubscribeOptions {
  /** IPv4: the address of the local interface to join on; IPv6: the interface name (eth0). */
  interface?: string;
  signal?: AbortSignal;
  /** Datagrams that are not an event (counted by the caller, e.g. "bad datagram"). */
  onBad?: (reason: string, from: string) => void;
  /** Events waiting for the consumer beyond this are dropped and reported through onBad. */
  maxBuffered?: number;
  /** Called once the group is joined (before the first event). */
  onReady?: () => void;
  /** Kernel receive buffer; large so bursts are not lost while the consumer runs. */
  recvBufferSize?: number;
}

/** Throws on a bad group or when the socket cannot bind/join; then yields events until signal aborts. */
export async function* subscribe(group: string, opts: SubscribeOptions = {}): AsyncGenerator<StorageEvent> {
  const g = parseGroup(group);
  if (typeof g === "string") throw new Error(`bad multicast group: ${g}`);
  const sock = dgramLib().createSocket({ type: g.family === 4 ? "udp4" : "udp6", reuseAddr: true });
  const max = opts.maxBuffered ?? 100_000;
  let queue: StorageEvent[] = [];
  let head = 0;
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  sock.on("message", (buf, rinfo) => {
    const from = `${rinfo.address}:${rinfo.port}`;
    let e: unknown;
    try {
      e = JSON.parse(buf.toString("utf8"));
    } catch {
      opts.onBad?.("not JSON", from);
      return;
    }
    if (!e || typeof e !== "object" || typeof (e as StorageEvent).event_type !== "string") {
      opts.onBad?.("not an event", from);
      return;
    }
    if (queue.length - head >= max) {
      opts.onBad?.("consumer too slow, dropped", from);
      return;
    }
    queue.push(e as StorageEvent);
    notify();
  });
  sock.on("error", (err) => {
    failure = err;
    notify();
  });
  const onAbort = () => notify();
  opts.signal?.addEventListener("abort", onAbort);
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(g.port, g.family === 4 ? "0.0.0.0" : "::", () => {
        sock.off("error", reject);
        resolve();
      });
    });
    const iface = opts.interface === undefined ? undefined : g.family === 6 ? `::%${opts.interface}` : opts.interface;
    sock.addMembership(g.address, iface);
    try {
      sock.setRecvBufferSize(opts.recvBufferSize ?? 8 << 20);
    } catch {
      // Capped by net.core.rmem_max; a smaller buffer still works.
    }
    opts.onReady?.();
    while (!opts.signal?.aborted) {
      if (head < queue.length) {
        const e = queue[head++]!;
        if (head === queue.length) {
          queue = [];
          head = 0;
        }
        yield e;
        continue;
      }
      if (failure) throw failure;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    sock.close();
  }
}
