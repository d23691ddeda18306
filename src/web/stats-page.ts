/**
 * The `stats` path service: a human page at the path and the JSON report at `<path>.json`.
 *
 * The page is one self-contained HTML document (no external scripts, styles or fonts: it works
 * offline in a lab) that fetches the JSON every sampling interval (5 s by default) and renders the
 * node, each realm and its busiest topics. Values are inserted as text, never as HTML.
 */
import type http from 'node:http';
import type { StatsCollector } from '../stats/collector.js';
import type { PathHandler } from './http-server.js';

export function statsJsonHandler(collector: Pick<StatsCollector, 'snapshot'>): PathHandler {
  return {
    request(req, res, rest) {
      if (rest !== '') return notFound(res, req.url);
      if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res);
      const body = JSON.stringify(collector.snapshot());
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}

export function statsPageHandler(jsonUrl: string, refreshMs: number): PathHandler {
  const page = STATS_PAGE.replace('__JSON_URL__', JSON.stringify(jsonUrl)).replace('__REFRESH_MS__', String(refreshMs));
  return {
    request(req, res, rest) {
      if (rest !== '') return notFound(res, req.url);
      if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res);
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(page),
        // Everything is inline; nothing may be loaded from anywhere else.
        'content-security-policy': "default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
      });
      res.end(req.method === 'HEAD' ? undefined : page);
    },
  };
}

export function notFound(res: http.ServerResponse, url: string | undefined): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`No service at ${url ?? '/'}\n`);
}

export function notAllowed(res: http.ServerResponse): void {
  res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' });
  res.end('Only GET and HEAD are served here\n');
}

const STATS_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xbar stats</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
  #status { margin-bottom: 1em; color: #555; }
  #status.live::before { content: "\\25CF "; color: #1a7f37; }
  #status.down::before { content: "\\25CF "; color: #c62828; }
  table { border-collapse: collapse; margin-bottom: .8em; }
  th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; white-space: nowrap; }
  th { background: #333; color: #fff; }
  td.t, th.t { text-align: left; }
  td.bad { color: #c62828; }
  .muted { color: #777; }
</style>
</head>
<body>
<h1>xbar stats <span id="node" class="muted"></span></h1>
<div id="status" class="down">loading…</div>
<table id="summary"><tbody></tbody></table>
<h2>Realms</h2>
<table id="realms">
  <thead><tr>
    <th class="t">realm</th><th>sessions</th><th>subscriptions</th><th>registrations</th>
    <th>msgs in/s</th><th>msgs out/s</th><th>bytes in/s</th><th>bytes out/s</th>
    <th>publications/s</th><th>events/s</th><th>calls/s</th><th>calls in flight</th>
    <th>call p50 (ms)</th><th>call p99 (ms)</th><th>dropped</th>
  </tr></thead>
  <tbody></tbody>
</table>
<h2>Busiest topics</h2>
<table id="topics">
  <thead><tr><th class="t">realm</th><th class="t">topic</th><th>publications/s</th><th>events/s</th><th>publications</th><th>events</th></tr></thead>
  <tbody></tbody>
</table>
<script>
(function () {
  "use strict";
  var URL_JSON = __JSON_URL__;
  var EVERY = __REFRESH_MS__;
  var status = document.getElementById("status");
  var reports = 0;
  function fmt(v, digits) {
    if (v === null || v === undefined) return "-";
    if (typeof v !== "number") return String(v);
    if (digits === undefined) digits = v >= 100 || Number.isInteger(v) ? 0 : 1;
    return v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  }
  function bytes(v) {
    var u = ["B", "KiB", "MiB", "GiB"], i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return fmt(v, i === 0 ? 0 : 1) + " " + u[i];
  }
  function row(cells, key) {
    var tr = document.createElement("tr");
    if (key) tr.setAttribute("data-key", key);
    cells.forEach(function (c) {
      var td = document.createElement("td");
      td.textContent = c.v;
      if (c.k) td.setAttribute("data-k", c.k);
      if (c.cls) td.className = c.cls;
      tr.appendChild(td);
    });
    return tr;
  }
  function fill(id, rows) {
    var body = document.querySelector("#" + id + " tbody");
    while (body.firstChild) body.removeChild(body.firstChild);
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function render(s) {
    document.getElementById("node").textContent = s.node;
    var r = s.rates, t = s.totals;
    fill("summary", [
      ["backplane", s.backplane.health + " (" + s.backplane.members + " node" + (s.backplane.members === 1 ? "" : "s") + ")", "backplane"],
      ["uptime", fmt(s.uptime_s, 0) + " s", "uptime"],
      ["connections", fmt(s.connections), "connections"],
      ["sessions", fmt(s.sessions), "sessions"],
      ["messages in / out per s", fmt(r.messages_in) + " / " + fmt(r.messages_out), "messages"],
      ["bytes in / out per s", bytes(r.bytes_in) + " / " + bytes(r.bytes_out), "bytes"],
      ["publications / events per s", fmt(r.publications) + " / " + fmt(r.events), "events"],
      ["calls per s", fmt(r.calls), "calls"],
      ["dropped (slow consumers)", fmt(t.dropped), "dropped"],
      ["CPU (one core = 100 %)", s.process.cpu_percent === null ? "-" : fmt(s.process.cpu_percent, 1) + " %", "cpu"],
      ["memory: resident / heap used", bytes(s.process.rss_bytes) + " / " + bytes(s.process.heap_used_bytes), "memory"],
      ["event-loop lag p99 / max (ms)", fmt(s.process.event_loop_lag_p99_ms, 1) + " / " + fmt(s.process.event_loop_lag_max_ms, 1), "lag"],
      ["GC (ms per s)", fmt(s.process.gc_ms_per_s, 1), "gc"]
    ].map(function (x) {
      var tr = document.createElement("tr");
      var th = document.createElement("th"); th.className = "t"; th.textContent = x[0];
      var td = document.createElement("td"); td.textContent = x[1]; td.setAttribute("data-k", x[2]);
      tr.appendChild(th); tr.appendChild(td); return tr;
    }));
    fill("realms", s.realms.map(function (m) {
      return row([
        { v: m.name, k: "realm", cls: "t" }, { v: fmt(m.sessions), k: "sessions" }, { v: fmt(m.subscriptions), k: "subscriptions" },
        { v: fmt(m.registrations), k: "registrations" }, { v: fmt(m.rates.messages_in), k: "messages_in" },
        { v: fmt(m.rates.messages_out), k: "messages_out" }, { v: bytes(m.rates.bytes_in), k: "bytes_in" },
        { v: bytes(m.rates.bytes_out), k: "bytes_out" }, { v: fmt(m.rates.publications), k: "publications" },
        { v: fmt(m.rates.events), k: "events" }, { v: fmt(m.rates.calls), k: "calls" }, { v: fmt(m.calls_in_flight), k: "in_flight" },
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
    reports++;
    document.body.setAttribute("data-reports", String(reports));
    status.className = "live";
    status.textContent = s.sessions + " sessions, " + s.connections + " connections; updated " + s.time + (s.enabled ? "" : " (statistics are off)") + " (live)";
  }
  function tick() {
    // location.search carries ?token= to the JSON of an access-controlled page.
    fetch(URL_JSON + location.search, { cache: "no-store" }).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json();
    }).then(render, function (e) {
      status.className = "down";
      status.textContent = "cannot reach " + URL_JSON + ": " + e.message + " (stale)";
    }).then(function () { setTimeout(tick, EVERY); });
  }
  tick();
})();
</script>
</body>
</html>
`;
