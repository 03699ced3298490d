import type { AnyPluginDef } from "../plugin-api.ts";
import { BUILD } from "../build-info.ts";
import { addonStatus } from "../native.ts";

export async function main(argv: string[], plugins: AnyPluginDef[]): Promise<number> {
  if (argv[0] === "version") {
    const a = addonStatus();
    console.log(`storeventd ${BUILD.version} (${BUILD.commit}) addon=${a.loaded ? "loaded " + a.features.join(",") : "fallback: " + a.error} plugins=${plugins.length}`);
    return 0;
  }
  console.error("not yet");
  return 2;
}
