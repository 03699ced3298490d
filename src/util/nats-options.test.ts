// connectionOptions(): a .creds file becomes an authenticator that answers the server's nonce as
// nats.js's own credsAuthenticator does, though the client library is loaded only at the first
// connect (nats-lib.ts).
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectionOptions } from "./nats-options.ts";
import { natsLibs } from "./nats-lib.ts";

test("credentials: the lazily made authenticator signs the nonce as credsAuthenticator does", async () => {
  const { core } = await natsLibs();
  const seed = new TextDecoder().decode(core.nkeys.createUser().getSeed());
  const jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln";
  const creds = `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`;
  const dir = mkdtempSync(join(tmpdir(), "nats-creds-"));
  try {
    writeFileSync(join(dir, "u.creds"), creds);
    const opts = connectionOptions({
      servers: ["nats://127.0.0.1:4222"], credentials: join(dir, "u.creds"), tls: false, reconnect_min: 100, reconnect_max: 1000,
    } as Parameters<typeof connectionOptions>[0], "h");
    const want = core.credsAuthenticator(new TextEncoder().encode(creds))("nonce-1");
    const got = (opts.authenticator as (n?: string) => unknown)("nonce-1");
    expect(got).toEqual(want);
    expect(got).toMatchObject({ jwt });
    expect((got as { sig: unknown }).sig).toBeTruthy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
