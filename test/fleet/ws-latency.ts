// Run inside the fleet node's namespace by fleet.test.ts: follows the web console's WebSocket
// (ws://<listen>/v1/events?<filter>) and prints, as JSON, how long after each event's own time (the
// host stamped it from the record) the event reached this page-side socket: ["ready"] first, then
// [latencies_ms] after `count` events.
const [url, count] = [process.argv[2]!, Number(process.argv[3])];
const origin = new URL(url.replace(/^ws/, "http")).origin;
const ws = new WebSocket(url, { headers: { Origin: origin } } as never);
const lat: number[] = [];
ws.onopen = () => console.log(JSON.stringify("ready"));
ws.onmessage = (m) => {
  const e = JSON.parse(String(m.data)) as { time?: string };
  if (!e.time) return;
  lat.push(Date.now() - Date.parse(e.time));
  if (lat.length === count) {
    console.log(JSON.stringify(lat));
    process.exit(0);
  }
};
ws.onerror = () => process.exit(3);
