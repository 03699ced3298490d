// The DRBD kernel module and drbd-utils versions, as drbd-reactor's prometheus and agentx plugins
// report them: from `drbdadm --version`'s *_VERSION_CODE lines, "0.0.0" when drbdadm is missing.

export interface DrbdVersions {
  kmod: string;
  utils: string;
}

export const UNKNOWN_VERSIONS: DrbdVersions = { kmod: "0.0.0", utils: "0.0.0" };

/** DRBD_KERNEL_VERSION_CODE / DRBDADM_VERSION_CODE (0xMMmmpp) as x.y.z, "0.0.0" when absent. */
export function parseDrbdVersions(out: string): DrbdVersions {
  const code = (key: string) => {
    const m = new RegExp(`^${key}=0x([0-9a-fA-F]{1,8})$`, "m").exec(out);
    if (!m) return "0.0.0";
    const n = parseInt(m[1]!, 16);
    return `${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`;
  };
  return { kmod: code("DRBD_KERNEL_VERSION_CODE"), utils: code("DRBDADM_VERSION_CODE") };
}

/** Runs `drbdadm --version` (killed after 5 s); UNKNOWN_VERSIONS when it cannot run. */
export async function readDrbdVersions(): Promise<DrbdVersions> {
  try {
    const p = Bun.spawn(["drbdadm", "--version"], { stdin: "ignore", stdout: "pipe", stderr: "ignore", env: process.env });
    const t = setTimeout(() => p.kill(), 5000);
    const out = await new Response(p.stdout).text();
    clearTimeout(t);
    return parseDrbdVersions(out);
  } catch {
    return UNKNOWN_VERSIONS;
  }
}
