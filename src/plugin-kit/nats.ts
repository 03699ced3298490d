// NATS connection options shared by the nats sender and receiver (auth, TLS, stream and subject names).
export * from "../util/nats-options.ts";
export * from "../util/nats-lib.ts";
