// multicast receiver: datagram truncation, config errors, and two processes (sender, subscriber)
// inside a network namespace the test creates (IPv4 on lo, IPv6 on a veth pair).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { parseGroup } from "../../../src/plugin-kit/multicast.ts";
import { subscribe } from "../../../src/plugin-kit/multicast.ts";
import { checkSampleAndReadme, makeEvent, receiverContext, schemaErrors } from "../../../test/helpers/receiver.ts";
import plugin, { encodeDatagram, resolveInterface } from "./index.ts";
import { need, rootAnd, tool } from "../../../test/helpers/need.ts";

const dir = import.meta.dir;
const bun = process.execPath;

describe("multicast units", () => {
  test("parseGroup() accepts IPv4/IPv6 multicast groups and names what is wrong otherwise", () => {
    expect(parseGroup("239.0.0.77:6699")).toEqual({ family: 4, address: "239.0.0.77", port: 6699 });
    expect(parseGroup("[FF05::77]:6699")).toEqual({ family: 6, address: "ff05::77", port: 6699 });
    expect(parseGroup("10.0.0.1:6699")).toContain("not an IPv4 multicast");
    expect(parseGroup("[fe80::1]:6699")).toContain("not an IPv6 multicast");
    expect(parseGroup("239.0.0.1:70000")).toContain("port");
    expect(parseGroup("239.0.0.1")).toContain("ADDRESS:PORT");
    expect(parseGroup("host.example:1")).toContain("not an IP address");
  });

  test("encodeDatagram() keeps small events whole", () => {
    const e = makeEvent();
    const { buf, truncated } = encodeDatagram(e, 65000);
    expect(truncated).toBe(false);
    expect(JSON.parse(buf.toString())).toEqual(e);
  });

  test("encodeDatagram() drops raw first, then extension, then cuts msg; always fits and flags it", () => {
    const e = makeEvent({ raw: "r".repeat(70_000) });
    const a = JSON.parse(encodeDatagram(e, 65000).buf.toString());
    expect(a.raw).toBe("");
    expect(a.msg).toBe(e.msg);
    expect(a.extension).toEqual({ ...e.extension, truncated: true, original_size: Buffer.byteLength(JSON.stringify(e)) });

    const f = makeEvent({ raw: "r".repeat(10), extension: { big: "x".repeat(2000) } });
    const b = JSON.parse(encodeDatagram(f, 1000).buf.toString());
    expect(b.extension).toEqual({ truncated: true, original_size: Buffer.byteLength(JSON.stringify(f)) });
    expect(b.msg).toBe(f.msg);

    const g = makeEvent({ msg: 'é"\n'.repeat(3000) });
    const c = encodeDatagram(g, 2000);
    expect(c.buf.length).toBeLessThanOrEqual(2000);
    const cj = JSON.parse(c.buf.toString());
    expect(cj.msg.endsWith("…")).toBe(true);
    expect(g.msg.startsWith(cj.msg.slice(0, -1))).toBe(true);
    expect(cj.msg.length).toBeGreaterThan(100);
  });

  test("sample.toml validates and equals the README's Configuration block", () => {
    checkSampleAndReadme(plugin, dir);
  });

  test("schema rejects bad groups, TTLs and sizes", () => {
    expect(schemaErrors(plugin, {})[0]).toContain("group");
    expect(schemaErrors(plugin, { group: "10.1.1.1:6699" })[0]).toContain("not an IPv4 multicast");
    expect(schemaErrors(plugin, { group: "239.1.1.1:0" })[0]).toContain("port");
    expect(schemaErrors(plugin, { group: "239.1.1.1:6699", ttl: 300 })[0]).toContain("ttl");
    expect(schemaErrors(plugin, { group: "239.1.1.1:6699", max_size: 70000 })[0]).toContain("max_size");
    expect(schemaErrors(plugin, { group: "[ff05::1]:6699", ttl: 4 })).toEqual([]);
  });

  test("subscribe() rejects a bad group before opening anything", async () => {
    const it = subscribe("10.0.0.1:6699");
    await expect(it.next()).rejects.toThrow("bad multicast group: 10.0.0.1 is not an IPv4 multicast address");
  });

  test("resolveInterface(): IPv4 takes an address or a name (looked up), IPv6 a name that exists", () => {
    const nics = {
      lo: [{ address: "127.0.0.1", family: "IPv4" }, { address: "::1", family: "IPv6" }],
      v6only: [{ address: "fd00::1", family: "IPv6" }],
    } as unknown as ReturnType<typeof import("node:os").networkInterfaces>;
    expect(resolveInterface("10.0.0.5", 4, nics)).toBe("10.0.0.5");
    expect(resolveInterface("lo", 4, nics)).toBe("127.0.0.1");
    expect(resolveInterface("lo", 6, nics)).toBe("lo");
    expect(resolveInterface("v6only", 4, nics)).toEqual({ error: "interface v6only has no IPv4 address" });
    expect(resolveInterface("eth9", 6, nics)).toEqual({ error: "no interface eth9" });
  });

  test("create() rejects an interface that does not exist", async () => {
    const { ctx } = receiverContext();
    const opts = v.parse(plugin.schema, { group: "239.1.1.1:6699", interface: "nosuchnic0" });
    await expect(Promise.resolve().then(() => plugin.create(opts, ctx))).rejects.toThrow("interface: no interface nosuchnic0");
    const r = await plugin.create(v.parse(plugin.schema, { group: "239.1.1.1:6699", interface: "lo" }), ctx);
    await r.start?.();
    expect(r.status!().group).toBe("239.1.1.1:6699");
    await r.close?.();
  });
});

