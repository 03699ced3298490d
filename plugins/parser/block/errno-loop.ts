// Test support: a loop device over errno-fs.py (a FUSE file whose blocks fail with chosen errnos),
// so the running kernel logs real block errors for a device this test owns.
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";

export function sh(cmd: string[], allowFail = false): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0 && !allowFail) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

/**
 * blk_print_req_error is printk_ratelimited: 10 lines per 5 s per call site. A phase that waits
 * this long first gets all its lines (at most 10) into the log.
 */
export const freshRatelimitWindow = () => Bun.sleep(5200);

/** Reads of 4 KiB block N fail with: ENODATA, ETIMEDOUT, EREMOTEIO, ENOLINK, EILSEQ, EIO (errno-fs.py). */
export const READ_ERRNO_BLOCKS = 6;

export interface ErrnoLoop {
  /** /dev/loopN */
  path: string;
  /** loopN */
  dev: string;
  readBlock(block: number): void;
  writeBlock(block: number): void;
  cleanup(): void;
}

export async function errnoLoop(): Promise<ErrnoLoop> {
  const mnt = mkdtempSync("/tmp/storeventd-blk-errnofs-");
  const undo: (() => void)[] = [() => rmSync(mnt, { recursive: true, force: true })];
  const cleanup = () => {
    for (const f of undo.splice(0).reverse()) f();
  };
  try {
    const server = Bun.spawn(["python3", join(import.meta.dir, "errno-fs.py"), mnt], { stdout: "pipe", stderr: "inherit" });
    undo.push(() => server.kill());
    undo.push(() => sh(["umount", "-l", mnt], true));
    const reader = server.stdout.getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`errno-fs.py exited: ${out}`);
      out += new TextDecoder().decode(value);
    }
    if (out !== "ready\n") throw new Error(`errno-fs.py: ${out}`);
    const path = sh(["losetup", "-f", "--show", join(mnt, "disk.img")]);
    undo.push(() => sh(["losetup", "-d", path], true));
    const dd = (args: string[]) => sh(["dd", ...args, "bs=4096", "count=1"], true);
    return {
      path, dev: path.replace("/dev/", ""), cleanup,
      readBlock: (b) => void dd([`if=${path}`, "of=/dev/null", `skip=${b}`, "iflag=direct"]),
      writeBlock: (b) => void dd(["if=/dev/zero", `of=${path}`, `seek=${b}`, "oflag=direct"]),
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}
