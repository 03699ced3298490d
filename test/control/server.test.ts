// The control API on a real unix socket with real HTTP, in front of a fake daemon handle.
import { STORE_SERVICE } from "../../src/store-api.ts";
import { PROMOTER_SERVICE, type PromoterControl } from "../../plugins/receiver/promoter/controller.ts";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { startControlServer, type ControlServer } from "../../src/control/server.ts";
import { ControlClient, ControlError } from "../../src/control/client.ts";
import { formatTime, nowUs, type StorageEvent } from "../../src/event.ts";
import { FakeDaemon, makeEvent, quietLog } from "../helpers/fake-daemon.ts";
import { startCrowd } from "./crowd.ts";
import { INVENTORY_SERVICE, type DeviceInventory } from "../../src/devices/index.ts";

let daemon: FakeDaemon;
let server: ControlServer | undefined;
let sock: string;

beforeEach(() => {
  daemon = new FakeDaemon({ store: true });
  sock = join(daemon.dir, "run", "control.sock");
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  daemon.cleanup();
});

async function start(opts: Partial<Parameters<typeof startControlServer>[1]> = {}): Promise<ControlClient> {
  server = await startControlServer(daemon, { socketPath: sock, log: quietLog, ...opts });
  return new ControlClient(sock);
}

/** One raw HTTP exchange: what the server answers (or nothing) and when it closed. */
function rawExchange(data: string | ((s: import("node:net").Socket) => void), timeoutMs = 20000): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = connect(sock);
    let text = "";
    s.setEncoding("utf8");
    s.on("data", (d) => (text += d));
    s.on("error", () => {});
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    s.on("close", () => { clearTimeout(timer); resolve({ text, closedAfterMs: Date.now() - t0 }); });
    s.on("connect", () => (typeof data === "string" ? s.write(data) : data(s)));
  });
}

async function collect(it: AsyncGenerator<StorageEvent>, n: number): Promise<StorageEvent[]> {
  const out: StorageEvent[] = [];
  for await (const e of it) {
    out.push(e);
    if (out.length >= n) break;
  }
  return out;
}

