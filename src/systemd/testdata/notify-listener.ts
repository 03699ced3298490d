// Test helper: python3 plays the service manager's end of $NOTIFY_SOCKET (notify_listen.py).
import { join } from "node:path";

export interface Datagram { pid: number; data: string }

export interface NotifyListener {
  /** Datagrams so far. */
  readonly got: Datagram[];
  /** Resolves when a datagram matching `pred` arrived, rejects after `ms`. */
  waitFor(pred: (d: Datagram) => boolean, ms?: number): Promise<Datagram>;
  /** Waits for the listener to exit (after `count` datagrams or `idle` seconds) and returns all. */
  received(): Promise<Datagram[]>;
  kill(): void;
}

/** Binds `path` ('@name' = abstract); exits after `count` datagrams or `idleS` quiet seconds. */
export async function listenNotify(path: string, count: number, idleS = 3): Promise<NotifyListener> {
  const proc = Bun.spawn(["python3", join(import.meta.dir, "notify_listen.py"), path, String(count), String(idleS)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const got: Datagram[] = [];
  let bound = false;
  const pump = (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += dec.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === "bound") bound = true;
        else got.push(JSON.parse(line) as Datagram);
      }
    }
  })();
  while (!bound) {
    if (proc.exitCode !== null) throw new Error("notify listener exited before binding");
    await Bun.sleep(10);
  }
  return {
    got,
    async waitFor(pred, ms = 10_000) {
      const end = Date.now() + ms;
      for (;;) {
        const d = got.find(pred);
        if (d) return d;
        if (Date.now() > end || proc.exitCode !== null) throw new Error(`no matching notification; got ${JSON.stringify(got)}`);
        await Bun.sleep(20);
      }
    },
    async received() {
      await proc.exited;
      await pump;
      return got;
    },
    kill: () => proc.kill(),
  };
}
