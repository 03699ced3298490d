// Builds dist/storeventd: one executable with the addon embedded (see README "Build").
// Never strip the result: Bun's embedded payload lives past the ELF sections strip keeps.
//
// Two passes: the first build starts the daemon once (training: kmsg, udev and the store in a
// temporary directory) with BUN_BYTECODE_ORDER_OUT, which records the functions a start runs; the
// second build lays their bytecode out together at the front (--bytecode-order), so a start touches
// fewer pages of the binary. The binary also starts with the JIT's tier-up thresholds scaled by
// JIT_POLICY: start-up code runs once, and compiling it costs time and memory before READY
// (src/util/jit-policy.ts returns to the normal policy at READY). If training fails, the first
// build stays, said on stderr.
import { $ } from "bun";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const JIT_POLICY = 32;
const TRAIN_TIMEOUT_MS = 10_000;

const root = join(import.meta.dir, "../..");
const pkg = await Bun.file(join(root, "package.json")).json();
const commit = (await $`git -C ${root} rev-parse --short=12 HEAD`.nothrow().quiet().text()).trim() || "unknown";
mkdirSync(join(root, "dist"), { recursive: true });
const out = join(root, "dist/storeventd");

async function build(order?: string): Promise<void> {
  const layout = order ? ["--bytecode-order", order] : [];
  await $`${process.execPath} build --compile --minify --bytecode --format=esm --no-compile-autoload-dotenv --no-compile-autoload-bunfig --compile-jit-policy=${JIT_POLICY} ${layout} --define STOREVENTD_VERSION=${JSON.stringify(pkg.version)} --define STOREVENTD_COMMIT=${JSON.stringify(commit)} ${join(root, "src/main.ts")} --outfile ${out}`.cwd(root).quiet();
}

/** Starts the built daemon until it logs that it started, plus a moment for READY, then stops it;
 * returns the order file, or why there is none. Without read access to /dev/kmsg, without kmsg. */
async function train(dir: string): Promise<string | Error> {
  let why = "";
  for (const kmsg of [true, false]) {
    const order = join(dir, "order.txt");
    const cfg = join(dir, "train.toml");
    rmSync(join(dir, "state"), { recursive: true, force: true });
    writeFileSync(cfg, `[main]\nstate_dir = "${dir}/state"\ncontrol_socket = "${dir}/control.sock"\n` +
      (kmsg ? `[kmsg]\ntype = "sender"\nfrom = "end"\n` : "") + `[udev]\ntype = "sender"\n[store]\ntype = "receiver"\n`);
    const p = Bun.spawn([out, "run", "-c", cfg], {
      env: { ...process.env, BUN_BYTECODE_ORDER_OUT: order, NOTIFY_SOCKET: "" }, stdout: "ignore", stderr: "pipe",
    });
    let err = "";
    const dec = new TextDecoder();
    const deadline = setTimeout(() => p.kill("SIGKILL"), TRAIN_TIMEOUT_MS);
    for await (const chunk of p.stderr) {
      err += dec.decode(chunk);
      if (/storeventd: started /.test(err)) {
        await Bun.sleep(300);
        p.kill("SIGTERM");
        break;
      }
    }
    await p.exited;
    clearTimeout(deadline);
    if (existsSync(order) && statSync(order).size > 0 && /storeventd: started /.test(err)) return order;
    why = err.trim().split("\n").pop() ?? `exit ${p.exitCode}`;
  }
  return new Error(why);
}

await build();
const dir = mkdtempSync(join(tmpdir(), "storeventd-build-"));
try {
  const order = await train(dir);
  if (order instanceof Error) console.error(`build: no bytecode layout (the training start failed: ${order.message})`);
  else await build(order);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`built ${out} (${(statSync(out).size / 1048576).toFixed(1)} MiB, ${pkg.version} ${commit})`);
