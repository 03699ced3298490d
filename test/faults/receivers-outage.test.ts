// Scenario 4: receivers whose servers fail. journald is stopped and restarted, nats-server is
// stopped for FAULTS_OUTAGE_SECONDS (default 5; the 30 s for a long run), the SMTP server
// refuses every mail throughout, and the IRC bot is kicked from its channel. Meanwhile kernel
// records keep coming and the file receiver's latency is measured against a baseline taken before.
import { connect } from "@nats-io/transport-node";
import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../helpers/receiver.ts";
import { waitFor } from "../helpers/wait.ts";
import { instance, section, startRun, status, stopDaemon, withSysctls, type InstanceStatus } from "./index.ts";
import { ircWatcher, journalCleanup, journald, journalEntries, natsServer, ngircd, refusingSmtp } from "./servers.ts";
import { kmsgDaemonHeader } from "./daemon.ts";

const OUTAGE = Number(process.env.FAULTS_OUTAGE_SECONDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), "faults20-outage-"));
const ns = `faults20${process.pid}`;
const procs: ReturnType<typeof Bun.spawn>[] = [];
afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
  journalCleanup(ns);
  rmSync(dir, { recursive: true, force: true });
});
const tag = `f20out${process.pid}x${Math.random().toString(36).slice(2, 6)}`;
const sock = join(dir, "control.sock");
const eventsFile = join(dir, "events.ndjson");
const line = (i: number) => `EXT4-fs error (device ${tag}): ext4_lookup:1855: inode #${i}: comm outage: deleted inode referenced: ${i}\n`;

const rep = section({
  n: 4, title: "Receivers whose servers fail",
  injects: `journald (own namespace) stopped for ${OUTAGE} s then restarted; nats-server stopped for ${OUTAGE} s then restarted on its port (receiver reconnect backoff 250 ms doubling to 1 s); an SMTP server that answers 554 to every MAIL; the IRC bot kicked from its channel by the channel operator (real ngircd); 20 kernel records/s throughout`,
  holds: [
    "journald receives the records sent after its server came back, nats every record sent after the test's own client re-subscribed (core NATS drops what nobody is subscribed to) (reconnect with backoff)",
    "the IRC bot joins again after the kick and its lines arrive in the channel",
    "every receiver's queue stays within its bound; what could not be delivered is counted (queue dropped, send errors, the receiver's own counters)",
    "the file receiver's latency during the outage: p90 within 2x its baseline p90 + 10 ms, and p99 under 250 ms plus the baseline p99 (on this shared 2-core machine the p99 of ~100 samples is the noise of other jobs: baseline p99 varied 11-56 ms between runs)",
    "the daemon stays up",
  ],
});
rep.note(`The nats outage is ${OUTAGE} s instead of the issue's 30 s for CI time; FAULTS_OUTAGE_SECONDS=30 runs the full one.`);

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

