// What the nats receiver and the nats sender share: the connection keys of their schemas (servers,
// auth, TLS, reconnect backoff) and their translation to the client's ConnectionOptions. Plugins
// may not import each other, so this lives in the core.
import * as v from "valibot";
import type { Authenticator, ConnectionOptions } from "@nats-io/transport-node";
import { loadedNatsCore } from "./nats-lib.ts";
import { Duration } from "../config/schema.ts";
import { readOptionFile } from "./endpoint.ts";

const TOKEN_RE = /^[^\s.*>]+$/;

/** One subject token: NATS separators and wildcards (. * >) and whitespace become "_". */
export function subjectToken(s: string): string {
  return s.replace(/[\s.*>]/g, "_") || "_";
}

const Server = v.pipe(
  v.string(),
  v.regex(/^(?:(nats|tls):\/\/)?(?:[^\s@/]+@)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/, 'not a NATS server URL ("nats://host:4222", "tls://host:4222" or "host:4222")'),
);

export const SubjectPrefix = v.pipe(
  v.optional(v.pipe(v.string(), v.check((p) => p.split(".").every((t) => TOKEN_RE.test(t)), "subject_prefix: dot-separated tokens without spaces, * or >")), "storeventd"),
  v.description("Subjects are <subject_prefix>.<hostname>.<system>.<event_type> (dots in the host name become _)."),
);

export const StreamName = v.pipe(
  v.optional(v.pipe(v.string(), v.regex(/^[^\s.*>/\\]{1,255}$/, "not a valid stream name")), "STOREVENTD"),
  v.description("JetStream stream that stores the subjects."),
);

/** The connection keys, spread into each plugin's v.strictObject({...}). */
export const NATS_CONNECTION_KEYS = {
  servers: v.pipe(v.optional(v.pipe(v.array(Server), v.minLength(1)), ["nats://127.0.0.1:4222"]), v.description("NATS servers to connect to (one is enough; the cluster gossips the rest).")),
  name: v.pipe(v.optional(v.string()), v.description("Client name shown by the server's monitoring; default storeventd@<hostname>.")),
  user: v.pipe(v.optional(v.string()), v.description("User name; set with password.")),
  password: v.pipe(v.optional(v.string()), v.description("Password for user.")),
  token: v.pipe(v.optional(v.string()), v.description("Authentication token.")),
  token_file: v.pipe(v.optional(v.string()), v.description("File holding the token.")),
  credentials: v.pipe(v.optional(v.string()), v.description("A .creds file (JWT + nkey seed), as made by nsc.")),
  tls: v.pipe(v.optional(v.boolean(), false), v.description("Require TLS.")),
  ca_file: v.pipe(v.optional(v.string()), v.description("PEM file of the CA(s) that signed the server certificate.")),
  cert_file: v.pipe(v.optional(v.string()), v.description("Client certificate (mutual TLS); with key_file.")),
  key_file: v.pipe(v.optional(v.string()), v.description("Client key for cert_file.")),
  reconnect_min: v.pipe(v.optional(Duration, "250ms"), v.description("First reconnect delay; doubles (with jitter) up to reconnect_max.")),
  reconnect_max: v.pipe(v.optional(Duration, "30s"), v.description("Longest reconnect delay.")),
};

export interface NatsConnectionConfig {
  servers: string[];
  name?: string;
  user?: string;
  password?: string;
  token?: string;
  token_file?: string;
  credentials?: string;
  tls: boolean;
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  reconnect_min: number;
  reconnect_max: number;
}

/** Cross-field checks and file reads; throws a config error. Pure apart from reading the files. */
export function connectionOptions(o: NatsConnectionConfig, hostname: string): ConnectionOptions {
  const auths = [o.user !== undefined || o.password !== undefined, o.token !== undefined || o.token_file !== undefined, o.credentials !== undefined];
  if (auths.filter(Boolean).length > 1) throw new Error("give one of user+password, token/token_file, credentials");
  if ((o.user === undefined) !== (o.password === undefined)) throw new Error("user and password go together: give both or neither");
  if (o.token !== undefined && o.token_file !== undefined) throw new Error("token and token_file: give one");
  if ((o.cert_file === undefined) !== (o.key_file === undefined)) throw new Error("cert_file and key_file go together");
  if (o.reconnect_min > o.reconnect_max) throw new Error("reconnect_min is longer than reconnect_max");
  const token = o.token ?? readOptionFile(o.token_file, "token_file")?.trim();
  const creds = readOptionFile(o.credentials, "credentials");
  if (creds !== undefined && !/-----BEGIN NATS USER JWT-----/.test(creds)) throw new Error(`credentials: ${o.credentials} is not a NATS .creds file`);
  const anyTls = o.tls || o.ca_file !== undefined || o.cert_file !== undefined || o.servers.some((s) => s.startsWith("tls://"));
  const tls = anyTls
    ? { ca: readOptionFile(o.ca_file, "ca_file"), cert: readOptionFile(o.cert_file, "cert_file"), key: readOptionFile(o.key_file, "key_file") }
    : undefined;
  return {
    servers: o.servers,
    name: o.name ?? `storeventd@${hostname}`,
    user: o.user,
    pass: o.password,
    token,
    authenticator: creds !== undefined ? lazyCredsAuthenticator(new TextEncoder().encode(creds)) : undefined,
    tls: tls && Object.fromEntries(Object.entries(tls).filter(([, x]) => x !== undefined)),
    reconnect: true,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: false, // the plugins' own loops retry the first connect with backoff
    timeout: 10_000,
    pingInterval: 30_000,
  };
}

/** nats.js's credsAuthenticator, made when connect() first calls it (the library is loaded by then). */
function lazyCredsAuthenticator(creds: Uint8Array): Authenticator {
  let auth: Authenticator | undefined;
  return (nonce?: string) => (auth ??= loadedNatsCore().credsAuthenticator(creds))(nonce);
}
