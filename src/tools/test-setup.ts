// `npm test` step 1: makes this machine able to run every test, idempotently. It installs the Debian
// packages of .ci/apt-packages.txt that are missing (printing them) and checks the kernel devices the
// tests use. It starts no process that outlives it. Where it cannot fix something (not Debian, not
// root), it says exactly what is missing and fails, so the run stops with one clear message.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const LIST = ".ci/apt-packages.txt";
const APT = ["apt-get", "-o", "DPkg::Lock::Timeout=600"];

function fail(lines: string[]): never {
  for (const l of lines) console.error(`test set-up: ${l}`);
  console.error("test set-up: FAILED, no test was run");
  process.exit(1);
}

function packages(): string[] {
  return readFileSync(join(ROOT, LIST), "utf8").split("\n").map((l) => l.replace(/#.*/, "").trim()).filter(Boolean);
}

function installed(pkg: string): boolean {
  const p = Bun.spawnSync(["dpkg-query", "-W", "-f=${Status}", pkg], { stderr: "ignore" });
  return p.exitCode === 0 && p.stdout.toString().startsWith("install ok installed");
}

function run(argv: string[]): void {
  const p = Bun.spawnSync(argv, { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, stdin: "ignore" });
  if (p.exitCode !== 0) {
    const out = (p.stdout.toString() + p.stderr.toString()).trimEnd().split("\n").slice(-30);
    fail([...out, `\`${argv.join(" ")}\` exited with ${p.exitCode}`]);
  }
}

const debian = existsSync("/etc/debian_version") && Bun.which("dpkg-query") !== null && Bun.which("apt-get") !== null;
const root = process.getuid?.() === 0;
const problems: string[] = [];
if (process.platform !== "linux") problems.push(`the tests need Linux (this is ${process.platform})`);
if (!root) problems.push("the tests need root (real /dev/kmsg, netlink, loop devices, mounts, network namespaces, containers)");

const want = packages();
const missing = debian ? want.filter((p) => !installed(p)) : want;
if (!debian) problems.push(`this is not Debian (no /etc/debian_version, dpkg-query, apt-get): install the equivalents of ${LIST}: ${want.join(" ")}`);
else if (missing.length && !root) problems.push(`missing Debian packages: ${missing.join(" ")} (as root: apt-get install -y ${missing.join(" ")})`);
if (problems.length) fail(problems);

if (missing.length) {
  console.error(`test set-up: installing Debian packages: ${missing.join(" ")}`);
  run([...APT, "update", "-qq"]);
  run([...APT, "install", "-y", "-qq", "--no-install-recommends", ...missing]);
  const still = missing.filter((p) => !installed(p));
  if (still.length) fail([`apt-get did not install: ${still.join(" ")}`]);
}

// Loop devices: the block-layer tests make their own; the driver may be a module not yet loaded.
if (!existsSync("/dev/loop-control")) Bun.spawnSync(["modprobe", "loop"], { stdout: "ignore", stderr: "ignore" });
const devices = ["/dev/kmsg", "/dev/loop-control"].filter((d) => !existsSync(d));
if (devices.length) fail([`missing kernel devices: ${devices.join(" ")} (the kernel tests read /dev/kmsg and attach loop devices)`]);

console.error(`test set-up: ready (${want.length} Debian packages${missing.length ? `, ${missing.length} installed now` : " present"}, root, /dev/kmsg, /dev/loop-control)`);
