// `npm test` step 3: runs the whole suite once, its files in random order (the seed is printed;
// `npm test -- --seed=N` replays an order; tests inside a file keep their order, as some are steps of
// one scenario), and enforces "no silent skips": a skipped or todo test
// fails the run unless test/allowed-skips.txt lists it with its reason. Ends with the totals line
//   N passed, N failed, N skipped
//   allow-listed skips: N (test/allowed-skips.txt)
// and fails on any failure, any unlisted skip, or when no test ran. Other arguments go to `bun test`
// (file filters), e.g. `npm test -- --seed=42 test/cli.test.ts`.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
export const ALLOW_FILE = "test/allowed-skips.txt";

export interface AllowedSkip {
  file: string;
  name: string;
  reason: string;
}

/** test/allowed-skips.txt: `FILE | TEST NAME (as bun prints it: "describe > test") | REASON` a line. */
export function readAllowList(text: string): AllowedSkip[] {
  const out: AllowedSkip[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim() || line.trimStart().startsWith("#")) return;
    const [file, name, reason] = line.split("|").map((s) => s.trim());
    if (!file || !name || !reason) throw new Error(`${ALLOW_FILE}:${i + 1}: want "FILE | TEST NAME | REASON"`);
    out.push({ file, name, reason });
  });
  return out;
}

export interface Tally {
  pass: number;
  fail: number;
  errors: number;
  /** Skipped and todo tests, as "FILE | NAME". */
  skips: string[];
}

/** Reads bun test's console output line by line: file headers, (skip)/(todo) lines, the summary. */
export class OutputReader {
  readonly tally: Tally = { pass: 0, fail: 0, errors: 0, skips: [] };
  private file = "";

  line(l: string): void {
    const clean = l.replace(/\x1b\[[0-9;]*m/g, "");
    let m = /^(\S+\.(?:test|spec)\.[cm]?[jt]sx?):$/.exec(clean);
    if (m) this.file = m[1]!;
    else if ((m = /^\((?:skip|todo)\) (.+?)(?: \[[\d.]+m?s\])?$/.exec(clean))) this.tally.skips.push(`${this.file} | ${m[1]}`);
    else if ((m = /^\s*(\d+) (pass|fail|errors?)$/.exec(clean))) {
      const n = Number(m[1]);
      if (m[2] === "pass") this.tally.pass = n;
      else if (m[2] === "fail") this.tally.fail = n;
      else this.tally.errors = n;
    }
  }
}

async function pump(stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream, reader: OutputReader): Promise<void> {
  const dec = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    out.write(chunk);
    const lines = (rest + dec.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop()!;
    for (const l of lines) reader.line(l);
  }
  if (rest) reader.line(rest);
}

/** Every test file, as bun finds them (*.test.ts outside node_modules and dist). */
export function testFiles(): string[] {
  return [...new Bun.Glob("**/*.test.ts").scanSync({ cwd: ROOT })]
    .filter((f) => !/^(node_modules|dist)\//.test(f) && !f.includes("/node_modules/")).sort();
}

/** Fisher-Yates with a seeded PRNG (mulberry32): the same seed gives the same order. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const seedArg = argv.find((a) => a.startsWith("--seed="));
  const seed = seedArg ? Number(seedArg.slice(7)) : Number(process.env.TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`bad seed ${seedArg ?? process.env.TEST_SEED}`);
  const flags = argv.filter((a) => a !== seedArg && a.startsWith("-"));
  const filters = argv.filter((a) => !a.startsWith("-"));
  // As bun: a filter picks the files whose path contains it.
  const files = testFiles().filter((f) => !filters.length || filters.some((x) => f.includes(x.replace(/^\.\//, ""))));
  if (!files.length) throw new Error(`no test file matches ${filters.join(" ")}`);
  const allowed = readAllowList(readFileSync(join(ROOT, ALLOW_FILE), "utf8"));
  console.error(`test order: ${files.length} files in random order, seed ${seed} (replay it: npm test -- --seed=${seed})`);

  const t0 = performance.now();
  const p = Bun.spawn([process.execPath, "test", "--timeout", "60000", ...flags, ...shuffle(files, seed).map((f) => `./${f}`)], {
    cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe",
  });
  const reader = new OutputReader();
  await Promise.all([pump(p.stdout, process.stdout, reader), pump(p.stderr, process.stderr, reader)]);
  const rc = await p.exited;
  const secs = ((performance.now() - t0) / 1000).toFixed(0);

  const t = reader.tally;
  const listed = new Set(allowed.map((a) => `${a.file} | ${a.name}`));
  const unlisted = t.skips.filter((s) => !listed.has(s));
  const failed = t.fail + t.errors + (rc !== 0 && t.fail + t.errors === 0 ? 1 : 0);
  for (const s of unlisted) console.error(`skipped, not in ${ALLOW_FILE}: ${s}`);
  if (t.pass === 0) console.error("no test passed: the run counts as failed");
  console.error(`seed ${seed}, ${secs} s`);
  console.log(`${t.pass} passed, ${failed} failed, ${unlisted.length} skipped`);
  console.log(`allow-listed skips: ${t.skips.length - unlisted.length} (${ALLOW_FILE})`);
  return rc === 0 && failed === 0 && unlisted.length === 0 && t.pass > 0 ? 0 : 1;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