describe("control socket", () => {
  test("startControlServer() creates the directory 0750 and the socket 0660, group as configured", async () => {
    await start({ group: "nogroup" });
    const d = statSync(join(daemon.dir, "run"));
    const s = statSync(sock);
    expect(d.mode & 0o777).toBe(0o750);
    expect(s.isSocket()).toBe(true);
    expect(s.mode & 0o777).toBe(0o660);
    expect(s.uid).toBe(process.getuid!());
    expect(s.gid).toBe(65534);
    expect(d.gid).toBe(65534);
  });

  test("the HTTP server behind the gate starts at the first connection, in the private directory, 0660 there", async () => {
    const c = await start();
    const inner = join(daemon.dir, "run", ".control.sock.d", "http.sock");
    expect(statSync(join(daemon.dir, "run", ".control.sock.d")).mode & 0o777).toBe(0o700);
    expect(existsSync(inner)).toBe(false); // not started with the daemon
    expect((await c.status()).pid).toBe(process.pid);
    expect(statSync(inner).isSocket()).toBe(true);
    expect(statSync(inner).mode & 0o777).toBe(0o660);
    expect((await c.status()).pid).toBe(process.pid); // the second connection uses the same server
  });

  test("an existing private directory (systemd's RuntimeDirectory, 0750) gets the group; a shared one is left alone", async () => {
    const run = join(daemon.dir, "run");
    mkdirSync(run, { mode: 0o750 });
    chmodSync(run, 0o750);
    await start({ group: "nogroup" });
    expect(statSync(run).gid).toBe(65534);
    expect(statSync(run).mode & 0o777).toBe(0o750);
    await server!.close();
    const shared = join(daemon.dir, "shared");
    mkdirSync(shared, { mode: 0o755 });
    chmodSync(shared, 0o1777);
    server = await startControlServer(daemon, { socketPath: join(shared, "c.sock"), group: "nogroup", log: quietLog });
    expect(statSync(shared).gid).toBe(process.getgid!());
    expect(statSync(shared).mode & 0o7777).toBe(0o1777);
    expect(statSync(join(shared, "c.sock")).gid).toBe(65534);
  });

  test("a user outside the socket's group gets permission denied; a member gets through", async () => {
    await start({ group: "nogroup" });
    chmodSync(daemon.dir, 0o755);
    const probe = (args: string[]) => {
      const py = `import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); s.sendall(b"GET /v1/status HTTP/1.0\\r\\n\\r\\n"); print(s.recv(12).decode())\nexcept OSError as e: print(e.strerror)`;
      return Bun.spawn(["setpriv", ...args, "/usr/bin/python3", "-c", py, sock], { stdout: "pipe" }).stdout.text();
    };
    // nobody without group: EACCES at the 0750 directory / 0660 socket.
    expect((await probe(["--reuid=nobody", "--regid=65533", "--clear-groups"])).trim()).toBe("Permission denied");
    expect((await probe(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])).trim()).toBe("HTTP/1.1 200");
  });

  test("a stale socket file is replaced; a live one is an error", async () => {
    await start();
    await expect(startControlServer(daemon, { socketPath: sock, log: quietLog })).rejects.toThrow(/another storeventd is listening/);
    await server!.close();
    expect(existsSync(sock)).toBe(false);
    // A dead socket left behind by a crash.
    const py = `import socket,sys\ns=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])`;
    Bun.spawnSync(["/usr/bin/python3", "-c", py, sock]);
    expect(statSync(sock).isSocket()).toBe(true);
    const c = await start();
    expect((await c.status()).pid).toBe(process.pid);
    // Not a socket: refuse to delete it.
    await server!.close();
    writeFileSync(sock, "x");
    await expect(startControlServer(daemon, { socketPath: sock, log: quietLog })).rejects.toThrow(/not a socket/);
    server = undefined;
  });

  test("ControlClient errors name the socket when no daemon listens", async () => {
    const c = new ControlClient(join(daemon.dir, "nothing.sock"));
    const err = await c.status().catch((e) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect(err.kind).toBe("unreachable");
    expect(err.message).toBe(`storeventd is not running (cannot connect to ${join(daemon.dir, "nothing.sock")}: no such socket)`);
  });
});

