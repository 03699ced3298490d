// Text to stdout or stderr without process.stdout/process.stderr: creating those streams loads
// node:stream, several ms of every start (the daemon's first log line, `storeventd version`).
// Writes are synchronous (nothing queued in memory is lost on a crash) until the fd refuses one
// (EAGAIN on a non-blocking pipe, a partial write, an error) or the owner asks for the stream
// (the daemon at READY: a blocking write to a stalled journald must never stop its event loop);
// from then on the process's stream takes every write, so the order of the text is kept.
import { writeSync } from "node:fs";

export interface FdWriter {
  (text: string): void;
  /** From now on, every write goes through the process's stream (queued, never blocking). */
  useStream(): void;
}

export function fdWriter(fd: 1 | 2): FdWriter {
  let stream: NodeJS.WriteStream | undefined;
  const fallback = () => (stream ??= fd === 1 ? process.stdout : process.stderr);
  const write = (text: string) => {
    if (stream) return void stream.write(text);
    const b = Buffer.from(text);
    let n = 0;
    try {
      n = writeSync(fd, b);
    } catch {
      n = 0;
    }
    if (n < b.length) fallback().write(b.subarray(n));
  };
  return Object.assign(write, { useStream: () => void fallback() });
}

/** Shared by the daemon's log and the commands' output, so that lines on one fd keep their order. */
export const writeStdout = fdWriter(1);
export const writeStderr = fdWriter(2);
