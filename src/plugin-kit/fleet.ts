// The fleet contract: heartbeats the nats receiver publishes, the fleet service the nats sender offers.
export * from "../fleet-api.ts";
export type { DaemonStatus } from "../daemon-api.ts";