describe("control API routes", () => {
  test("GET /v1/status is the daemon status plus store and control counters", async () => {
    const c = await start();
    daemon.store!.add([makeEvent()]);
    daemon.store!.flush();
    const st = await c.status();
    expect(st).toMatchObject({ version: "0.1.0", pid: process.pid, hostname: "testhost" });
    expect(st.instances.map((i) => i.name)).toEqual(["kmsg", "store"]);
    expect(st.store).toMatchObject({ events: 1, path: join(daemon.dir, "events.db") });
    expect(st.store!.bytes).toBeGreaterThan(0);
    expect(st.control).toMatchObject({ socket: sock, follow_clients: 0 });
  });

  test("GET /v1/events filters by every parameter", async () => {
    const c = await start();
    const base = nowUs() - 3600e6;
    const evs = [
      makeEvent({ time_us: base, system: "scsi", severity: "error", event_type: "SCSI_SENSE", dev_name: "sdb" }),
      makeEvent({ time_us: base + 1e6, system: "multipath", severity: "warn", event_type: "DM_MPATH_PATH_DOWN", dev_name: "dm-0" }),
      makeEvent({ time_us: base + 2e6, system: "fs", severity: "info", event_type: "FS_MOUNTED", dev_name: "sdc1" }),
      makeEvent({ time_us: nowUs() - 60e6, system: "scsi", severity: "warn", event_type: "SCSI_TIMEOUT", dev_name: "sdc" }),
    ];
    for (const e of evs) daemon.emit(e); // buffered in the store: the API flushes before reading
    const ids = (es: StorageEvent[]) => es.map((e) => evs.indexOf(evs.find((x) => x.event_id === e.event_id)!));
    expect(ids(await c.events({}))).toEqual([0, 1, 2, 3]);
    expect(await c.events({})).toEqual(evs);
    expect(ids(await c.events({ system: ["scsi"] }))).toEqual([0, 3]);
    expect(ids(await c.events({ severity: "warn" }))).toEqual([0, 1, 3]);
    expect(ids(await c.events({ type: ["FS_MOUNTED", "DM_MPATH_PATH_DOWN"] }))).toEqual([1, 2]);
    expect(ids(await c.events({ dev: ["/dev/sdc"] }))).toEqual([3]);
    expect(ids(await c.events({ since: "5m" }))).toEqual([3]);
    expect(ids(await c.events({ since: formatTime(base + 1e6), until: formatTime(base + 2e6) }))).toEqual([1]);
    expect(ids(await c.events({ limit: 2 }))).toEqual([0, 1]);
    expect(ids(await c.events({ limit: 2, order: "desc" }))).toEqual([3, 2]);
    expect(ids(await c.events({ system: ["scsi", "fs"], severity: "warn" }))).toEqual([0, 3]);
  });

  test("GET /v1/events rejects bad parameters with 400 {error, detail}", async () => {
    await start();
    const cases: [string, RegExp][] = [
      ["severity=fatal", /severity must be one of info, warn, error/],
      ["since=yesterday-ish", /since: "yesterday-ish" is not an RFC 3339 time/],
      ["limit=0", /limit must be an integer/],
      ["limit=abc", /limit must be an integer/],
      ["sevirity=warn", /unknown parameter "sevirity"/],
      ["order=sideways", /order must be asc or desc/],
      ["follow=1&limit=5", /limit does not apply to follow=1/],
      ["follow=maybe", /follow must be 1 or 0/],
    ];
    for (const [q, re] of cases) {
      const res = await fetch(`http://localhost/v1/events?${q}`, { unix: sock } as RequestInit);
      expect(res.status).toBe(400);
      const body = await res.json() as { error: string; detail: string };
      expect(body.error).toBe("bad_request");
      expect(body.detail).toMatch(re);
    }
  });

  test("GET /v1/events without a store is 503 no_store; unknown routes 404; wrong methods 405", async () => {
    daemon.services.provide(STORE_SERVICE, undefined);
    await start();
    const get = (path: string, method = "GET") => fetch(`http://localhost${path}`, { unix: sock, method } as RequestInit);
    let res = await get("/v1/events");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: "no_store" });
    res = await get("/v2/whatever");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not_found", detail: "no route /v2/whatever" });
    res = await get("/v1/reload");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    res = await get("/v1/status", "DELETE");
    expect(res.status).toBe(405);
    expect(await res.json()).toMatchObject({ error: "method_not_allowed" });
  });

  test("GET /v1/devices lists the inventory; /v1/devices/{name} resolves names, paths, major:minor; 404 otherwise", async () => {
    const c = await start();
    const list = await c.devices() as { name: string }[];
    const sys = (await Array.fromAsync(new Bun.Glob("*").scan({ cwd: "/sys/class/block", onlyFiles: false }))).sort();
    expect(list.map((d) => d.name).sort()).toEqual(sys);
    const loop = sys.find((n) => /^loop\d+$/.test(n)) ?? sys[0];
    if (loop) {
      const majmin = readFileSync(`/sys/class/block/${loop}/dev`, "utf8").trim();
      const one = await c.device(loop);
      expect(one).toMatchObject({ name: loop, majmin, dev_path: `/dev/${loop}`, owners: expect.any(Array), mounts: expect.any(Array) });
      expect(await c.device(`/dev/${loop}`)).toEqual(one);
      expect(await c.device(majmin)).toEqual(one);
    }
    expect(await c.device("nosuchdev9")).toBeUndefined();
    // The udev sender's live inventory, when it runs, answers instead.
    daemon.services.provide(INVENTORY_SERVICE, {
      list: () => [{ name: "sdz", size_bytes: 1 }],
      get: (n: string) => (n === "sdz" ? { name: "sdz", size_bytes: 1 } : undefined),
      resolve: (q: string) => (q === "8:400" ? "sdz" : q),
      ownersOf: () => [{ dev_name: "dm-9", dev_wwid: "mpathz" }],
    } as unknown as DeviceInventory);
    expect(await c.devices()).toEqual([{ name: "sdz", size_bytes: 1 }]);
    expect(await c.device("8:400")).toEqual({ name: "sdz", size_bytes: 1, owners: [{ dev_name: "dm-9", dev_wwid: "mpathz" }], mounts: [] });
  });

  test("ControlClient.deviceEvents() (for info DEV) gives a device's newest events, oldest first; [] without a store", async () => {
    const c = await start();
    const base = nowUs() - 60e6;
    const mine = Array.from({ length: 30 }, (_, i) => makeEvent({ dev_name: "sdq", time_us: base + i, msg: `q${i}` }));
    for (const [i, e] of mine.entries()) {
      daemon.emit(e);
      daemon.emit(makeEvent({ dev_name: "sdr", time_us: base + i }));
    }
    expect((await c.deviceEvents("/dev/sdq", 5)).map((e) => e.msg)).toEqual(["q25", "q26", "q27", "q28", "q29"]);
    expect((await c.deviceEvents("sdq")).length).toBe(20);
    expect(await c.deviceEvents("sdz")).toEqual([]);
    daemon.services.provide(STORE_SERVICE, undefined);
    expect(await c.deviceEvents("sdq")).toEqual([]);
  });

  test("/v1/promoter/... reaches the promoter's routes when a [[promoter]] runs; 503 no_promoter otherwise", async () => {
    const c = await start();
    const none = await fetch("http://localhost/v1/promoter", { unix: sock } as RequestInit);
    expect(none.status).toBe(503);
    expect(await none.json()).toMatchObject({ error: "no_promoter" });
    const calls: string[] = [];
    daemon.services.provide(PROMOTER_SERVICE, {
      status: async (res?: string) => [{ name: res ?? "r0", state: "running" }],
      evict: async (res: string, to?: string) => (calls.push(`evict ${res} ${to}`), { ok: true, message: `evicted ${res}` }),
      disable: async () => ({ ok: true, message: "" }), enable: async () => ({ ok: true, message: "" }),
      maintenance: async () => ({ ok: true, message: "" }),
    } as unknown as PromoterControl);
    expect(await c.get("/v1/promoter/r7")).toEqual({ ok: true, resources: [{ name: "r7", state: "running" }] });
    const ev = await fetch("http://localhost/v1/promoter/r0/evict?to=node-b", { method: "POST", unix: sock } as RequestInit);
    expect(await ev.json()).toEqual({ ok: true, message: "evicted r0" });
    expect(calls).toEqual(["evict r0 node-b"]);
    // HTTP/1.0 without a Host header (a relative request URL) works too.
    const raw = await rawExchange("GET /v1/promoter HTTP/1.0\r\n\r\n");
    expect(raw.text).toMatch(/^HTTP\/1\.1 200 [\s\S]*"resources":\[\{"name":"r0"/);
    expect((await fetch("http://localhost/v1/promoterx", { unix: sock } as RequestInit)).status).toBe(404);
  });

  test("GET /v1/drbd/resources is the model's drbdsetup-status-json array", async () => {
    const res0 = [{ name: "r0", role: "Primary", devices: [{ volume: 0, minor: 1000, "disk-state": "UpToDate" }], connections: [] }];
    daemon.drbd.toStatusJson = () => res0;
    const c = await start();
    expect(await c.drbdResources()).toEqual(res0);
  });

  test("POST /v1/reload returns started/stopped/kept; a failed reload is 422; concurrent ones 409", async () => {
    const c = await start();
    expect(await c.reload()).toEqual({ ok: true, started: ["mail"], stopped: ["old"], kept: ["kmsg", "store"] });
    daemon.reloadResult = { ok: false, error: "storeventd.toml:3: unknown key \"flter\"", started: [], stopped: [], kept: ["kmsg"] };
    const err = await c.reload().catch((e) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect(err.status).toBe(422);
    expect(err.message).toContain('storeventd.toml:3: unknown key \\"flter\\"'.replace(/\\/g, ""));
    daemon.reloadResult = { ok: true, started: [], stopped: [], kept: [] };
    daemon.reloadDelayMs = 200;
    const [a, b] = await Promise.allSettled([c.reload(), Bun.sleep(50).then(() => c.reload())]);
    expect(a.status).toBe("fulfilled");
    expect(b.status).toBe("rejected");
    expect((b as PromiseRejectedResult).reason.status).toBe(409);
    expect(daemon.reloads).toBe(3);
  });
});

describe("follow stream", () => {
  test("follow=1 delivers every live event in order, filtered", async () => {
    const c = await start();
    const all = c.follow({});
    const scsiOnly = c.follow({ system: ["scsi"], severity: "error" });
    const gotAll = collect(all, 2000);
    const gotScsi = collect(scsiOnly, 1000);
    await Bun.sleep(100);
    const sent: StorageEvent[] = [];
    for (let i = 0; i < 2000; i++) {
      const e = makeEvent({ system: i % 2 ? "fs" : "scsi", extension: { n: i } });
      sent.push(e);
      daemon.emit(e);
      if (i % 200 === 0) await Bun.sleep(1);
    }
    expect((await gotAll).map((e) => e.event_id)).toEqual(sent.map((e) => e.event_id));
    expect((await gotScsi).map((e) => e.event_id)).toEqual(sent.filter((e) => e.system === "scsi").map((e) => e.event_id));
  });

  test("follow=1&since replays stored, buffered and in-flight events, then live: no gap, no duplicate", async () => {
    const c = await start();
    const sent: StorageEvent[] = [];
    const t = nowUs() - 10e6;
    // Old events that the replay must skip (before `since`).
    for (let i = 0; i < 5; i++) daemon.emit(makeEvent({ time_us: t - 3600e6 }));
    // 2500 flushed to the file, 300 still buffered in the store, 200 routed but not yet at the
    // store (its receiver queue): every one belongs in the replay.
    for (let i = 0; i < 2500; i++) { const e = makeEvent({ time_us: t + i }); sent.push(e); daemon.emit(e); }
    daemon.store!.flush();
    for (let i = 0; i < 300; i++) { const e = makeEvent({ time_us: t + 2500 + i }); sent.push(e); daemon.emit(e); }
    const inFlight: StorageEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const e = makeEvent({ time_us: t + 2800 + i });
      sent.push(e);
      inFlight.push(e);
      for (const l of daemon.listeners) l(e); // routed, not yet stored
    }
    const got = collect(c.follow({ since: formatTime(t) }), 4000);
    // Live events while the replay pages through the store; the store catches up meanwhile.
    for (let i = 0; i < 1000; i++) {
      if (i === 500) { daemon.store!.add(inFlight); daemon.store!.flush(); }
      const e = makeEvent();
      sent.push(e);
      daemon.emit(e);
      if (i % 50 === 0) await Bun.sleep(1);
    }
    const ids = (await got).map((e) => e.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(sent.map((e) => e.event_id));
  });

  test("a store closed during a replay (reload restarted it) ends the replay; live events still follow", async () => {
    const c = await start({ follow: { clientMaxBytes: 64 << 10, pageSize: 50 } });
    const t = nowUs() - 60e6;
    for (let i = 0; i < 3000; i++) daemon.store!.add([makeEvent({ time_us: t + i })]);
    daemon.store!.flush();
    const it = c.follow({ since: formatTime(t) });
    const got: StorageEvent[] = [];
    for (let i = 0; i < 10; i++) got.push((await it.next()).value!);
    daemon.store!.close();
    daemon.services.provide(STORE_SERVICE, undefined);
    const live = makeEvent({ msg: "after the store went away" });
    daemon.emit(live);
    for (;;) {
      const e = (await it.next()).value!;
      got.push(e);
      if (e.event_id === live.event_id) break;
    }
    expect(got.length).toBeLessThan(3001);
    expect(new Set(got.map((e) => e.event_id)).size).toBe(got.length);
    await it.return(undefined);
  });

  test("close() ends follow streams cleanly: the client sees the end, not an error", async () => {
    const c = await start();
    const it = c.follow({});
    const first = it.next();
    await Bun.sleep(50);
    daemon.emit(makeEvent({ msg: "last one" }));
    expect((await first).value?.msg).toBe("last one");
    await server!.close();
    server = undefined;
    expect((await it.next()).done).toBe(true);
  });

  test("100 follow clients, 10 never reading: the 90 get everything in order, the 10 are dropped, RSS stays bounded", async () => {
    await start({ follow: { clientMaxBytes: 256 << 10 } });
    const total = 6000;
    const crowd = startCrowd(sock, 90, 10, total);
    const progress = crowd.progress;
    const status = () => fetch("http://localhost/v1/status", { unix: sock } as RequestInit).then((r) => r.json()) as Promise<{ control: Record<string, number> }>;
    for (let i = 0; i < 200 && (await status()).control.follow_clients! < 100; i++) await Bun.sleep(25);
    expect((await status()).control.follow_clients).toBe(100);
    Bun.gc(true);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    let maxQueued = 0;
    const pad = "p".repeat(900);
    for (let n = 1; n <= total; n++) {
      daemon.listeners.forEach((l) => l(makeEvent({ raw: pad, extension: { n } })));
      if (n % 100 === 0) {
        // Producer paced by the readers (never more than ~150 events ahead of the slowest reader).
        while (progress.min < n - 150) await Bun.sleep(5);
        peak = Math.max(peak, process.memoryUsage().rss);
        maxQueued = Math.max(maxQueued, (await status()).control.follow_queued_bytes!);
      }
    }
    await crowd.exited();
    const st = (await status()).control;
    Bun.gc(true);
    const grew = (peak - rss0) / 1048576;
    console.log(`follow crowd: ${total} events x ~1.3 KB to 90 readers; dropped ${st.follow_dropped}; max queued ${(maxQueued / 1048576).toFixed(1)} MiB; RSS ${(rss0 / 1048576).toFixed(0)} MiB -> peak ${(peak / 1048576).toFixed(0)} MiB (+${grew.toFixed(1)})`);
    expect(progress).toMatchObject({ done: true, min: total, dup: 0, unordered: 0, orders: 1 });
    expect(st.follow_dropped).toBe(10);
    expect(st.follow_clients).toBe(0);
    // Every client's queue is bounded: at most 100 x 256 KiB, whatever the stream's length.
    expect(maxQueued).toBeLessThanOrEqual(100 * (256 << 10));
    // The process as a whole stays bounded too (the stream to each idle client alone is 7.8 MB;
    // the generous margin is transient garbage of the 90 fast streams).
    expect(grew).toBeLessThan(256);
  }, 60000);
});

describe("malformed requests", () => {
  test("garbage, huge headers, bad lengths get 4xx and a close; the server keeps serving", async () => {
    const c = await start();
    const garbage = await rawExchange("\x00\x01\xffgarbage\r\n\r\n");
    expect(garbage.text).toStartWith("HTTP/1.1 400");
    const big = await rawExchange(`GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20 * 1024)}\r\n\r\n`);
    expect(big.text).toMatch(/^HTTP\/1\.1 431/);
    // Far past the limit: answered 431 or cut off while still sending, either way closed.
    const huge = await rawExchange(`GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(1 << 20)}\r\n\r\n`);
    expect(huge.text).toMatch(/^(HTTP\/1\.1 431|)/);
    expect(huge.text).not.toContain("200 OK");
    const many = await rawExchange(`GET /v1/status HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-${i}: v\r\n`).join("")}\r\n`);
    expect(many.text).toMatch(/^HTTP\/1\.1 431/);
    const badLen = await rawExchange("POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n");
    expect(badLen.text).toStartWith("HTTP/1.1 400");
    const binary = await rawExchange(Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 7919) % 256)).toString("latin1"));
    expect(binary.text).toMatch(/^(HTTP\/1\.1 4\d\d|)/);
    const path = await rawExchange("GET /v1/devices/sd%ZZ%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(path.text).toMatch(/^HTTP\/1\.1 400/);
    const traversal = await rawExchange("GET /v1/devices/..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(traversal.text).toMatch(/^HTTP\/1\.1 404 [\s\S]*"error":"not_found"/);
    expect(daemon.reloads).toBe(0);
    expect((await c.status()).pid).toBe(process.pid);
  });

  test("slowloris, idle and half-sent requests are closed; answers close keep-alive; a quiet follow stream stays", async () => {
    const c = await start({ follow: { heartbeatMs: 1000 } });
    const quiet = c.follow({ dev: ["quietdev"] });
    const quietNext = quiet.next();
    const slow = rawExchange((s) => {
      const msg = `GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: ${"z".repeat(200)}`;
      let i = 0;
      const iv = setInterval(() => (s.destroyed ? clearInterval(iv) : s.write(msg[i++ % msg.length]!)), 1000);
      s.on("close", () => clearInterval(iv));
    }, 40000);
    const idle = rawExchange(() => {}, 40000); // connects, sends nothing
    const half = rawExchange("GET /v1/status HTTP/1.1\r\nHost: x\r\n", 40000); // never ends its headers
    const keepAlive = rawExchange("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n", 40000); // would stay open
    await Bun.sleep(300);
    expect((await c.status()).pid).toBe(process.pid);
    const [s, i, h, k] = await Promise.all([slow, idle, half, keepAlive]);
    // The gate (src/control/gate.ts) gives a request header 5 s to arrive whole (then 408), and a
    // silent connection 10 s.
    expect(s.text).toMatch(/^HTTP\/1\.1 408 [\s\S]*"error":"request_timeout"/);
    expect(h.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(i.text).toBe("");
    expect(s.closedAfterMs).toBeLessThan(20000);
    expect(i.closedAfterMs).toBeLessThan(20000);
    expect(h.closedAfterMs).toBeLessThan(20000);
    expect(k.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*connection: close/i);
    expect(k.closedAfterMs).toBeLessThan(1000);
    // The follow stream saw nothing for > 12 s (only keep-alive lines) and is still there.
    const st = await c.status();
    expect(st.control).toMatchObject({ follow_clients: 1, follow_dropped: 0 });
    const e = makeEvent({ dev_name: "quietdev" });
    daemon.emit(e);
    expect((await quietNext).value).toEqual(e);
    await quiet.return(undefined);
  }, 45000);

  test("the gate: beyond maxConnections a clear 503; idle ones closed, a quiet follow stream kept; counted in status", async () => {
    const c = await start({ follow: { heartbeatMs: 300 }, limits: { maxConnections: 3, idleMs: 1500, headerMs: 1000 } });
    const quiet = c.follow({ dev: ["quietdev"] });
    const quietNext = quiet.next();
    const idle = [rawExchange(() => {}, 10000), rawExchange(() => {}, 10000)];
    await Bun.sleep(300);
    const refused = await rawExchange("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n", 10000);
    expect(refused.text).toMatch(/^HTTP\/1\.1 503 [\s\S]*"error":"too_many_connections"/);
    const closed = await Promise.all(idle);
    for (const x of closed) {
      expect(x.text).toBe("");
      expect(x.closedAfterMs).toBeGreaterThanOrEqual(1400);
      expect(x.closedAfterMs).toBeLessThan(4000);
    }
    await Bun.sleep(1500); // the follow stream, quiet but for keep-alive lines, outlives idleMs
    const st = await c.status();
    expect(st.control).toMatchObject({ follow_clients: 1, connections_refused: 1, connections_idle_closed: 2 });
    const e = makeEvent({ dev_name: "quietdev" });
    daemon.emit(e);
    expect((await quietNext).value).toEqual(e);
    await quiet.return(undefined);
  });

  test("a follow client that disconnects is noticed (by the keep-alive write) and removed", async () => {
    await start({ follow: { heartbeatMs: 100 } });
    const s = connect(sock);
    await new Promise((r) => s.on("connect", r));
    s.write("GET /v1/events?follow=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    const status = () => fetch("http://localhost/v1/status", { unix: sock } as RequestInit).then((r) => r.json()) as Promise<{ control: Record<string, number> }>;
    for (let i = 0; i < 100 && (await status()).control.follow_clients! < 1; i++) await Bun.sleep(10);
    expect((await status()).control.follow_clients).toBe(1);
    s.destroy();
    for (let i = 0; i < 100 && (await status()).control.follow_clients! > 0; i++) await Bun.sleep(20);
    expect((await status()).control).toMatchObject({ follow_clients: 0, follow_dropped: 0 });
  });
});
