import { release, arch } from "node:os";
import { BUILD } from "../build-info.ts";
import { addonStatus } from "../native.ts";
import { parse, type Io } from "./args.ts";

export const VERSION_HELP = `Usage: storeventd version [--json]

Prints the version, the commit it was built from, whether the native addon loaded (and its
features) or why the TypeScript fallbacks run instead, the kernel, and the Bun runtime.

Options:
      --json   print as JSON
  -h, --help   this help`;

export function versionInfo() {
  const a = addonStatus();
  return {
    version: BUILD.version, commit: BUILD.commit, compiled: BUILD.compiled,
    addon: a, kernel: release(), arch: arch(), bun: Bun.version,
  };
}

export async function versionCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { json: { type: "boolean" } });
  if (values.help) return io.out(VERSION_HELP), 0;
  const v = versionInfo();
  if (values.json) return io.out(JSON.stringify(v)), 0;
  io.out(`storeventd ${v.version} (commit ${v.commit}${v.compiled ? "" : ", from source"})`);
  io.out(v.addon.loaded ? `addon: loaded (${v.addon.features.join(", ")})` : `addon: not loaded, TypeScript fallbacks in use: ${v.addon.error}`);
  io.out(`kernel: Linux ${v.kernel} ${v.arch}`);
  io.out(`bun: ${v.bun}`);
  return 0;
}
