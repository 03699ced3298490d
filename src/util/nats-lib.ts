// The NATS client (nats.js core and JetStream), loaded at the first connect: imported at start-up
// it costs every daemon about 10 MB of resident memory, and most never talk to NATS.
export type NatsCore = typeof import("@nats-io/transport-node");
export type NatsJetStream = typeof import("@nats-io/jetstream");

let core: NatsCore | undefined;
let js: NatsJetStream | undefined;

export async function natsLibs(): Promise<{ core: NatsCore; js: NatsJetStream }> {
  core ??= await import("@nats-io/transport-node");
  js ??= await import("@nats-io/jetstream");
  return { core, js };
}

/** The core library once natsLibs() has resolved (an authenticator runs inside connect()). */
export function loadedNatsCore(): NatsCore {
  if (!core) throw new Error("nats: the client library is not loaded yet");
  return core;
}
