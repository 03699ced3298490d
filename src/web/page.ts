// The read-only web page: live events (WebSocket /v1/events) and DRBD resources (polled).
export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>storeventd</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 16px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:18px;margin:0}#conn{font-size:12px;opacity:.8}
main{display:grid;grid-template-columns:2fr 1fr;gap:16px;padding:16px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px 12px;overflow:auto}
h2{font-size:15px;margin:4px 0 8px}table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eef0f3;vertical-align:top;font-size:13px}
.error{color:#b3261e;font-weight:600}.warn{color:#a15c00;font-weight:600}.info{color:#2e7d32}
code{font-size:12px}
</style></head><body>
<header><h1>storeventd</h1><span id="host"></span><span id="conn">connecting…</span></header>
<main>
<section><h2>Live events</h2><table><thead><tr><th>time</th><th>severity</th><th>type</th><th>device</th><th>message</th></tr></thead><tbody id="events"></tbody></table></section>
<section><h2>DRBD resources</h2><table><thead><tr><th>resource</th><th>role</th><th>disk</th><th>peers</th></tr></thead><tbody id="drbd"></tbody></table></section>
</main>
<script>
const $ = (id) => document.getElementById(id);
function cell(tr, text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); }
function addEvent(e) {
  const tr = document.createElement("tr");
  tr.dataset.type = e.event_type;
  cell(tr, e.time.replace("T", " ").replace(/\\.\\d+Z$/, "Z"));
  cell(tr, e.severity, e.severity);
  cell(tr, e.system + "/" + e.event_type);
  cell(tr, e.dev_name);
  cell(tr, e.msg + (e.extension && e.extension.repeat ? " (x" + e.extension.repeat + ")" : ""));
  const body = $("events");
  body.insertBefore(tr, body.firstChild);
  while (body.children.length > 500) body.removeChild(body.lastChild);
}
function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/events");
  ws.onopen = () => { $("conn").textContent = "live"; };
  ws.onmessage = (m) => { try { addEvent(JSON.parse(m.data)); } catch {} };
  ws.onclose = () => { $("conn").textContent = "disconnected, retrying…"; setTimeout(connect, 2000); };
}
async function drbd() {
  try {
    const res = await (await fetch("/v1/drbd/resources")).json();
    const body = $("drbd"); body.textContent = "";
    for (const r of res) {
      const tr = document.createElement("tr");
      cell(tr, r.name); cell(tr, r.role || "");
      cell(tr, (r.devices || []).map((d) => d["disk-state"]).join(", "));
      cell(tr, (r.connections || []).map((c) => c.name + ":" + c["connection-state"]).join(", "));
      body.appendChild(tr);
    }
  } catch {}
}
fetch("/v1/status").then((r) => r.json()).then((s) => { $("host").textContent = s.hostname + " · " + s.version; }).catch(() => {});
connect(); drbd(); setInterval(drbd, 2000);
</script></body></html>
`;
