// One live fan-out (issue 18): the daemon's FollowHub serves both the control socket's NDJSON follow
// and the web listener's WebSocket. Each live event is encoded once whatever the number and kind of
// clients; a client that stops reading is dropped and counted while the others get everything.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { connect, type Socket } from "node:net";
import { startControlServer, type ControlServer } from "../../src/control/server.ts";
import { ControlClient } from "../../src/control/client.ts";
import { FOLLOW_DEFAULTS, FollowHub } from "../../src/control/follow.ts";
import { startWebListener, type WebListener } from "../../src/web/server.ts";
import type { StorageEvent } from "../../src/event.ts";
import { FakeDaemon, makeEvent, quietLog } from "../helpers/fake-daemon.ts";

let daemon: FakeDaemon | undefined;
let control: ControlServer | undefined;
let web: WebListener | undefined;
let hub: FollowHub | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await web?.close();
  hub?.close();
  await control?.close();
  daemon?.cleanup();
  daemon = control = web = hub = undefined;
});

/** NDJSON follow over the control socket, collected until `n` events came. */
async function ndjson(c: ControlClient, n: number): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of c.follow({})) if (ids.push(e.event_id) === n) break;
  return ids;
}

/** WebSocket follow on the web listener, collected until `n` events came. */
function websocket(url: string, n: number): { opened: Promise<void>; done: Promise<string[]> } {
  const ws = new WebSocket(url);
  const ids: string[] = [];
  const opened = new Promise<void>((res, rej) => {
    ws.onopen = () => res();
    ws.onerror = () => rej(new Error("WebSocket failed"));
  });
  const done = new Promise<string[]>((res, rej) => {
    ws.onmessage = (m) => {
      if (ids.push((JSON.parse(String(m.data)) as StorageEvent).event_id) === n) ws.close(), res(ids);
    };
    ws.onclose = () => (ids.length < n ? rej(new Error(`WebSocket closed after ${ids.length} of ${n}`)) : undefined);
  });
  return { opened, done };
}

/** A follow request on the control socket whose client never reads its answer. */
function stalled(sock: string): Promise<void> {
  return new Promise((res, rej) => {
    const s = connect(sock, () => {
      s.write("GET /v1/events?follow=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
      s.pause();
      res();
    });
    s.on("error", rej);
    sockets.push(s);
  });
}

test("NDJSON and WebSocket followers share one hub: one encode per event; a stalled follower is dropped and counted", async () => {
  daemon = new FakeDaemon();
  hub = new FollowHub((l) => daemon!.subscribe(l), { ...FOLLOW_DEFAULTS, clientMaxBytes: 256 << 10 });
  const sock = join(daemon.dir, "run", "control.sock");
  control = await startControlServer(daemon, { socketPath: sock, log: quietLog, hub });
  web = startWebListener(daemon, { listen: "127.0.0.1:0" }, quietLog, hub);
  // One subscription for the two servers: the hub's (the web listener's metrics counter is the other).
  expect(daemon.listeners.size).toBe(2);

  const total = 3000;
  const fast = [ndjson(new ControlClient(sock), total), ndjson(new ControlClient(sock), total)];
  const ws = [websocket(`ws://127.0.0.1:${web.port}/v1/events`, total), websocket(`ws://127.0.0.1:${web.port}/v1/events`, total)];
  await Promise.all(ws.map((w) => w.opened));
  await stalled(sock);
  for (let i = 0; i < 200 && hub.counters.follow_clients < 5; i++) await Bun.sleep(10);
  expect(hub.counters.follow_clients).toBe(5);

  const sent: string[] = [];
  const pad = "p".repeat(1000);
  for (let i = 0; i < total; i++) {
    const e = makeEvent({ raw: pad, extension: { n: i } });
    sent.push(e.event_id);
    daemon.emit(e);
    if (i % 20 === 19) await Bun.sleep(2); // the readers keep up; the stalled one cannot
  }
  const got = await Promise.all([...fast, ...ws.map((w) => w.done)]);
  for (const ids of got) expect(ids).toEqual(sent);
  // 4 readers of two kinds, one encode per event (two hubs made two).
  expect(hub.counters.follow_encoded).toBe(total);
  expect(hub.counters.follow_dropped).toBe(1);
  // The control socket's status shows the shared hub's counters.
  const st = await new ControlClient(sock).get<{ control: Record<string, number> }>("/v1/status");
  expect(st.control.follow_dropped).toBe(1);
  expect(st.control.follow_encoded).toBe(total);
}, 30_000);