test("journald restarted, nats-server down, SMTP refusing, IRC kick: reconnects, bounds, counts, file latency", async () => {
  await rep.run(async () => {
    const natsPort = await freePort();
    const ircPort = await freePort();
    let nats = await natsServer(natsPort);
    procs.push(nats);
    const irc = await ngircd(dir, ircPort);
    procs.push(irc);
    let jd = await journald(ns);
    procs.push(jd.proc);
    const smtp = await refusingSmtp();
    const watcher = await ircWatcher(ircPort, "#faults");
    const sub = await connect({ servers: `nats://127.0.0.1:${natsPort}`, reconnectTimeWait: 200, maxReconnectAttempts: -1 });
    let natsGot: number[] = [];
    void (async () => { for await (const m of sub.subscribe("storeventd.>")) { const x = /inode #(\d+)/.exec(m.string()); if (x) natsGot.push(Number(x[1])); } })();
    const statuses = sub.status();
    // Resolves at the test client's next reconnect (its subscriptions are re-sent before anything else).
    const subReconnected = async () => {
      for await (const s of statuses) if (s.type === "reconnect") return;
    };
    writeFileSync(join(dir, "c.toml"), `${kmsgDaemonHeader(dir, sock, { noFold: true })}
[fs]
type = "parser"

[file]
type = "receiver"
path = "${eventsFile}"
filter = { dev_name = "${tag}" }

[journal]
type = "receiver"
plugin = "journald"
path = "${jd.socket}"
filter = { dev_name = "${tag}" }
queue = { max_events = 200 }

[bus]
type = "receiver"
plugin = "nats"
servers = ["nats://127.0.0.1:${natsPort}"]
jetstream = false
buffer_max = 200
reconnect_max = "1s"
filter = { dev_name = "${tag}" }
queue = { max_events = 200 }

[mail]
type = "receiver"
plugin = "email"
server = "127.0.0.1:${smtp.port}"
security = "none"
from = "storeventd@faults.test"
to = ["oncall@faults.test"]
filter = { dev_name = "${tag}" }
queue = { max_events = 50 }

[chat]
type = "receiver"
plugin = "irc"
server = "127.0.0.1:${ircPort}"
tls = false
nick = "f20bot"
channel = "#faults"
reconnect_min = "500ms"
reconnect_max = "2s"
filter = { dev_name = "${tag}" }
queue = { max_events = 200 }
`);
    const d = await startRun(join(dir, "c.toml"));
    const depths: Record<string, number> = {};
    let n = 0;
    const size = () => { try { return statSync(eventsFile).size; } catch { return 0; } };
    try {
      await waitFor(() => watcher.inChannel("f20bot"), 10_000, "the IRC bot in the channel");
      await withSysctls({ "kernel.printk_devkmsg": "on" }, async () => {
        const one = async () => {
          const before = size();
          const t0 = performance.now();
          // One open per record: a ratelimit that another process restores meanwhile cannot drop it.
          const fd = openSync("/dev/kmsg", "w");
          try {
            writeSync(fd, line(n++));
          } finally {
            closeSync(fd);
          }
          while (size() === before && performance.now() - t0 < 5000) await Bun.sleep(1);
          return performance.now() - t0;
        };
        const sampleDepths = async () => {
          for (const i of (await status(sock)).instances as InstanceStatus[]) if (i.queue) depths[i.name] = Math.max(depths[i.name] ?? 0, i.queue.depth);
        };
        const phase = async (seconds: number) => {
          const ms: number[] = [];
          const until = performance.now() + seconds * 1000;
          while (performance.now() < until) {
            ms.push(await one());
            if (ms.length % 10 === 0) await sampleDepths();
            await Bun.sleep(50);
          }
          return ms;
        };
        const base = await phase(3);
        // outage: journald and nats down, the bot kicked (SMTP refuses all along)
        jd.proc.kill("SIGTERM");
        await jd.proc.exited;
        nats.kill("SIGTERM");
        await nats.exited;
        watcher.kick("f20bot");
        const during = await phase(OUTAGE);
        jd = await journald(ns);
        procs.push(jd.proc);
        const subBack = subReconnected();
        nats = await natsServer(natsPort);
        procs.push(nats);
        const restoredAt = n;
        // Core NATS keeps nothing for a subject nobody is subscribed to: a record the daemon
        // publishes before this test's own client has re-subscribed is lost by the server, not by
        // the receiver. Count nats from the moment the server has our subscription again.
        await Promise.race([subBack, Bun.sleep(10_000).then(() => Promise.reject(new Error("the test's nats client did not reconnect in 10 s")))]);
        await sub.flush();
        const natsFrom = n;
        await phase(3);
        const lastN = n;
        const inJournal = () => new Set(journalEntries(ns, tag).map((l) => Number(/inode #(\d+):/.exec(l)?.[1] ?? -1)));
        await waitFor(() => inJournal().has(lastN - 1), 15_000, "journald to get the last record").catch(() => false);
        await waitFor(() => natsGot.includes(lastN - 1), 15_000, "nats to get the last record").catch(() => false);
        const afterRejoin = () => {
          const joins = watcher.lines.map((l, i) => (l.startsWith(":f20bot!") && / JOIN /.test(l) ? i : -1)).filter((i) => i >= 0);
          return joins.length > 1 ? watcher.lines.slice(joins[1]).filter((l) => l.startsWith(":f20bot!") && l.includes("PRIVMSG")).length : 0;
        };
        await waitFor(() => afterRejoin() > 0, 10_000, "an IRC line after the rejoin").catch(() => false);
        const st = await status(sock);
        const q = (name: string) => instance(st, name);
        const fig = (i: InstanceStatus) => `sent ${i.queue?.sent}, dropped ${i.queue?.dropped}, errors ${i.queue?.errors}, max depth ${depths[i.name] ?? 0}/${i.queue?.max}; ${JSON.stringify(i.counters)}`;
        const afterRestore = (xs: number[], from = restoredAt) => xs.filter((i) => i >= from && i < lastN).length;
        const natsMissing = Array.from({ length: lastN - natsFrom }, (_, k) => natsFrom + k).filter((i) => !natsGot.includes(i));
        Object.assign(rep.figures, {
          "records sent": n, "file p50/p90/p99 ms baseline": [0.5, 0.9, 0.99].map((q) => pct(base, q).toFixed(1)).join(" / "),
          "file p50/p90/p99 ms during outage": [0.5, 0.9, 0.99].map((q) => pct(during, q).toFixed(1)).join(" / "),
          "journald: records after restart received": `${afterRestore([...inJournal()])} of ${lastN - restoredAt}`,
          "nats: records after the test client re-subscribed received": `${afterRestore(natsGot, natsFrom)} of ${lastN - natsFrom}`,
          "nats: records written between the restart and the re-subscription, received": `${natsGot.filter((i) => i >= restoredAt && i < natsFrom).length} of ${natsFrom - restoredAt}`, "nats: missing": natsMissing.join(" ") || "none",
          "irc: bot back in channel": watcher.lines.filter((l) => l.startsWith(":f20bot!") && / JOIN /.test(l)).length > 1 ? "yes" : "no",
          "irc: lines in the channel after the rejoin": afterRejoin(), "irc receiver": JSON.stringify(q("chat").extra), "nats receiver": JSON.stringify(q("bus").extra),
          "smtp: mails refused": smtp.refused(),
          journal: fig(q("journal")), bus: fig(q("bus")), mail: fig(q("mail")), chat: fig(q("chat")), file: fig(q("file")),
        });
        expect(d.proc.exitCode).toBeNull();
        expect(pct(during, 0.9)).toBeLessThanOrEqual(2 * pct(base, 0.9) + 10);
        // absolute 250 ms over the baseline phase's own p99: on a loaded machine that p99 alone can be tens of ms
        expect(pct(during, 0.99)).toBeLessThan(250 + pct(base, 0.99));
        for (const name of ["journal", "bus", "mail", "chat", "file"]) expect(depths[name] ?? 0).toBeLessThanOrEqual(q(name).queue!.max);
        expect(String(rep.figures["journald: records after restart received"])).toBe(`${lastN - restoredAt} of ${lastN - restoredAt}`);
        expect(natsMissing).toEqual([]);
        expect(lastN - natsFrom).toBeGreaterThan(10);
        expect(rep.figures["irc: bot back in channel"]).toBe("yes");
        expect(afterRejoin()).toBeGreaterThan(0);
        expect(smtp.refused()).toBeGreaterThan(0);
        // the refused mails are counted somewhere visible
        const mail = q("mail");
        expect((mail.queue?.errors ?? 0) + (mail.queue?.dropped ?? 0) + Object.entries(mail.counters).filter(([k]) => /fail|drop|error|refused/.test(k)).reduce((a, [, v]) => a + v, 0)).toBeGreaterThan(0);
      });
    } finally {
      await stopDaemon(d, 5000);
      watcher.close();
      smtp.close();
      await sub.close().catch(() => {});
    }
  });
}, 120_000);
