// A real systemd-journald for tests, in its own journal namespace (systemd-journald NAME), so it
// never touches the host's /run/systemd/journal/socket and runs beside other tests' instances.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";

export const JOURNALD = "/lib/systemd/systemd-journald";

export interface JournalNamespace {
  ns: string;
  /** The native-protocol socket of this namespace. */
  socket: string;
  proc: ReturnType<typeof Bun.spawn>;
  /** `journalctl --namespace=NS -o json --all MATCH...`, polled until `min` entries show up. */
  entries(matches: string[], min?: number): Promise<Record<string, string>[]>;
  /** Stops journald and removes its sockets and journal files. */
  stop(): Promise<void>;
}

/** conf: the text of /etc/systemd/journald@NS.conf for this namespace (e.g. "[Journal]\nReadKMsg=yes\n"), removed at stop. */
export async function startJournalNamespace(prefix = "sevdtest", conf?: string): Promise<JournalNamespace> {
  const ns = `${prefix}${process.pid}${Math.floor(Math.random() * 1e6)}`;
  const socket = `/run/systemd/journal.${ns}/socket`;
  const confFile = `/etc/systemd/journald@${ns}.conf`;
  if (conf !== undefined) writeFileSync(confFile, conf);
  const machineId = existsSync("/etc/machine-id") ? readFileSync("/etc/machine-id", "utf8").trim() : "";
  const proc = Bun.spawn([JOURNALD, ns], { stdout: "ignore", stderr: "ignore" });
  const cleanup = () => {
    if (conf !== undefined) rmSync(confFile, { force: true });
    rmSync(`/run/systemd/journal.${ns}`, { recursive: true, force: true });
    if (machineId) {
      rmSync(`/var/log/journal/${machineId}.${ns}`, { recursive: true, force: true });
      rmSync(`/run/log/journal/${machineId}.${ns}`, { recursive: true, force: true });
    }
  };
  for (let i = 0; i < 100 && !existsSync(socket); i++) await Bun.sleep(50);
  if (!existsSync(socket)) {
    proc.kill("SIGKILL");
    cleanup();
    throw new Error(`systemd-journald ${ns} did not create ${socket}`);
  }
  return {
    ns, socket, proc,
    async entries(matches, min = 1) {
      let out: Record<string, string>[] = [];
      for (let i = 0; i < 50; i++) {
        const p = Bun.spawnSync(["journalctl", `--namespace=${ns}`, "-o", "json", "--all", ...matches]);
        out = p.stdout.toString().trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
        if (out.length >= min) break;
        await Bun.sleep(100);
      }
      return out;
    },
    async stop() {
      proc.kill("SIGCONT"); // in case a test left it stopped
      proc.kill("SIGTERM");
      await proc.exited;
      cleanup();
    },
  };
}
