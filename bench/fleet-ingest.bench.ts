// Fleet node ingest: events/s the nats sender takes from one local nats-server (JetStream, file
// storage, durable consumer, cumulative acks up to its handled floor), with nothing else running:
// - into a counting pipeline (inject = count), and into a real event store (add + one transaction
//   per ack batch, as the store's sync() does);
// - as a ratio to a bare nats.js consumer of the same stream that only parses and acks each message
//   (AckExplicit), and to one that acks every 1000th (AckAll: the ceiling of the client library).
// N events are published first (FLEET_BENCH_N, default 100000), from 10 hosts. Each run also reports
// the CPU microseconds per event of this process and of nats-server: wall-clock rates on this shared
// 2-core machine follow its load, CPU per event hardly does. The bare consumers have no subject
// filter, like the sender's consumer on a stream of only <subject_prefix>.>.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { connect } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import plugin, { type NatsSender } from "../plugins/sender/nats/index.ts";
import { makeContext } from "../test/helpers/context.ts";
import { makeEvent, freePort, waitForPort } from "../test/helpers/receiver.ts";
import { EventStore } from "../plugins/receiver/store/sqlite.ts";
import { STORE_SERVICE } from "../src/store-api.ts";

const N = Number(process.env.FLEET_BENCH_N ?? 100_000);

/** CPU seconds (user + system) a process used so far, from /proc. */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** CPU of this process and of nats-server per drained run: a figure the machine's load hardly moves. */
const cpu: Record<string, { client: number; server: number }> = {};
let serverPid = 0;

async function drain(name: string, until: () => boolean, timeoutMs = 120_000): Promise<number> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const s0 = cpuOf(serverPid);
  while (!until()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${name}: timed out`);
    await Bun.sleep(5);
  }
  const c = process.cpuUsage(c0);
  cpu[name] = { client: (c.user + c.system) / 1e6, server: cpuOf(serverPid) - s0 };
  return (performance.now() - t0) / 1000;
}

export default async function (): Promise<Record<string, number | string>> {
  const natsServer = Bun.which("nats-server") ?? Bun.which("nats-server", { PATH: "/usr/sbin:/usr/bin" });
  if (!natsServer) throw new Error("nats-server not found");
  const dir = mkdtempSync(join(tmpdir(), "fleet-bench-"));
  const port = await freePort();
  const srv = Bun.spawn([natsServer, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", join(dir, "js")], { stdout: "ignore", stderr: "ignore" });
  serverPid = srv.pid;
  try {
    await waitForPort(port, "nats-server");
    const nc = await connect({ servers: `127.0.0.1:${port}` });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "STOREVENTD", subjects: ["storeventd.>"] });
    const js = jetstream(nc);
    for (let i = 0; i < N; i += 1000) {
      await Promise.all(Array.from({ length: Math.min(1000, N - i) }, (_, k) => {
        const e = makeEvent({ hostname: `host-${(i + k) % 10}` });
        return js.publish(`storeventd.${e.hostname}.multipath.DM_MPATH_PATH_DOWN`, JSON.stringify(e), { msgID: e.event_id });
      }));
    }

    // Baselines: bare consumers that only parse and ack.
    const bareRun = async (name: string, all: boolean) => {
      await jsm.consumers.add("STOREVENTD", { durable_name: name, ack_policy: all ? AckPolicy.All : AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 20_000 });
      let n = 0;
      const msgs = await js.consumers.get("STOREVENTD", name).then((c) => c.consume({ max_messages: 5000 }));
      void (async () => {
        for await (const m of msgs) {
          m.json();
          if (!all || ++n % 1000 === 0 || n === N) m.ack();
          if (!all) n++;
        }
      })();
      const secs = await drain(name, () => n >= N);
      await msgs.close();
      return secs;
    };
    const bareS = await bareRun("bare", false);
    const bareAllS = await bareRun("bare-all", true);

    const run = async (durable: string, withStore: boolean) => {
      const { ctx, rec } = makeContext({ instance: "fleet", hostname: "fleet-node" });
      let injected = 0;
      const store = withStore ? new EventStore({ path: join(dir, `${durable}.db`), maxAgeUs: 0, maxBytes: 0 }) : undefined;
      ctx.inject = store ? (e) => void (store.add([e]), injected++) : () => void injected++;
      ctx.delivered = async () => store?.flush();
      if (store) ctx.services.provide(STORE_SERVICE, store);
      const s = plugin.create(v.parse(plugin.schema, { servers: [`127.0.0.1:${port}`], durable }), ctx) as NatsSender;
      s.start();
      const done = s.run();
      const secs = await drain(durable, () => injected >= N && (s.status().acked as number) >= N);
      if (process.env.FLEET_BENCH_DEBUG) console.log(durable, JSON.stringify(s.status()));
      await s.close();
      await done;
      store?.close();
      void rec;
      return secs;
    };
    const plainS = await run("bench-plain", false);
    const storeS = await run("bench-store", true);
    await nc.close();
    return {
      events: N,
      bare_consumer_events_per_s: Math.round(N / bareS),
      bare_consumer_ack_all_events_per_s: Math.round(N / bareAllS),
      fleet_ingest_events_per_s: Math.round(N / plainS),
      fleet_ingest_vs_bare_consumer: Number((bareS / plainS).toFixed(2)),
      fleet_ingest_vs_bare_ack_all_consumer: Number((bareAllS / plainS).toFixed(2)),
      fleet_ingest_into_store_events_per_s: Math.round(N / storeS),
      fleet_ingest_into_store_vs_bare_ack_all_consumer: Number((bareAllS / storeS).toFixed(2)),
      ...Object.fromEntries(Object.entries(cpu).flatMap(([k, c]) => [
        [`${k}_client_cpu_us_per_event`, Number(((c.client * 1e6) / N).toFixed(1))],
        [`${k}_nats_server_cpu_us_per_event`, Number(((c.server * 1e6) / N).toFixed(1))],
      ])),
      load_average_1m: Number(loadavg()[0]!.toFixed(2)),
      goal: "fleet_ingest_events_per_s >= 50000",
    };
  } finally {
    srv.kill("SIGKILL");
    await srv.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
