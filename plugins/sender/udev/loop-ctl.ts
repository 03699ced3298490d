// Test helpers: loop devices of our own through /dev/loop-control (LOOP_CTL_ADD/REMOVE ioctls,
// done by python3's fcntl.ioctl) and a checked command runner.
export const LOOP_CTL_ADD = 0x4c80;
export const LOOP_CTL_REMOVE = 0x4c81;

export function sh(cmd: string[], stdin?: string): string {
  const r = Bun.spawnSync(cmd, { stderr: "pipe", stdin: stdin === undefined ? undefined : new TextEncoder().encode(stdin) });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
}

export const have = (cmd: string) => Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;

/** LOOP_CTL_ADD / LOOP_CTL_REMOVE on /dev/loop-control: the kernel's answer or -errno. */
export function loopCtl(op: number, n: number): number {
  const py = "import fcntl,os,sys\nfd=os.open('/dev/loop-control',os.O_RDWR)\n" +
    "try: print(fcntl.ioctl(fd,int(sys.argv[1]),int(sys.argv[2])))\nexcept OSError as e: print(-e.errno)";
  return Number(sh(["python3", "-c", py, String(op), String(n)]));
}

/** Creates /dev/loopN for a random N in [lo, lo+span) that nobody else uses; -1 if none. */
export function addOwnLoop(lo = 400, span = 500): number {
  for (let tries = 0; tries < 20; tries++) {
    const want = lo + Math.floor(Math.random() * span);
    if (loopCtl(LOOP_CTL_ADD, want) === want) return want;
  }
  return -1;
}
