// Test harness: a private net-snmp snmpd (Debian's) as AgentX master on 127.0.0.1, and the
// net-snmp command line tools, run asynchronously (a sync spawn would block the subagent under test).
import dgram from "node:dgram";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** No MIB files: numeric OIDs only, and no warnings about the IETF MIBs Debian does not ship. */
const ENV = { ...process.env, MIBS: "", MIBDIRS: "/nonexistent" };

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class Snmpd {
  private proc: ReturnType<typeof Bun.spawn> | null = null;
  readonly log: string;
  constructor(private dir: string, readonly agentxPort: number, readonly udpPort: number) {
    mkdirSync(join(dir, "persist"), { recursive: true });
    this.log = join(dir, "snmpd.log");
    writeFileSync(join(dir, "snmpd.conf"), [
      `[snmp] persistentDir ${join(dir, "persist")}`,
      "master agentx",
      `agentXSocket tcp:127.0.0.1:${agentxPort}`,
      "rocommunity public 127.0.0.1",
      "",
    ].join("\n"));
  }

  /** Starts snmpd in the foreground and waits until its AgentX port accepts connections. */
  async start(): Promise<void> {
    const which = Bun.which("snmpd", { PATH: `${process.env.PATH}:/usr/sbin:/sbin` });
    if (!which) throw new Error("snmpd is missing: apt-get install snmpd (listed in .ci/apt-packages.txt)");
    this.proc = Bun.spawn([which, "-f", "-C", "-c", join(this.dir, "snmpd.conf"), "-Lf", this.log,
      "-p", join(this.dir, "snmpd.pid"), `udp:127.0.0.1:${this.udpPort}`], {
      env: { ...ENV, SNMP_PERSISTENT_DIR: join(this.dir, "persist") }, stdin: "ignore", stdout: "ignore", stderr: "ignore",
    });
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      const ok = await new Promise<boolean>((r) => {
        Bun.connect({ hostname: "127.0.0.1", port: this.agentxPort, socket: { open: (s) => (s.end(), r(true)), data() {}, connectError: () => r(false) } })
          .catch(() => r(false));
      });
      if (ok) return;
      if (this.proc.exitCode !== null) break;
      await Bun.sleep(50);
    }
    throw new Error(`snmpd did not start:\n${readFileSync(this.log, "utf8").slice(-2000)}`);
  }

  async stop(): Promise<void> {
    if (!this.proc) return;
    this.proc.kill("SIGTERM");
    await this.proc.exited;
    this.proc = null;
  }

  /** Runs snmpwalk / snmpget / snmpbulkwalk against this snmpd: -v2c, numeric OIDs. */
  async tool(cmd: "snmpwalk" | "snmpget" | "snmpbulkwalk", ...oids: string[]): Promise<string> {
    if (!Bun.which(cmd)) throw new Error(`${cmd} is missing: apt-get install snmp (listed in .ci/apt-packages.txt)`);
    const p = Bun.spawn([cmd, "-v2c", "-c", "public", "-On", "-t", "5", "-r", "0", `udp:127.0.0.1:${this.udpPort}`, ...oids], {
      env: { ...ENV, SNMP_PERSISTENT_DIR: join(this.dir, "persist") }, stdout: "pipe", stderr: "pipe", stdin: "ignore",
    });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    return out + err;
  }
}
