// Reads what the running kernel logs, for parser tests against real kernel lines: open /dev/kmsg,
// drain it, do something, drain again; the second drain holds only records logged in between.
import { closeSync, constants, openSync, readSync } from "node:fs";

export class KmsgTap {
  private fd: number;
  private buf = Buffer.alloc(16384);

  constructor() {
    this.fd = openSync("/dev/kmsg", constants.O_RDONLY | constants.O_NONBLOCK);
    this.drain();
  }

  /** The raw records (one /dev/kmsg read each) logged since the last drain, as record text. */
  drain(): string {
    const out: string[] = [];
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") break;
        if (code === "EPIPE") continue; // ring overrun: the reader moves to the oldest record
        throw e;
      }
      if (n <= 0) break;
      out.push(this.buf.toString("utf8", 0, n));
    }
    return out.join("");
  }

  close(): void {
    closeSync(this.fd);
  }
}