// ---- two processes in a network namespace ----

const ns = `sevdmc${process.pid}${Math.floor(Math.random() * 1e5)}`;
const requires = { ...rootAnd(), "ip (iproute2)": tool("ip") };

function ip(...args: string[]): void {
  const p = Bun.spawnSync(["ip", ...args], { stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${p.stderr.toString()}`);
}

async function runPair(group: string, count: number, rate: number, iface = "", bigEvery = 0, junk = 0) {
  const listener = Bun.spawn(["ip", "netns", "exec", ns, bun, `${dir}/testdata/listen.ts`, group, String(count), "20000", iface], {
    stdout: "pipe", stderr: "inherit",
  });
  const reader = listener.stdout.getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  expect(out).toContain("ready");
  const sender = Bun.spawn(["ip", "netns", "exec", ns, bun, `${dir}/testdata/send.ts`, group, String(count), String(rate), iface, String(bigEvery)], {
    stdout: "pipe", stderr: "inherit", env: { ...process.env, JUNK: String(junk) },
  });
  const sent = JSON.parse((await new Response(sender.stdout).text()).trim());
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  await listener.exited;
  const got = JSON.parse(out.trim().split("\n").pop()!);
  return { sent, got };
}

describe("multicast between two processes in a network namespace", () => {
  beforeAll(() => {
    need(requires);
    ip("netns", "add", ns);
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "link", "set", "lo", "multicast", "on");
    ip("-n", ns, "route", "add", "239.0.0.0/8", "dev", "lo");
    // IPv6 multicast does not work over lo (only ::1, host scope): a veth pair inside the namespace.
    ip("-n", ns, "link", "add", "mc0", "type", "veth", "peer", "name", "mc1");
    ip("-n", ns, "link", "set", "mc0", "up");
    ip("-n", ns, "link", "set", "mc1", "up");
    ip("-n", ns, "addr", "add", "fd00:5e::1/64", "dev", "mc0", "nodad");
    ip("-n", ns, "-6", "route", "add", "ff05::/16", "dev", "mc0");
  });
  afterAll(() => {
    Bun.spawnSync(["ip", "netns", "del", ns]);
  });

  test("IPv4: 20000 events at 10k events/s arrive without loss", async () => {
    const { sent, got } = await runPair("239.7.7.7:16699", 20_000, 10_000);
    console.log(`multicast ipv4: sent ${sent.sent} in ${sent.ms} ms (${Math.round((sent.sent / sent.ms) * 1000)} ev/s), received ${got.unique}`);
    expect(sent.sent).toBe(20_000);
    expect(sent.errors).toBe(0);
    expect(got.seqs_missing).toBe(0);
    expect(got.unique).toBe(20_000);
    expect(got.bad).toBe(0);
  }, 60_000);

  test("IPv6 on an interface: events arrive; oversized ones truncated as documented; junk is reported, not yielded", async () => {
    const { sent, got } = await runPair("[ff05::5e:77]:16700", 2000, 5000, "mc0", 100, 6);
    expect(got.bad).toBe(6);
    expect(sent.sent).toBe(2000);
    expect(sent.truncated).toBe(20);
    expect(got.unique).toBe(2000);
    expect(got.truncated).toBe(20);
    expect(got.max_bytes).toBeLessThanOrEqual(65000);
  }, 60_000);
});
