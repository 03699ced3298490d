// A test that needs a tool, a device, the addon or root fails when it is missing; it never skips.
// `npm test` installs the Debian packages of .ci/apt-packages.txt first and runs as root, so a
// missing one here is a broken machine or a package missing from that list.
import { existsSync } from "node:fs";

/** Throws naming every requirement that is false. Call it in a beforeAll or at a test's start. */
export function need(reqs: Record<string, boolean>): void {
  const missing = Object.entries(reqs).filter(([, ok]) => !ok).map(([what]) => what);
  if (missing.length) throw new Error(`missing: ${missing.join(", ")} (the tests run as root after \`npm test\` installs .ci/apt-packages.txt)`);
}

/** The usual needs of a test on real devices: root and the kernel files it opens. */
export function rootAnd(...files: string[]): Record<string, boolean> {
  return { root: process.getuid?.() === 0, ...Object.fromEntries(files.map((f) => [f, existsSync(f)])) };
}

/** A program on PATH (sbin included: Debian puts servers there). */
export function tool(name: string): boolean {
  return (Bun.which(name) ?? Bun.which(name, { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" })) !== null;
}
