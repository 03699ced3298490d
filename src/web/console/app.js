// storeventd web console: plain DOM, fetch and WebSocket. The URL's hash holds the view and its
// filter (#/events?severity=warn&host=node-a), so a link can be shared. History comes from the store
// (/v1/events), then the WebSocket replays from the newest shown event and goes live; event ids
// already shown are skipped, so the seam has no gap and no duplicate.
"use strict";
const MAX_ROWS = 500;
const FIRST_ROWS = 60;
const SYSTEMS = ["scsi", "block", "nvme", "ata", "multipath", "dm", "lvm", "mdraid", "fs", "drbd", "iscsi", "smart", "daemon", "fleet"];
const SERVER_KEYS = ["severity", "system", "type", "host", "dev", "q"];
const $ = (sel, root = document) => root.querySelector(sel);
let live = null; // the current view's WebSocket
let timer = null; // the current view's poll timer

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function route() {
  const [path, qs] = (location.hash.replace(/^#/, "") || "/events").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(qs || "") };
}

function setConn(text) {
  $("#conn").textContent = text;
}

function stopView() {
  if (live) { live.onclose = null; live.close(); live = null; }
  if (timer) { clearInterval(timer); timer = null; }
}

function mount(id) {
  const view = $("#view");
  view.textContent = "";
  view.appendChild($("#" + id).content.cloneNode(true));
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("on", a.dataset.view === route().parts[0]);
}

async function getJson(url) {
  const r = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
  if (r.status === 401) { location.href = "/login"; throw new Error("unauthorized"); }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) { const e = new Error(body.detail || r.statusText); e.status = r.status; throw e; }
  return body;
}

function shortTime(t) {
  return t.replace("T", " ").replace(/(\.\d{3})\d*Z$/, "$1Z");
}

function eventRow(e) {
  const tr = el("tr");
  tr.dataset.id = e.event_id;
  tr.dataset.type = e.event_type;
  tr.appendChild(el("td", shortTime(e.time)));
  const host = el("td");
  const ha = el("a", e.hostname);
  ha.href = "#/events?host=" + encodeURIComponent(e.hostname);
  host.appendChild(ha);
  tr.appendChild(host);
  tr.appendChild(el("td", e.severity, e.severity));
  tr.appendChild(el("td", e.system + "/" + e.event_type));
  const dev = el("td");
  if (e.dev_name) {
    const a = el("a", e.dev_name);
    a.href = "#/device/" + encodeURIComponent(e.dev_name);
    dev.appendChild(a);
  }
  tr.appendChild(dev);
  const repeat = e.extension && e.extension.repeat ? " (repeated " + e.extension.repeat + "x)" : "";
  const msg = el("td", e.msg + repeat);
  msg.title = e.raw || "";
  tr.appendChild(msg);
  return tr;
}

/** A table body that shows the newest events first, at most MAX_ROWS, each event once. */
function eventTable(body) {
  const seen = new Set();
  return {
    seen,
    newest: null,
    /** events: oldest first. */
    add(events, atTop) {
      const frag = document.createDocumentFragment();
      for (let i = events.length - 1; i >= 0; i--) {
        const e = events[i];
        if (seen.has(e.event_id)) continue;
        seen.add(e.event_id);
        if (!this.newest || e.time > this.newest) this.newest = e.time;
        frag.appendChild(eventRow(e));
      }
      if (atTop) body.insertBefore(frag, body.firstChild);
      else body.appendChild(frag);
      while (body.children.length > MAX_ROWS) body.removeChild(body.lastChild);
    },
  };
}

function query(params, extra) {
  const p = new URLSearchParams();
  for (const k of SERVER_KEYS) if (params.get(k)) p.set(k, params.get(k));
  for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
  return p.toString();
}

/** History from the store, then live over the WebSocket from the newest event shown. */
async function followEvents(params, table, note) {
  try {
    const past = (await getJson("/v1/events?" + query(params, { order: "desc", limit: String(MAX_ROWS) }))).reverse();
    // The first screen of rows goes in first; the older rest after that paint (building 500 rows
    // costs more than the page's own first paint).
    const d0 = performance.now();
    table.add(past.slice(-FIRST_ROWS), false);
    note.textContent = past.length ? "" : "No stored events match.";
    // For bench/console.bench.ts: building and inserting the rows, their style and layout (forced
    // here, it would run before the paint anyway), and when they were painted (ms since navigation).
    const b = document.body.dataset;
    b.domMs = (performance.now() - d0).toFixed(1);
    const l0 = performance.now();
    void document.body.offsetHeight;
    b.layoutMs = (performance.now() - l0).toFixed(1);
    await new Promise((done) => {
      let ran = false;
      const rest = () => {
        if (ran) return;
        ran = true;
        b.paintedMs = performance.now().toFixed(1);
        const r0 = performance.now();
        table.add(past.slice(0, -FIRST_ROWS), false);
        b.restMs = (performance.now() - r0).toFixed(1);
        done();
      };
      requestAnimationFrame(() => setTimeout(rest));
      setTimeout(rest, 200); // a background tab runs no animation frames
    });
  } catch (e) {
    if (e.status !== 503) throw e;
    note.textContent = "This daemon keeps no store: history is not available, live events are.";
  }
  const since = table.newest || new Date(Date.now() - 60_000).toISOString();
  const connect = () => {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/events?" + query(params, { since }));
    live = ws;
    ws.onopen = () => setConn("live");
    ws.onmessage = (m) => {
      try { table.add([JSON.parse(m.data)], true); } catch { /* not an event */ }
    };
    ws.onclose = () => {
      setConn("disconnected, retrying…");
      if (live === ws) setTimeout(() => live === ws && connect(), 2000);
    };
  };
  connect();
}

function eventsView(params) {
  mount("t-events");
  const form = $("#filters");
  const sys = form.elements.system;
  for (const s of SYSTEMS) sys.appendChild(new Option(s, s));
  for (const k of SERVER_KEYS) if (params.get(k)) form.elements[k].value = params.get(k);
  const apply = () => {
    const p = new URLSearchParams();
    for (const k of SERVER_KEYS) if (form.elements[k].value.trim()) p.set(k, form.elements[k].value.trim());
    const hash = "#/events" + (p.toString() ? "?" + p : "");
    if (hash !== location.hash) location.hash = hash;
  };
  form.addEventListener("change", apply);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); apply(); });
  const table = eventTable($("#rows"));
  const t0 = performance.now();
  followEvents(params, table, $("#note"))
    .then(() => { document.body.dataset.renderMs = String(Math.round(performance.now() - t0)); })
    .catch((e) => { $("#note").textContent = "Cannot load events: " + e.message; });
}

