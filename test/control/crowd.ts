// Starts follow-clients.ts (a crowd of follow clients in its own process) and keeps its latest
// progress report up to date.
import { join } from "node:path";

export interface CrowdProgress {
  done: boolean;
  min: number;
  max: number;
  closedIdle: number;
  dup: number;
  unordered: number;
  orders: number;
}

export function startCrowd(sock: string, readers: number, idle: number, expected: number, seqRegex?: string, query?: string) {
  const args = [sock, String(readers), String(idle), String(expected), ...(seqRegex ? [seqRegex] : []), ...(query ? [query] : [])];
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "follow-clients.ts"), ...args], { stdout: "pipe", stderr: "inherit" });
  const progress: CrowdProgress = { done: false, min: 0, max: 0, closedIdle: 0, dup: 0, unordered: 0, orders: 0 };
  const pumped = (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += dec.decode(chunk);
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) if (l) Object.assign(progress, JSON.parse(l));
    }
  })();
  return { proc, progress, exited: async () => { await proc.exited; await pumped; } };
}
