// Real servers for the receivers-under-outage scenario: nats-server, ngircd, a journald namespace,
// and an IRC channel watcher that can kick. The SMTP "server" refuses every mail (554), as a
// relay that rejects the sender does.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { JOURNALD } from "../helpers/journald.ts";
import { waitForPort } from "../helpers/receiver.ts";

const which = (b: string) => Bun.which(b) ?? Bun.which(b, { PATH: "/usr/sbin:/usr/bin:/sbin" });

export function need(bin: string): string {
  const p = which(bin);
  if (!p) throw new Error(`${bin} is not installed (see .ci/apt-packages.txt)`);
  return p;
}

export async function natsServer(port: number) {
  const proc = Bun.spawn([need("nats-server"), "-a", "127.0.0.1", "-p", String(port)], { stdout: "ignore", stderr: "ignore" });
  await waitForPort(port, "nats-server");
  return proc;
}

export async function ngircd(dir: string, port: number) {
  const conf = join(dir, "ngircd.conf");
  writeFileSync(conf, `[Global]\nName = irc.faults.test\nInfo = faults\nListen = 127.0.0.1\nPorts = ${port}\n[Limits]\nMaxConnectionsIP = 0\n[Options]\nPAM = no\nDNS = no\nIdent = no\n`);
  const proc = Bun.spawn([need("ngircd"), "-n", "-f", conf], { stdout: "ignore", stderr: "ignore" });
  await waitForPort(port, "ngircd");
  return proc;
}

/** A journald in namespace ns (same socket path across restarts). */
export async function journald(ns: string) {
  const socket = `/run/systemd/journal.${ns}/socket`;
  rmSync(socket, { force: true });
  const proc = Bun.spawn([JOURNALD, ns], { stdout: "ignore", stderr: "ignore" });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await Bun.sleep(50);
  if (!existsSync(socket)) throw new Error(`journald ${ns} did not start`);
  return { proc, socket };
}

export function journalCleanup(ns: string): void {
  rmSync(`/run/systemd/journal.${ns}`, { recursive: true, force: true });
  const id = existsSync("/etc/machine-id") ? readFileSync("/etc/machine-id", "utf8").trim() : "";
  if (id) for (const d of ["/var/log/journal", "/run/log/journal"]) rmSync(`${d}/${id}.${ns}`, { recursive: true, force: true });
}

/** The entries of namespace ns (every field, JSON lines) that contain `match`. */
export function journalEntries(ns: string, match: string): string[] {
  const p = Bun.spawnSync(["journalctl", `--namespace=${ns}`, "-o", "json", "--all"]);
  return p.stdout.toString().split("\n").filter((l) => l.includes(match));
}

/** An SMTP server that greets, then refuses every mail. */
export function refusingSmtp(): Promise<{ port: number; refused: () => number; close: () => void }> {
  let refused = 0;
  const srv = net.createServer((s) => {
    s.on("error", () => {});
    s.write("220 faults.test ESMTP\r\n");
    let buf = "";
    s.on("data", (d) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const cmd = buf.slice(0, i).toUpperCase();
        buf = buf.slice(i + 2);
        if (cmd.startsWith("EHLO") || cmd.startsWith("HELO")) s.write("250 faults.test\r\n");
        else if (cmd.startsWith("MAIL")) (refused++, s.write("554 5.7.1 mail refused\r\n"));
        else if (cmd.startsWith("QUIT")) (s.write("221 bye\r\n"), s.end());
        else s.write("503 5.5.1 bad sequence\r\n");
      }
    });
  });
  return new Promise((r) => srv.listen(0, "127.0.0.1", () => r({ port: (srv.address() as net.AddressInfo).port, refused: () => refused, close: () => srv.close() })));
}

/** An IRC client in the channel (joins first, so it is the channel operator): counts lines that
 * contain `mark`, can KICK a nick. */
export async function ircWatcher(port: number, channel: string) {
  const s = net.connect(port, "127.0.0.1");
  s.on("error", () => {});
  const lines: string[] = [];
  let joined = false;
  let buf = "";
  s.on("data", (d) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\r\n")) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (l.startsWith("PING")) s.write(`PONG ${l.slice(5)}\r\n`);
      if (/ 001 /.test(l)) s.write(`JOIN ${channel}\r\n`);
      if (/ JOIN /.test(l) && l.startsWith(":watcher!")) joined = true;
      lines.push(l);
    }
  });
  s.write("NICK watcher\r\nUSER watcher 0 * :watcher\r\n");
  for (let i = 0; i < 100 && !joined; i++) await Bun.sleep(50);
  if (!joined) throw new Error("IRC watcher did not join");
  return {
    lines,
    count: (mark: string) => lines.filter((l) => l.includes("PRIVMSG") && l.includes(mark)).length,
    inChannel: (nick: string) => lines.some((l) => l.startsWith(`:${nick}!`) && / JOIN /.test(l)),
    kick: (nick: string) => s.write(`KICK ${channel} ${nick} :fault test\r\n`),
    close: () => s.destroy(),
  };
}