function kvRow(table, key, value) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return;
  const tr = el("tr");
  tr.appendChild(el("th", key));
  const text = Array.isArray(value) ? value.map((v) => (typeof v === "object" ? Object.values(v).filter(Boolean).join(" ") : v)).join(", ")
    : typeof value === "object" ? JSON.stringify(value) : value;
  tr.appendChild(el("td", text));
  table.appendChild(tr);
}

async function deviceView(name) {
  mount("t-device");
  $("#dev-title").textContent = "Device " + name;
  const idt = $("#dev-id");
  try {
    const dev = await getJson("/v1/devices/" + encodeURIComponent(name));
    for (const [k, v] of Object.entries(dev)) kvRow(idt, k, v);
  } catch (e) {
    kvRow(idt, "error", e.message);
  }
  const table = eventTable($("#rows"));
  const p = new URLSearchParams({ dev: name });
  followEvents(p, table, el("p")).catch(() => {});
}

function peerText(c) {
  const pds = (c.peer_devices || []).map((pd) => {
    const sync = pd["replication-state"] && /^Sync/.test(pd["replication-state"]) ? " " + (pd["percent-in-sync"] ?? "?") + "% in sync" : "";
    return "vol " + pd.volume + ": " + pd["replication-state"] + "/" + pd["peer-disk-state"] + sync;
  });
  return c.name + " (" + c["connection-state"] + ", " + (c["peer-role"] || "?") + ")" + (pds.length ? " — " + pds.join("; ") : "");
}

