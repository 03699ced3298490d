// The host's status summary, published every `heartbeat` on core NATS for fleet nodes: version,
// uptime, senders, drops, DRBD resources and what a promoter manages here.
import type { NatsConnection } from "@nats-io/transport-node";
import type { ReceiverContext } from "../../../src/plugin-api.ts";
import { DAEMON_STATUS_SERVICE, heartbeatSubject, type Heartbeat } from "../../../src/plugin-kit/fleet.ts";
import { DRBD_MODEL_SERVICE, PROMOTER_SERVICE } from "../../../src/plugin-kit/services.ts";
import { subjectToken } from "../../../src/plugin-kit/nats.ts";

/** Builds one heartbeat from the services the daemon provides (each may be missing). */
export async function buildHeartbeat(ctx: ReceiverContext, intervalMs: number): Promise<Heartbeat> {
  const st = ctx.services.get(DAEMON_STATUS_SERVICE)?.();
  const model = ctx.services.get(DRBD_MODEL_SERVICE);
  const promoter = ctx.services.get(PROMOTER_SERVICE);
  const drops = (st?.counters["receiver_dropped"] ?? 0);
  return {
    hostname: ctx.hostname,
    time: new Date().toISOString(),
    interval_s: intervalMs / 1000,
    version: st?.version ?? "",
    uptime_s: st?.uptime_s ?? 0,
    senders: (st?.instances ?? []).filter((i) => i.kind === "sender").map((i) => ({ name: i.name, plugin: i.plugin, counters: i.counters })),
    drops,
    drbd: (model?.toStatusJson() ?? []) as Heartbeat["drbd"],
    promoter: (promoter ? await promoter.status().catch(() => []) : []) as unknown as Heartbeat["promoter"],
  };
}

export class Heartbeater {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private ctx: ReceiverContext, private prefix: string, private intervalMs: number, private conn: () => NatsConnection | undefined) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
  }

  /** Publishes one heartbeat now when connected (also right after a connect). */
  async beat(): Promise<void> {
    const nc = this.conn();
    if (this.intervalMs <= 0 || !nc || nc.isClosed()) return;
    try {
      const hb = await buildHeartbeat(this.ctx, this.intervalMs);
      nc.publish(heartbeatSubject(this.prefix, subjectToken(this.ctx.hostname)), JSON.stringify(hb));
      this.ctx.count("heartbeats");
    } catch (e) {
      this.ctx.log.once("heartbeat", `nats: heartbeat: ${(e as Error).message}`);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
