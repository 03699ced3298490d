// Builds dist/storeventd: one executable with the addon embedded (see README "Build").
// Never strip the result: Bun's embedded payload lives past the ELF sections strip keeps.
//
// Two passes: the first build starts the daemon once (packaging/training.toml, the packaged config
// in a temporary directory) with BUN_BYTECODE_ORDER_OUT, which records the functions a start runs; the
// second build lays their bytecode out together at the front (--bytecode-order), so a start touches
// fewer pages of the binary. The binary also starts with the JIT's tier-up thresholds scaled by
// JIT_POLICY: start-up code runs once, and compiling it costs time and memory before READY
// (src/util/jit-policy.ts returns to the normal policy at READY). If training fails, the first
// build stays, said on stderr.
import { $ } from "bun";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const JIT_POLICY = 32;
const TRAIN_TIMEOUT_MS = 10_000;
const STARTED = /storeventd: started /;

const root = join(import.meta.dir, "../..");
const pkg = await Bun.file(join(root, "package.json")).json();
const commit = (await $`git -C ${root} rev-parse --short=12 HEAD`.nothrow().quiet().text()).trim() || "unknown";
mkdirSync(join(root, "dist"), { recursive: true });
const out = join(root, "dist/storeventd");

async function build(order?: string): Promise<void> {
  const layout = order ? ["--bytecode-order", order] : [];
  await $`${process.execPath} build --compile --minify --bytecode --format=esm --no-compile-autoload-dotenv --no-compile-autoload-bunfig --compile-jit-policy=${JIT_POLICY} ${layout} --define STOREVENTD_VERSION=${JSON.stringify(pkg.version)} --define STOREVENTD_COMMIT=${JSON.stringify(commit)} ${join(root, "src/main.ts")} --outfile ${out}`.cwd(root).quiet();
}

/** Starts the built daemon on packaging/training.toml until it logs that it started, plus a moment
 * for READY, then stops it; returns the order file, or why there is none. An instance that cannot
 * start here (no read access to the kernel log) is left out and the start tried again. */
async function train(dir: string): Promise<string | Error> {
  let cfgText = readFileSync(join(root, "packaging/training.toml"), "utf8").replaceAll("@DIR@", dir);
  const order = join(dir, "order.txt");
  const cfg = join(dir, "training.toml");
  for (let attempt = 0; attempt < 4; attempt++) {
    rmSync(join(dir, "state"), { recursive: true, force: true });
    rmSync(order, { force: true });
    writeFileSync(cfg, cfgText);
    const p = Bun.spawn([out, "run", "-c", cfg], {
      env: { ...process.env, BUN_BYTECODE_ORDER_OUT: order, NOTIFY_SOCKET: "" }, stdout: "ignore", stderr: "pipe",
    });
    let err = "";
    const dec = new TextDecoder();
    const deadline = setTimeout(() => p.kill("SIGKILL"), TRAIN_TIMEOUT_MS);
    for await (const chunk of p.stderr) {
      err += dec.decode(chunk);
      if (STARTED.test(err)) {
        await Bun.sleep(300);
        p.kill("SIGTERM");
        break;
      }
    }
    await p.exited;
    clearTimeout(deadline);
    if (STARTED.test(err) && existsSync(order) && statSync(order).size > 0) return order;
    const failed = /\[([\w-]+)\](?::| cannot start:) /.exec(err)?.[1]; // a config or a start error
    if (!failed || !new RegExp(`^\\[${failed}\\]$`, "m").test(cfgText)) return new Error(err.trim().split("\n").pop() ?? `exit ${p.exitCode}`);
    // Without that instance: its section runs up to the next one.
    cfgText = cfgText.replace(new RegExp(`^\\[${failed}\\]\n(?:[^[].*\n|\n)*`, "m"), "");
  }
  return new Error("no instance set started");
}

await build();
const dir = mkdtempSync(join(tmpdir(), "storeventd-build-"));
let layout = "start-up bytecode first";
try {
  const order = await train(dir);
  if (order instanceof Error) {
    console.error(`build: no bytecode layout (the training start failed: ${order.message})`);
    layout = "no bytecode layout";
  } else await build(order);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`built ${out} (${(statSync(out).size / 1048576).toFixed(1)} MiB, ${pkg.version} ${commit}, ${layout})`);
