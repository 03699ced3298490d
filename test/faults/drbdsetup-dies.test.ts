// Scenario 2: drbdsetup dies FAULTS_DRBD_RESTARTS times (default 100) at random points - mid-dump,
// mid-line, after its changes (clean exit 0), SIGKILL while it idles between `n` statistics polls -
// and every invocation dumps a different resource set. After each complete dump the daemon's
// model must equal a fresh model of that invocation's output (`replay --events2 --model`); over the
// whole run, the DRBD events must be exactly those of the real differences (built by the test
// from the states it generated) plus each invocation's changes.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin } from "../helpers/bin.ts";
import { waitFor } from "../helpers/wait.ts";
import { changes, clone, diffLines, dumpLines, randomState, type State } from "./drbd-streams.ts";
import { prng } from "./mutate.ts";
import { section, startRun, stopDaemon } from "./index.ts";

const K = Number(process.env.FAULTS_DRBD_RESTARTS ?? 100);
const SEED = Number(process.env.FAULTS_SEED ?? 20261207);
const root = join(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "faults20-drbd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fake = join(dir, "fake");
const sock = join(dir, "control.sock");
type Mode = "mid-dump" | "mid-line" | "clean-exit" | "sigkill";
const MODES: Mode[] = ["mid-dump", "mid-line", "clean-exit", "sigkill"];

const rep = section({
  n: 2, title: "drbdsetup dies repeatedly",
  injects: `${K} drbdsetup invocations (fake drbdsetup, restart-min 20 ms, restart-max 100 ms, statistics polls every 50 ms), each dumping a different random set of resources then a few changes, ending by a random one of: death mid-dump (exit 1), death mid-line, clean exit 0 after its output, SIGKILL while idle between polls`,
  holds: [
    "after each complete dump the daemon's DRBD model (status drbd) equals `replay --events2 --model` of that invocation's output",
    "the DRBD events of the whole run (DRBD_EVENTS_RESTARTED aside) are exactly the events of the real differences between consecutive complete states plus each invocation's own changes (as multisets of type and message)",
    "the daemon stays up",
  ],
});
rep.note(`PRNG seed ${SEED} (FAULTS_SEED); FAULTS_DRBD_RESTARTS sets the count.`);

test(`drbdsetup dies ${K} times at random points; model and events follow the real differences`, async () => {
  await rep.run(async () => {
    const rnd = prng(SEED);
    mkdirSync(fake);
    const plan: { mode: Mode; printed: string[]; complete: boolean; dump: State; final: State }[] = [];
    for (let k = 1; k <= K + 1; k++) {
      const dump = randomState(rnd);
      const final = clone(dump);
      const lines = [...dumpLines(dump), ...changes(final, rnd, 1 + Math.floor(rnd() * 3))];
      const mode: Mode = k === K + 1 ? "sigkill" : MODES[Math.floor(rnd() * MODES.length)]!;
      const dumpLen = dump.size * 2 + 1;
      let printed = lines;
      let text = lines.join("\n") + "\n";
      if (mode === "mid-dump") {
        const n = Math.floor(rnd() * dumpLen); // stops before "exists -"
        printed = lines.slice(0, n);
        writeFileSync(join(fake, `die-after.${k}`), String(n));
      } else if (mode === "mid-line") {
        const cut = lines.at(-1)!;
        printed = lines.slice(0, -1);
        text = printed.join("\n") + "\n" + cut.slice(0, Math.floor(cut.length / 2));
        writeFileSync(join(fake, `die-after.${k}`), String(lines.length + 1));
      } else if (mode === "clean-exit") {
        writeFileSync(join(fake, `die-after.${k}`), String(lines.length));
        writeFileSync(join(fake, `exit-code.${k}`), "0");
      }
      writeFileSync(join(fake, `stream.${k}`), text);
      if (k > 1) writeFileSync(join(fake, `hold.${k}`), ""); // released once invocation k-1 is checked
      const complete = printed.includes("exists -");
      plan.push({ mode, printed, complete, dump, final: complete ? (() => {
        // the state after the printed changes only
        const s = clone(dump);
        const applied = printed.slice(dumpLen);
        const all = lines.slice(dumpLen);
        return applied.length === all.length ? final : replayChanges(s, applied);
      })() : dump });
    }
    writeFileSync(join(dir, "c.toml"), `[main]
state_dir = "${dir}/state"
control_socket = "${sock}"
shutdown_timeout = "2s"

[drbd]
type = "sender"
path = "${join(root, "test/drbd/bin/drbdsetup")}"
restart-min = "20ms"
restart-max = "100ms"
statistics-poll-interval = "50ms"

[events]
type = "receiver"
plugin = "file"
path = "${dir}/events.ndjson"
filter = { system = "drbd" }
queue = { max_events = 100000 }
`);
    const d = await startRun(join(dir, "c.toml"), { FAKE_DRBDSETUP_DIR: fake });
    const runs = () => Number(existsSync(join(fake, "runs")) ? readFileSync(join(fake, "runs"), "utf8") : 0);
    const modelMismatch: string[] = [];
    let checked = 0;
    const t0 = performance.now();
    try {
      for (let k = 1; k <= K; k++) {
        const p = plan[k - 1]!;
        await waitFor(() => runs() >= k, 10_000, `drbdsetup invocation ${k}`, 10);
        if (p.complete) {
          writeFileSync(join(dir, "expect.events2"), p.printed.join("\n") + "\n");
          const want = JSON.parse((await runBin(["replay", "--events2", join(dir, "expect.events2"), "--model"])).stdout);
          let got: unknown;
          const same = await waitFor(async () => {
            got = await fetch("http://localhost/v1/drbd/resources", { unix: sock } as RequestInit).then((r) => r.json());
            return JSON.stringify(got) === JSON.stringify(want);
          }, 3000, "model").catch(() => false);
          checked++;
          if (!same) modelMismatch.push(`invocation ${k} (${p.mode}): got ${JSON.stringify(got).slice(0, 300)} want ${JSON.stringify(want).slice(0, 300)}`);
        }
        if (p.mode === "sigkill") {
          await Bun.sleep(60 + Math.floor(Math.random() * 60)); // idle between polls, maybe mid-poll
          process.kill(Number(readFileSync(join(fake, "pid"), "utf8")), "SIGKILL");
        }
        rmSync(join(fake, `hold.${k + 1}`), { force: true });
        await waitFor(() => runs() >= k + 1, 10_000, `drbdsetup restart after invocation ${k}`, 10);
      }
      await Bun.sleep(500);
      rep.figures["seconds"] = ((performance.now() - t0) / 1000).toFixed(1);
      // expected events: the real differences between consecutive complete states, plus changes
      const lines: string[] = [...dumpLines(plan[0]!.dump)];
      let last: State | undefined;
      for (const p of plan.slice(0, K + 1)) {
        if (!p.complete) continue;
        if (last) lines.push(...diffLines(last, p.dump));
        const dumpLen = p.dump.size * 2 + 1;
        lines.push(...p.printed.slice(dumpLen));
        last = p.final;
      }
      if (!plan[0]!.complete) lines.splice(0, lines.length, ...rebuild(plan));
      writeFileSync(join(dir, "expected.events2"), lines.join("\n") + "\n");
      const r = await runBin(["replay", "--events2", join(dir, "expected.events2"), "--json"]);
      const key = (e: { event_type: string; msg: string }) => `${e.event_type} | ${e.msg}`;
      const want = r.stdout.trim().split("\n").filter(Boolean).map((l) => key(JSON.parse(l))).sort();
      const got = readFileSync(join(dir, "events.ndjson"), "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l))
        .filter((e) => e.event_type !== "DRBD_EVENTS_RESTARTED").map(key).sort();
      const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
      const [cw, cg] = [count(want), count(got)];
      const extra = [...cg].filter(([k, n]) => n > (cw.get(k) ?? 0)).map(([k, n]) => `${k} x${n - (cw.get(k) ?? 0)}`);
      const missing = [...cw].filter(([k, n]) => n > (cg.get(k) ?? 0)).map(([k, n]) => `${k} x${n - (cg.get(k) ?? 0)}`);
      const modes = plan.slice(0, K).reduce((m, p) => ({ ...m, [p.mode]: (m[p.mode] ?? 0) + 1 }), {} as Record<string, number>);
      Object.assign(rep.figures, {
        invocations: runs(), ...Object.fromEntries(Object.entries(modes).map(([m, n]) => [`ended ${m}`, n])),
        "models checked": checked, "model mismatches": modelMismatch.length,
        "expected events": want.length, "events emitted": got.length, "events extra": extra.length, "events missing": missing.length,
      });
      if (modelMismatch.length) rep.note(`first model mismatch: ${modelMismatch[0]}`);
      if (extra.length) rep.note(`extra events: ${extra.slice(0, 5).join("; ")}`);
      if (missing.length) rep.note(`missing events: ${missing.slice(0, 5).join("; ")}`);
      expect(d.proc.exitCode).toBeNull();
      expect(modelMismatch.slice(0, 2)).toEqual([]);
      expect(extra.slice(0, 10)).toEqual([]);
      expect(missing.slice(0, 10)).toEqual([]);
    } finally {
      await stopDaemon(d, 4000);
    }
  });
}, 240_000);

/** Applies printed change lines to a state (the test's own reading of its generated lines). */
function replayChanges(s: State, lines: string[]): State {
  for (const l of lines) {
    const name = /name:(\S+)/.exec(l)![1]!;
    const r = s.get(name)!;
    const role = /role:(\S+)/.exec(l);
    const disk = /disk:(\S+)/.exec(l);
    if (role) r.role = role[1] as "Primary" | "Secondary";
    if (disk) r.disk = disk[1]!;
  }
  return s;
}

/** When the first invocation's dump was cut, the first complete one is the starting state. */
function rebuild(plan: { complete: boolean; dump: State; printed: string[]; final: State }[]): string[] {
  const lines: string[] = [];
  let last: State | undefined;
  for (const p of plan) {
    if (!p.complete) continue;
    lines.push(...(last ? diffLines(last, p.dump) : dumpLines(p.dump)));
    lines.push(...p.printed.slice(p.dump.size * 2 + 1));
    last = p.final;
  }
  return lines;
}
