// Receiver `agentx` (drbd-reactor's [[agentx]]): an AgentX subagent (RFC 2741) that serves the
// DRBD model as drbd-reactor's LINBIT DRBD MIB (1.3.6.1.4.1.23302) through a master agent such as
// net-snmp's snmpd. The MIB file ships as /usr/share/snmp/mibs/LINBIT-DRBD-MIB.txt.
import { DRBD_MODEL_SERVICE, readDrbdVersions, UNKNOWN_VERSIONS, type DrbdVersions } from "../../../src/plugin-kit/drbd.ts";
import * as v from "valibot";
import { definePlugin, type ReceiverContext, type StorageEvent } from "../../../src/plugin-api.ts";
import type { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import { parseHostPort } from "../../../src/plugin-kit/endpoint.ts";
import { buildMib, LINBIT, MibView } from "./mib.ts";
import { PDU, type Pdu, VT } from "./pdu.ts";
import { AgentxSession } from "./session.ts";
import sample from "./sample.toml" with { type: "text" };
import { startedSection } from "../../../src/plugin-kit/ctl.ts";

/** A walk's GetNexts within this of each other see one MIB (drbd-reactor's 15 s "burst" cache). */
const BURST_MS = 15_000;

const Seconds = (def: number, max: number) => v.pipe(v.optional(v.number(), def), v.integer("expected whole seconds"),
  v.minValue(0, "expected seconds >= 0"), v.maxValue(max, `expected seconds <= ${max}`));

const schema = v.strictObject({
  address: v.pipe(
    v.optional(v.string(), "localhost:705"),
    v.check((a) => typeof parseHostPort(a, 705) !== "string", 'expected "HOST:PORT" ("[IPv6]:PORT")'),
    v.description("the master agent's AgentX TCP address (snmpd: agentXSocket tcp:localhost:705)"),
  ),
  "cache-max": v.pipe(Seconds(60, 86_400), v.description("seconds a built MIB is reused before the model is read again")),
  "agent-timeout": v.pipe(Seconds(60, 86_400),
    v.description("seconds the master agent waits for our answer (the AgentX Open timeout; above 255 counts as 255)")),
  "peer-states": v.pipe(v.optional(v.boolean(), true),
    v.description("also serve per device how many peers are in each disk and replication state")),
});
type Config = v.InferOutput<typeof schema>;

class AgentxReceiver {
  private session: AgentxSession;
  private version: DrbdVersions = UNKNOWN_VERSIONS;
  private view: MibView | null = null;
  private builtAt = 0;
  private burstAt = 0;
  private builds = 0;

  constructor(private cfg: Config, private ctx: ReceiverContext, testing: { pingMs?: number } = {}) {
    const hp = parseHostPort(cfg.address, 705) as { host: string; port: number };
    this.session = new AgentxSession({
      host: hp.host, port: hp.port, timeout: cfg["agent-timeout"], subtree: LINBIT, descr: "DRBD by storeventd::agentx",
      log: ctx.log, count: (n) => ctx.count(n), answer: (pdu) => this.answer(pdu), pingMs: testing.pingMs,
    });
  }

  start(): void {
    this.session.start();
    void this.readVersion(); // a slow drbdadm must not hold up the daemon's start
  }

  private async readVersion(): Promise<void> {
    this.version = await readDrbdVersions(); // no drbdadm: 0.0.0, as in drbd-reactor
    this.view = null;
  }

  /** The MIB to answer from: rebuilt when older than cache-max, kept during a walk's burst. */
  private mib(next: boolean, now = Date.now()): MibView {
    const inBurst = next && now - this.burstAt <= BURST_MS;
    if (next) this.burstAt = now;
    if (this.view && (inBurst || now - this.builtAt < this.cfg["cache-max"] * 1000)) return this.view;
    const model = this.ctx.services.get(DRBD_MODEL_SERVICE);
    this.view = new MibView(buildMib(model ? model.resources() : [], this.version, this.cfg["peer-states"]));
    this.builtAt = now;
    this.builds++;
    return this.view;
  }

  answer(pdu: Extract<Pdu, { ranges: unknown }>) {
    if (pdu.type === PDU.Get) return this.mib(false).get(pdu.ranges);
    const view = this.mib(true);
    const vbs = pdu.type === PDU.GetBulk
      ? view.getBulk(pdu.nonRepeaters, pdu.maxRepetitions, pdu.ranges)
      : view.getNext(pdu.ranges);
    // The walk left our subtree: the next one starts from a fresh MIB.
    if (vbs.every((vb) => vb.type === VT.EndOfMibView)) this.burstAt = 0;
    return vbs;
  }

  send(_events: readonly StorageEvent[]): void {
    // The MIB is read from the live model on demand: nothing to do per event.
  }

  async close(): Promise<void> {
    await this.session.close();
  }

  status(): Record<string, unknown> {
    return { address: this.cfg.address, ...this.session.status(), mib_builds: this.builds };
  }
}

export { AgentxReceiver };

export default definePlugin({
  kind: "receiver",
  name: "agentx",
  reactorTable: "agentx",
  ctl: {
    order: 5,
    status: startedSection("agentx", "AgentX", { says: "connecting to main agent at" }),
    read: (e) => ({ address: typeof e.address === "string" ? e.address : "localhost:705" }),
    template: `[[agentx]]
## address of the main SNMP daemon's AgentX TCP socket
# address = "localhost:705"
# cache-max = 60 # seconds
# agent-timeout = 60 # seconds snmpd waits for an answer
# peer-states = true # include peer connection and disk states`,
  },
  needs: ["events2"],
  description: "drbd-reactor's AgentX subagent: the DRBD model as the LINBIT DRBD MIB through snmpd",
  schema,
  sample,
  create(config, ctx) {
    return new AgentxReceiver(config, ctx);
  },
});
