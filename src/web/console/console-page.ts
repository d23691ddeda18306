/**
 * The console page, its script and its stylesheet: plain DOM and uPlot, no framework. The page
 * is static but for its URLs; the script polls the JSON every sampling interval, keeps about ten
 * minutes of points for the charts, and inserts every value as text, never as HTML.
 */
import type { ConsoleOptions } from './console-service.js';

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The page; `token` (from ?token=) is carried on its asset URLs, as the access gate wants it. */
export function consolePage(o: ConsoleOptions, token: string | undefined): string {
  const q = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
  const asset = (name: string) => attr(`${o.base}/${name}${q}`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xbar console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${asset('uplot.css')}">
<link rel="stylesheet" href="${asset('console.css')}">
</head>
<body data-json="${attr(o.jsonUrl)}" data-base="${attr(o.base)}" data-refresh="${o.refreshMs}">
<header><h1>xbar console <span id="node" class="muted"></span></h1><div id="status" class="down">loading…</div></header>
<section id="tiles"></section>
<section id="charts"></section>
<section id="cluster-view" hidden>
<h2>Cluster <span id="cluster-count" class="muted"></span></h2>
<table id="cluster">
  <thead><tr>
    <th class="t">node</th><th class="t">backplane</th><th>sessions</th><th>connections</th><th>publications/s</th><th>events/s</th>
    <th>calls/s</th><th>bytes in/s</th><th>bytes out/s</th><th>call p50 (ms)</th><th>call p99 (ms)</th><th>CPU</th><th>memory</th><th>dropped</th>
  </tr></thead>
  <tbody></tbody>
</table>
</section>
<h2>Node directory <span id="directory-count" class="muted"></span></h2>
<table id="directory">
  <thead><tr>
    <th class="t">node</th><th class="t">state</th><th class="t">addresses</th><th>sessions</th><th>connections</th><th>CPU</th><th>queued</th>
  </tr></thead>
  <tbody></tbody>
</table>
<h2>Realms</h2>
<table id="realms">
  <thead><tr>
    <th class="t">realm</th><th>sessions</th><th>subscriptions</th><th>registrations</th>
    <th>msgs in/s</th><th>msgs out/s</th><th>bytes in/s</th><th>bytes out/s</th>
    <th>publications/s</th><th>events/s</th><th>meta events/s</th><th>calls/s</th><th>calls in flight</th>
    <th>call p50 (ms)</th><th>call p99 (ms)</th><th>dropped</th>
  </tr></thead>
  <tbody></tbody>
</table>
<h2>Busiest topics</h2>
<table id="topics">
  <thead><tr><th class="t">realm</th><th class="t">topic</th><th>publications/s</th><th>events/s</th><th>publications</th><th>events</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Sessions <span id="sessions-count" class="muted"></span></h2>
<table id="sessions">
  <thead><tr>
    <th class="t">node</th><th class="t">realm</th><th>session</th><th class="t">authid</th><th class="t">role</th><th class="t">transport</th>
    <th class="t">address</th><th>queued</th><th>dropped</th><th>msgs in</th><th>msgs out</th>
  </tr></thead>
  <tbody></tbody>
</table>
<script src="${asset('uplot.js')}"></script>
<script src="${asset('console.js')}"></script>
</body>
</html>
`;
}

export const CONSOLE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.2em 1.5em; color: #222; background: #fafafa; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
.muted { color: #777; font-weight: normal; }
#status { margin-bottom: .8em; color: #555; }
#status.live::before { content: "\\25CF "; color: #1a7f37; }
#status.down::before { content: "\\25CF "; color: #c62828; }
#tiles { display: flex; flex-wrap: wrap; gap: .5em; margin-bottom: 1em; }
.tile { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .4em .8em; min-width: 8.5em; }
.tile .v { font-size: 1.35em; font-variant-numeric: tabular-nums; }
.tile .k { color: #666; font-size: .85em; }
#charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: .8em; }
.chart { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .3em .5em; }
.chart h3 { font-size: .95em; margin: .2em 0; font-weight: 600; }
table { border-collapse: collapse; margin-bottom: .8em; background: #fff; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
th { background: #333; color: #fff; font-weight: 600; }
td.t, th.t { text-align: left; }
tr.total td { font-weight: 600; background: #f0f0f0; }
td.bad { color: #c62828; }
`;

export const CONSOLE_SCRIPT = `(function () {
  "use strict";
  var body = document.body;
  var URL_JSON = body.getAttribute("data-json");
  var BASE = body.getAttribute("data-base");
  var EVERY = Number(body.getAttribute("data-refresh")) || 5000;
  var KEEP_S = 600;
  var search = location.search; // carries ?token= to the JSON of an access-controlled page
  var status = document.getElementById("status");
  var reports = 0;
  var points = [];
  var lastTime = 0;

  function fmt(v, digits) {
    if (v === null || v === undefined) return "-";
    if (typeof v !== "number") return String(v);
    if (digits === undefined) digits = v >= 100 || Number.isInteger(v) ? 0 : 1;
    return v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  }
  function bytes(v) {
    if (v === null || v === undefined) return "-";
    var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return fmt(v, i === 0 ? 0 : 1) + " " + u[i];
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function row(cells, key, cls) {
    var tr = el("tr", undefined, cls);
    if (key) tr.setAttribute("data-key", key);
    cells.forEach(function (c) {
      var td = el("td", c.v, c.cls);
      if (c.k) td.setAttribute("data-k", c.k);
      tr.appendChild(td);
    });
    return tr;
  }
  function fill(id, rows) {
    var tbody = document.querySelector("#" + id + " tbody");
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  function get(url) {
    var sep = url.indexOf("?") < 0 ? (search ? search : "") : (search ? "&" + search.slice(1) : "");
    return fetch(url + sep, { cache: "no-store" }).then(function (res) {
      if (!res.ok) throw new Error(url + ": HTTP " + res.status);
      return res.json();
    });
  }

  // ---- tiles ----
  var TILES = [
    ["sessions", "sessions"], ["connections", "connections"], ["publications", "publications/s"], ["events", "events delivered/s"],
    ["calls", "calls/s"], ["bytes_in", "bytes in/s"], ["bytes_out", "bytes out/s"], ["p50", "call p50 (1 min)"], ["p99", "call p99 (1 min)"],
    ["dropped", "dropped"], ["cpu", "CPU"], ["rss", "resident memory"], ["heap", "heap used"], ["lag", "event-loop lag p99"], ["gc", "GC"]
  ];
  var tiles = {};
  TILES.forEach(function (t) {
    var d = el("div", undefined, "tile");
    d.setAttribute("data-tile", t[0]);
    var v = el("div", "-", "v"), k = el("div", t[1], "k");
    d.appendChild(v); d.appendChild(k);
    document.getElementById("tiles").appendChild(d);
    tiles[t[0]] = v;
  });
  function ms(v) { return v === null || v === undefined ? "-" : fmt(v, v < 10 ? 2 : 1) + " ms"; }
  function renderTiles(s) {
    var r = s.rates, p = s.process, l = s.call_latency;
    var set = function (k, v) { tiles[k].textContent = v; };
    set("sessions", fmt(s.sessions)); set("connections", fmt(s.connections));
    set("publications", fmt(r.publications)); set("events", fmt(r.events)); set("calls", fmt(r.calls));
    set("bytes_in", bytes(r.bytes_in)); set("bytes_out", bytes(r.bytes_out));
    set("p50", ms(l.p50_ms)); set("p99", ms(l.p99_ms)); set("dropped", fmt(s.totals.dropped));
    set("cpu", p.cpu_percent === null ? "-" : fmt(p.cpu_percent, 1) + " %"); set("rss", bytes(p.rss_bytes)); set("heap", bytes(p.heap_used_bytes));
    set("lag", ms(p.event_loop_lag_p99_ms)); set("gc", p.gc_ms_per_s === null ? "-" : fmt(p.gc_ms_per_s, 1) + " ms/s");
  }

  // ---- charts ----
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
  var CHARTS = [
    { id: "messages", title: "Messages per second", series: [["publications", "publications"], ["events", "events delivered"], ["calls", "calls"], ["meta_events", "meta events"]] },
    { id: "bytes", title: "Bytes per second", series: [["bytes_in", "in"], ["bytes_out", "out"]], bytes: true },
    { id: "sessions", title: "Sessions and connections", series: [["sessions", "sessions"], ["connections", "connections"]] },
    { id: "latency", title: "Call latency over the last minute (ms)", series: [["call_p50_ms", "p50"], ["call_p99_ms", "p99"]] },
    { id: "cpu", title: "CPU (% of one core) and event-loop lag p99 (ms)", series: [["cpu_percent", "CPU %"], ["event_loop_lag_p99_ms", "lag p99 ms"]] },
    { id: "memory", title: "Resident memory", series: [["rss_bytes", "RSS"]], bytes: true }
  ];
  var charts = {};
  function chartWidth(box) { return Math.max(300, box.clientWidth - 16); }
  CHARTS.forEach(function (c) {
    var box = el("div", undefined, "chart");
    box.setAttribute("data-chart", c.id);
    box.appendChild(el("h3", c.title));
    document.getElementById("charts").appendChild(box);
    var axisValues = c.bytes ? function (u, vals) { return vals.map(function (v) { return bytes(v); }); } : undefined;
    var opts = {
      width: chartWidth(box), height: 180,
      series: [{}].concat(c.series.map(function (s, i) { return { label: s[1], stroke: COLORS[i % COLORS.length], width: 1.5, points: { show: false } }; })),
      axes: [{}, axisValues ? { values: axisValues, size: 80 } : { size: 50 }],
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      legend: { live: false }
    };
    charts[c.id] = { def: c, box: box, plot: new uPlot(opts, [[]].concat(c.series.map(function () { return []; })), box) };
  });
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { var c = charts[id]; c.plot.setSize({ width: chartWidth(c.box), height: 180 }); });
  });
  function drawCharts() {
    var xs = points.map(function (p) { return p.time / 1000; });
    Object.keys(charts).forEach(function (id) {
      var c = charts[id];
      var data = [xs].concat(c.def.series.map(function (s) { return points.map(function (p) { return p[s[0]]; }); }));
      c.plot.setData(data);
      c.box.setAttribute("data-points", String(xs.length));
    });
  }
  function addPoints(list) {
    list.forEach(function (p) { if (p.time > lastTime) { points.push(p); lastTime = p.time; } });
    var oldest = lastTime - KEEP_S * 1000;
    while (points.length && points[0].time < oldest) points.shift();
  }

  // ---- tables ----
  function renderRealms(s) {
    fill("realms", s.realms.map(function (m) {
      return row([
        { v: m.name, k: "realm", cls: "t" }, { v: fmt(m.sessions), k: "sessions" }, { v: fmt(m.subscriptions), k: "subscriptions" },
        { v: fmt(m.registrations), k: "registrations" }, { v: fmt(m.rates.messages_in), k: "messages_in" },
        { v: fmt(m.rates.messages_out), k: "messages_out" }, { v: bytes(m.rates.bytes_in), k: "bytes_in" },
        { v: bytes(m.rates.bytes_out), k: "bytes_out" }, { v: fmt(m.rates.publications), k: "publications" },
        { v: fmt(m.rates.events), k: "events" }, { v: fmt(m.rates.meta_events), k: "meta_events" }, { v: fmt(m.rates.calls), k: "calls" },
        { v: fmt(m.calls_in_flight), k: "in_flight" },
        { v: fmt(m.call_latency.p50_ms, 2), k: "p50" }, { v: fmt(m.call_latency.p99_ms, 2), k: "p99" },
        { v: fmt(m.totals.dropped), k: "dropped", cls: m.totals.dropped > 0 ? "bad" : "" }
      ], m.name);
    }));
    var topics = [];
    s.realms.forEach(function (m) {
      m.top_topics.forEach(function (x) {
        topics.push(row([
          { v: m.name, k: "realm", cls: "t" }, { v: x.topic, k: "topic", cls: "t" }, { v: fmt(x.publications_per_s), k: "publications_per_s" },
          { v: fmt(x.events_per_s), k: "events_per_s" }, { v: fmt(x.publications), k: "publications" }, { v: fmt(x.events), k: "events" }
        ], m.name + " " + x.topic));
      });
    });
    fill("topics", topics);
  }
  function clusterRow(n, key, cls) {
    var r = n.rates;
    return row([
      { v: key === "totals" ? "all " + n.nodes + " nodes" : n.node, k: "node", cls: "t" },
      { v: n.backplane ? n.backplane.health : "", k: "backplane", cls: "t" },
      { v: fmt(n.sessions), k: "sessions" }, { v: fmt(n.connections), k: "connections" },
      { v: fmt(r.publications), k: "publications" }, { v: fmt(r.events), k: "events" }, { v: fmt(r.calls), k: "calls" },
      { v: bytes(r.bytes_in), k: "bytes_in" }, { v: bytes(r.bytes_out), k: "bytes_out" },
      { v: n.call_latency ? fmt(n.call_latency.p50_ms, 2) : "", k: "p50" }, { v: n.call_latency ? fmt(n.call_latency.p99_ms, 2) : "", k: "p99" },
      { v: n.process ? (n.process.cpu_percent === null ? "-" : fmt(n.process.cpu_percent, 1) + " %") : "", k: "cpu" },
      { v: n.process ? bytes(n.process.rss_bytes) : "", k: "memory" },
      { v: fmt(n.totals.dropped), k: "dropped", cls: n.totals.dropped > 0 ? "bad" : "" }
    ], key, cls);
  }
  function renderCluster(c) {
    document.getElementById("cluster-view").hidden = false;
    document.getElementById("cluster-count").textContent = c.nodes.length + " node" + (c.nodes.length === 1 ? "" : "s") + " answering";
    var rows = c.nodes.slice().sort(function (a, b) { return a.node < b.node ? -1 : a.node > b.node ? 1 : 0; })
      .map(function (n) { return clusterRow(n, n.node); });
    rows.push(clusterRow(c.totals, "totals", "total"));
    fill("cluster", rows);
  }
  function renderDirectory(nodes) {
    document.getElementById("directory-count").textContent = nodes.length + " node" + (nodes.length === 1 ? "" : "s");
    fill("directory", nodes.map(function (n) {
      return row([
        { v: n.node, k: "node", cls: "t" }, { v: n.state, k: "state", cls: n.state === "ready" ? "t" : "t bad" },
        { v: n.addresses.join(" "), k: "addresses", cls: "t" }, { v: fmt(n.sessions), k: "sessions" }, { v: fmt(n.connections), k: "connections" },
        { v: fmt(n.cpu_percent) + " %", k: "cpu" }, { v: bytes(n.queued_bytes), k: "queued" }
      ], n.node);
    }));
  }
  function renderSessions(l) {
    document.getElementById("sessions-count").textContent = l.sessions.length < l.total ? l.sessions.length + " of " + l.total : String(l.total);
    fill("sessions", l.sessions.map(function (x) {
      return row([
        { v: x.node, k: "node", cls: "t" }, { v: x.realm, k: "realm", cls: "t" }, { v: String(x.session), k: "session" },
        { v: x.authid, k: "authid", cls: "t" }, { v: x.authrole, k: "authrole", cls: "t" }, { v: x.transport, k: "transport", cls: "t" },
        { v: x.address, k: "address", cls: "t" }, { v: x.queued_bytes === null ? "-" : bytes(x.queued_bytes), k: "queued" },
        { v: fmt(x.dropped), k: "dropped", cls: x.dropped > 0 ? "bad" : "" }, { v: fmt(x.messages_in), k: "messages_in" }, { v: fmt(x.messages_out), k: "messages_out" }
      ], x.node + " " + x.session);
    }));
  }

  // --workers N: the figures are the node's, every worker's added up; say which workers are not in them.
  function workersText(ws) {
    if (!ws) return "";
    var up = ws.filter(function (w) { return w.state === "up" && w.answered; });
    var out = ws.filter(function (w) { return !(w.state === "up" && w.answered); })
      .map(function (w) { return "worker " + w.index + " " + (w.state === "up" ? "not answering" : w.state); });
    return "; workers " + up.length + "/" + ws.length + " up" + (out.length ? " (" + out.join(", ") + ")" : "");
  }

  function tick() {
    var clustered = false;
    get(URL_JSON).then(function (s) {
      document.getElementById("node").textContent = s.node;
      clustered = s.backplane.health !== "standalone";
      renderTiles(s);
      renderRealms(s);
      renderDirectory(s.backplane.nodes || []);
      return Promise.all([
        get(BASE + "/history.json" + (lastTime ? "?since=" + lastTime : "")).then(function (h) { addPoints(h.points); drawCharts(); }),
        get(BASE + "/sessions.json").then(renderSessions),
        clustered ? get(BASE + "/cluster.json").then(renderCluster) : null
      ]).then(function () {
        reports++;
        body.setAttribute("data-reports", String(reports));
        status.className = "live";
        status.textContent = s.sessions + " sessions, " + s.connections + " connections; backplane " + s.backplane.health +
          " (" + s.backplane.members + " node" + (s.backplane.members === 1 ? "" : "s") + ")" + workersText(s.workers) + "; updated " + s.time +
          (s.enabled ? "" : " (statistics are off)") + " (live)";
      });
    }).catch(function (e) {
      status.className = "down";
      status.textContent = "cannot reach the node: " + e.message + " (stale)";
    }).then(function () { setTimeout(tick, EVERY); });
  }
  window.xbarConsole = { charts: charts, points: points };
  tick();
})();
`;
