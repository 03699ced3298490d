// Scenario 9: hostile config and hostile input. Every invalid config in testdata/invalid-config
// gives exit 2 naming file:line (the line each file's first comment states); then mutated fuzz
// seeds go through the running daemon (kmsg records via /dev/kmsg, events2 via the fake
// drbdsetup) and through `replay` (uevents too: netlink uevents cannot be forged from user space
// with the kernel as sender) for FAULTS_HOSTILE_SECONDS (default 20; the issue asks 60).
import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin } from "../helpers/bin.ts";
import { mutate, prng } from "./mutate.ts";
import { rssMiB, sampler, section, startRun, status, stopDaemon, withSysctls } from "./index.ts";
import { kmsgDaemonHeader } from "./daemon.ts";

const SECONDS = Number(process.env.FAULTS_HOSTILE_SECONDS ?? 20);
const SEED = Number(process.env.FAULTS_SEED ?? 20261207);
const root = join(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "faults20-hostile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const INVALID = join(import.meta.dir, "testdata/invalid-config");
const CRASH = /uncaught|unhandled|panic|Segmentation|SIGSEGV|SIGABRT|AddressSanitizer|\n\s+at \S+ \(/i;

const rep = section({
  n: 9, title: "Hostile config and hostile input",
  injects: `every file in test/faults/testdata/invalid-config (syntax errors, unknown keys and plugins, huge numbers, binary garbage, a 1 MiB line, 2000-deep nesting, bad durations and bounds) to check and run; ${SECONDS} s of mutated fuzz seeds (native/fuzz/seeds.ts, PRNG seed ${SEED}): kmsg records written to /dev/kmsg and events2 lines from the fake drbdsetup into the running daemon, and kmsg, uevent and events2 files through replay`,
  holds: [
    "each invalid config: exit 2 from check and from run, the message names file:line with the stated line",
    "the daemon stays up and answers status; no exception or crash text on stderr; RSS under 300 MiB",
    "replay of each mutated file exits 0 with no exception text",
  ],
});
rep.note(`Scaled down from the issue's 60 s to ${SECONDS} s for CI time (FAULTS_HOSTILE_SECONDS=60 for the full run).`);

test("invalid configs: exit 2 with file:line", async () => {
  const files = readdirSync(INVALID).filter((f) => f.endsWith(".toml")).sort();
  expect(files.length).toBeGreaterThanOrEqual(10);
  const bad: string[] = [];
  for (const f of files) {
    const path = join(INVALID, f);
    const line = /expect-line: (\d+)/.exec(readFileSync(path, "utf8").slice(0, 200))![1];
    for (const cmd of ["check", "run"]) {
      const r = await runBin([cmd, "-c", path], { timeoutMs: 10_000 });
      if (r.code !== 2 || !r.stderr.includes(`${path}:${line}`)) bad.push(`${cmd} ${f}: exit ${r.code}, ${r.stderr.slice(0, 200)}`);
    }
  }
  rep.figures["invalid configs"] = files.length;
  rep.figures["invalid configs without exit 2 + file:line"] = bad.length;
  expect(bad).toEqual([]);
}, 120_000);

const seeds = (target: string) => readdirSync(join(dir, "seeds", target)).map((f) => readFileSync(join(dir, "seeds", target, f)));

test(`hostile input for ${SECONDS} s through the daemon and replay`, async () => {
  await rep.run(async () => {
    expect(Bun.spawnSync([process.execPath, join(root, "native/fuzz/seeds.ts"), join(dir, "seeds")]).exitCode).toBe(0);
    const rnd = prng(SEED);
    const kmsgSeeds = seeds("kmsg_record");
    const e2Seeds = seeds("events2");
    const ueSeeds = seeds("uevent_parse");
    const fake = join(dir, "fake");
    mkdirSync(fake);
    const stream = () => Array.from({ length: 5000 }, () => mutate(e2Seeds, rnd).toString("latin1").replace(/\n/g, " ")).join("\n") + "\n";
    for (let k = 1; k <= 20; k++) writeFileSync(join(fake, `stream.${k}`), stream());
    writeFileSync(join(fake, "stream"), stream());
    writeFileSync(join(fake, "die-after"), "5000");
    const sock = join(dir, "control.sock");
    writeFileSync(join(dir, "c.toml"), `${kmsgDaemonHeader(dir, sock, { noFold: false })}
[drbd]
type = "sender"
path = "${join(root, "test/drbd/bin/drbdsetup")}"
restart-min = "50ms"

[events]
type = "receiver"
plugin = "file"
path = "${dir}/events.ndjson"
fsync = "never"
`);
    const d = await startRun(join(dir, "c.toml"), { FAKE_DRBDSETUP_DIR: fake });
    const rss = sampler(() => rssMiB(d.proc.pid), 100);
    let kmsgWritten = 0;
    let replays = 0;
    const replayBad: string[] = [];
    try {
      await withSysctls({ "kernel.printk_devkmsg": "on", "kernel.printk": "1 4 1 7" }, async () => {
        const until = performance.now() + SECONDS * 1000;
        const fd = openSync("/dev/kmsg", "w");
        try {
          while (performance.now() < until) {
            for (let i = 0; i < 200; i++) {
              try {
                writeSync(fd, mutate(kmsgSeeds, rnd));
                kmsgWritten++;
              } catch {} // the kernel refuses some (EINVAL for an empty write)
            }
            // one replay of each kind per round, in turn
            const kind = (["kmsg", "uevent", "events2"] as const)[replays % 3]!;
            const src = kind === "kmsg" ? kmsgSeeds : kind === "uevent" ? ueSeeds : e2Seeds;
            const file = join(dir, `replay.${kind}`);
            writeFileSync(file, Buffer.concat(Array.from({ length: 300 }, () => Buffer.concat([mutate(src, rnd), Buffer.from(kind === "uevent" ? "\n\n" : "\n")]))));
            const r = await runBin(["replay", `--${kind}`, file, "--json"], { timeoutMs: 20_000 });
            replays++;
            if (r.code !== 0 || CRASH.test(r.stderr)) {
              replayBad.push(`${kind}: exit ${r.code} ${r.stderr.slice(0, 300)}`);
              writeFileSync(join(dir, `bad-${replays}.${kind}`), readFileSync(file));
            }
            await Bun.sleep(20);
          }
        } finally {
          closeSync(fd);
        }
      });
      const st = await status(sock);
      const peak = Math.max(...rss.stop());
      const runs = Number(readFileSync(join(fake, "runs"), "utf8"));
      Object.assign(rep.figures, {
        "kmsg records written": kmsgWritten, "events2 lines sent (fake drbdsetup runs x 5000)": runs * 5000, "drbdsetup runs": runs,
        "replays": replays, "replays failed": replayBad.length, "daemon instances": (st.instances as unknown[]).length,
        "peak RSS MiB": peak.toFixed(1), "crash text on daemon stderr": CRASH.test(d.stderr()) ? "yes" : "no",
      });
      if (replayBad.length) rep.note(`first failed replay: ${replayBad[0]}`);
      expect(d.proc.exitCode).toBeNull();
      expect(d.stderr()).not.toMatch(CRASH);
      expect(peak).toBeLessThan(300);
      expect(replayBad.slice(0, 3)).toEqual([]);
    } finally {
      await stopDaemon(d, 4000);
    }
  });
}, SECONDS * 1000 + 120_000);
