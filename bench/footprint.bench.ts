// `npm run bench -- footprint`: what the binary and the packages weigh and what in them is ours.
// `bun build --compile` puts our bundle (JS, bytecode, the addon) into the .bun section of a copy
// of the Bun runtime: the rest of the binary is the runtime. Also a small xz of the binary (preset
// 9 with the x86 BCJ filter, smaller than what dpkg-deb and rpm write), a floor for any package.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const MB = 1e6;

export default async function (): Promise<Record<string, number | string>> {
  const bin = process.env.STOREVENTD_BIN ?? join(root, "dist/storeventd");
  const size = statSync(bin).size;
  const elf = Bun.spawnSync(["readelf", "-SW", bin]).stdout.toString();
  const bun = /\.bun\s+PROGBITS\s+\S+\s+\S+\s+([0-9a-f]+)/.exec(elf);
  const addon = join(root, "build/Release/storeventd.node");
  const out: Record<string, number | string> = {
    binary_mb: Number((size / MB).toFixed(1)),
    bun_runtime_mb: bun ? Number(((size - parseInt(bun[1]!, 16)) / MB).toFixed(1)) : "no .bun section",
    ours_mb: bun ? Number((parseInt(bun[1]!, 16) / MB).toFixed(2)) : "no .bun section",
    addon_mb: existsSync(addon) ? Number((statSync(addon).size / MB).toFixed(2)) : "not built",
  };
  const xz = Bun.spawnSync(["sh", "-c", `xz -T0 --x86 --lzma2=preset=9 -c "$0" | wc -c`, bin]);
  out.binary_xz_floor_mb = Number((Number(xz.stdout.toString().trim()) / MB).toFixed(1));
  for (const f of readdirSync(join(root, "dist")).filter((f) => /\.(deb|rpm)$/.test(f))) {
    out[`package_${f.endsWith(".deb") ? "deb" : "rpm"}_mb`] = Number((statSync(join(root, "dist", f)).size / MB).toFixed(1));
  }
  if (!Object.keys(out).some((k) => k.startsWith("package_"))) out.packages = "not built (npm run package)";
  out.goal_packages_35mb = (out.binary_xz_floor_mb as number) > 35 ? "not reachable: the binary's best xz is above 35 MB" : "reachable";
  return out;
}
