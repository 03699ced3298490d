// Builds dist/storeventd: one executable with the addon embedded (see README "Build").
// Never strip the result: Bun's embedded payload lives past the ELF sections strip keeps.
import { $ } from "bun";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
const pkg = await Bun.file(join(root, "package.json")).json();
const commit = (await $`git -C ${root} rev-parse --short=12 HEAD`.nothrow().quiet().text()).trim() || "unknown";
mkdirSync(join(root, "dist"), { recursive: true });
const out = join(root, "dist/storeventd");
await $`${process.execPath} build --compile --minify --bytecode --format=esm --no-compile-autoload-dotenv --no-compile-autoload-bunfig --define STOREVENTD_VERSION=${JSON.stringify(pkg.version)} --define STOREVENTD_COMMIT=${JSON.stringify(commit)} ${join(root, "src/main.ts")} --outfile ${out}`.cwd(root).quiet();
console.log(`built ${out} (${(statSync(out).size / 1048576).toFixed(1)} MiB, ${pkg.version} ${commit})`);