async function drbdView() {
  mount("t-drbd");
  const render = async () => {
    const body = $("#drbd-rows");
    if (!body) return;
    let rows = [];
    try {
      rows = await getJson("/v1/fleet/drbd");
    } catch {
      const [status, res] = await Promise.all([getJson("/v1/status"), getJson("/v1/drbd/resources")]);
      rows = res.map((r) => ({ host: status.hostname, resource: r }));
    }
    let promoter = {};
    try {
      for (const r of (await getJson("/v1/promoter")).resources || []) promoter[r.name || r.resource] = r;
    } catch { promoter = {}; }
    const frag = document.createDocumentFragment();
    for (const { host, resource: r } of rows) {
      const tr = el("tr");
      tr.dataset.resource = r.name;
      tr.appendChild(el("td", host));
      tr.appendChild(el("td", r.name));
      tr.appendChild(el("td", r.role, r.role === "Primary" ? "info" : ""));
      tr.appendChild(el("td", (r.devices || []).map((d) => d.volume + ": " + d["disk-state"] + (d.quorum === false ? " (no quorum)" : "")).join(", ")));
      tr.appendChild(el("td", (r.connections || []).map(peerText).join(" | ")));
      const pr = promoter[r.name];
      tr.appendChild(el("td", pr ? [pr.state, pr.active ? "running here" : "", pr.primary_on ? "Primary on " + pr.primary_on : ""].filter(Boolean).join(", ") : ""));
      frag.appendChild(tr);
    }
    body.textContent = "";
    body.appendChild(frag);
  };
  await render().catch((e) => ($("#drbd-rows").textContent = e.message));
  timer = setInterval(() => render().catch(() => {}), 2000);
}

async function hostsView() {
  mount("t-hosts");
  const render = async () => {
    const body = $("#host-rows");
    if (!body) return;
    let hosts;
    try {
      hosts = await getJson("/v1/fleet/hosts");
    } catch {
      const s = await getJson("/v1/status");
      hosts = [{ hostname: s.hostname, state: "this node", last_seen: new Date().toISOString(), version: s.version, uptime_s: s.uptime_s, drops: s.counters.receiver_dropped || 0 }];
    }
    const frag = document.createDocumentFragment();
    for (const h of hosts) {
      const tr = el("tr");
      tr.dataset.host = h.hostname;
      tr.appendChild(el("td", h.hostname));
      tr.appendChild(el("td", h.state, h.state === "silent" ? "silent" : "alive"));
      tr.appendChild(el("td", h.last_seen ? shortTime(h.last_seen) : ""));
      tr.appendChild(el("td", h.version || ""));
      tr.appendChild(el("td", h.uptime_s !== undefined ? Math.round(h.uptime_s) + " s" : ""));
      tr.appendChild(el("td", h.drops ?? ""));
      const c = h.events_1h || {};
      tr.appendChild(el("td", [c.error || 0, c.warn || 0, c.info || 0].join(" / ")));
      tr.appendChild(el("td", h.last_error || ""));
      frag.appendChild(tr);
    }
    body.textContent = "";
    body.appendChild(frag);
  };
  await render().catch((e) => ($("#host-rows").textContent = e.message));
  timer = setInterval(() => render().catch(() => {}), 5000);
}

function show() {
  stopView();
  const { parts, params } = route();
  if (parts[0] === "device" && parts[1]) return deviceView(parts[1]);
  if (parts[0] === "drbd") return drbdView();
  if (parts[0] === "hosts") return hostsView();
  return eventsView(params);
}

window.addEventListener("hashchange", show);
document.addEventListener("DOMContentLoaded", () => {
  getJson("/v1/status").then((s) => { $("#host").textContent = s.hostname + " · " + s.version; }).catch(() => {});
  show();
});
