// Network namespaces for the fleet test: one bridge namespace and one namespace per participant,
// each with a veth into the bridge and an address 10.19.0.N/24. No traffic leaves them.
const PREFIX = "fleet19";

function ip(...args: string[]): void {
  const r = Bun.spawnSync(["ip", ...args], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.toString().trim()}`);
}

export class Netns {
  readonly bridge = `${PREFIX}-br`;
  private names: string[] = [];

  /** Adds namespace <PREFIX>-<name> with address 10.19.0.<octet>. */
  add(name: string, octet: number): string {
    const ns = `${PREFIX}-${name}`;
    if (!this.names.length) {
      this.drop(this.bridge);
      ip("netns", "add", this.bridge);
      ip("-n", this.bridge, "link", "add", "br0", "type", "bridge");
      ip("-n", this.bridge, "link", "set", "br0", "up");
    }
    this.drop(ns);
    ip("netns", "add", ns);
    this.names.push(ns);
    const port = `f19-${name}`;
    ip("-n", this.bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns);
    ip("-n", this.bridge, "link", "set", port, "master", "br0");
    ip("-n", this.bridge, "link", "set", port, "up");
    ip("-n", ns, "addr", "add", `10.19.0.${octet}/24`, "dev", "eth0");
    ip("-n", ns, "link", "set", "eth0", "up");
    ip("-n", ns, "link", "set", "lo", "up");
    return ns;
  }

  private drop(ns: string): void {
    Bun.spawnSync(["ip", "netns", "del", ns], { stderr: "ignore" });
  }

  cleanup(): void {
    for (const ns of this.names.splice(0)) this.drop(ns);
    this.drop(this.bridge);
  }
}

/** Runs argv inside a namespace (`ip netns exec` execs it: the pid is the program's own). */
export function spawnIn(ns: string, argv: string[], env: Record<string, string> = {}) {
  return Bun.spawn(["ip", "netns", "exec", ns, ...argv], { env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
}
