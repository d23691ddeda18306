/**
 * The relay's stats page: one self-contained HTML document (no external scripts, styles or fonts,
 * so it works offline and under a strict CSP of its own origin). It opens the stats channel — a
 * WebSocket on its own URL — renders a row per connection at every report, and asks for a fresh
 * report every 5 seconds (`{"cmd":"update"}`, as practable's page does). Without a WebSocket it
 * polls the same URL with `?format=json` instead. Values are inserted as text, never as HTML.
 */
export const STATS_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xbar relay stats</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .3em; }
  #status { margin-bottom: 1em; color: #555; }
  #status.live::before { content: "\\25CF "; color: #1a7f37; }
  #status.down::before { content: "\\25CF "; color: #c62828; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: right; white-space: nowrap; }
  th { background: #333; color: #fff; position: sticky; top: 0; }
  td.t { text-align: left; }
  td.ua { text-align: left; max-width: 22em; overflow: hidden; text-overflow: ellipsis; }
  tr.ro td.dir { color: #1565c0; } tr.wo td.dir { color: #6a1b9a; }
  td.drop { color: #c62828; }
  #empty { color: #777; padding: 1em 0; }
</style>
</head>
<body>
<h1>xbar relay stats</h1>
<div id="status" class="down">connecting…</div>
<table id="connections">
  <thead>
    <tr>
      <th>topic</th><th>access</th><th>connected</th><th>remote</th><th>user agent</th>
      <th>sent msgs</th><th>sent fps</th><th>sent avg bytes</th><th>sent last (s)</th>
      <th>recv msgs</th><th>recv fps</th><th>recv avg bytes</th><th>recv last (s)</th>
      <th>dropped in/out</th><th>queued bytes</th>
    </tr>
  </thead>
  <tbody></tbody>
</table>
<div id="empty">No connections.</div>
<script>
(function () {
  "use strict";
  var EVERY = 5000;
  var body = document.querySelector("#connections tbody");
  var status = document.getElementById("status");
  var empty = document.getElementById("empty");
  var ws = null;
  var lastReport = 0;
  var reports = 0;

  function ago(iso) {
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 120) return s + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    return Math.round(s / 3600) + " h";
  }
  function num(x) { return x === null || x === undefined ? "never" : String(x); }
  function cell(row, key, text, cls) {
    var td = document.createElement("td");
    td.setAttribute("data-k", key);
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  function render(list) {
    reports++;
    lastReport = Date.now();
    body.textContent = "";
    list.sort(function (a, b) { return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.id - b.id; });
    list.forEach(function (c) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-id", String(c.id));
      tr.className = c.canRead && !c.canWrite ? "ro" : !c.canRead && c.canWrite ? "wo" : "rw";
      var tx = c.stats.tx, rx = c.stats.rx;
      cell(tr, "topic", c.topic, "t");
      cell(tr, "access", (c.canRead ? "read" : "") + (c.canRead && c.canWrite ? "+" : "") + (c.canWrite ? "write" : ""), "dir");
      cell(tr, "connected", ago(c.connected));
      cell(tr, "remoteAddr", c.remoteAddr, "t");
      cell(tr, "userAgent", c.userAgent, "ua");
      cell(tr, "tx.count", String(tx.count));
      cell(tr, "tx.fps", String(tx.fps));
      cell(tr, "tx.size", String(tx.size));
      cell(tr, "tx.last", num(tx.last));
      cell(tr, "rx.count", String(rx.count));
      cell(tr, "rx.fps", String(rx.fps));
      cell(tr, "rx.size", String(rx.size));
      cell(tr, "rx.last", num(rx.last));
      cell(tr, "dropped", tx.dropped + " / " + rx.dropped, tx.dropped || rx.dropped ? "drop" : "");
      cell(tr, "queued", String(c.queued));
      body.appendChild(tr);
    });
    empty.style.display = list.length ? "none" : "block";
    document.body.setAttribute("data-reports", String(reports));
    showStatus();
  }

  function showStatus() {
    var live = ws !== null && ws.readyState === 1;
    status.className = live || Date.now() - lastReport < 2 * EVERY ? "live" : "down";
    status.textContent = body.rows.length + " connection" + (body.rows.length === 1 ? "" : "s") +
      (lastReport ? ", updated " + new Date(lastReport).toLocaleTimeString() : "") +
      (live ? " (live)" : " (polling)");
  }

  function jsonUrl() {
    var q = location.search ? location.search + "&" : "?";
    return location.pathname + q + "format=json";
  }
  function poll() {
    fetch(jsonUrl(), { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(r.status + " " + r.statusText); return r.json(); })
      .then(render)
      .catch(function (e) { status.className = "down"; status.textContent = "stats unavailable: " + e.message; });
  }

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + location.pathname + location.search;
    try { ws = new WebSocket(url); } catch (e) { ws = null; return; }
    ws.onmessage = function (ev) { try { render(JSON.parse(ev.data)); } catch (e) { /* not a report */ } };
    ws.onclose = function () { ws = null; showStatus(); setTimeout(connect, EVERY); };
  }

  connect();
  setInterval(function () {
    if (ws !== null && ws.readyState === 1) ws.send(JSON.stringify({ cmd: "update" }));
    else poll();
  }, EVERY);
})();
</script>
</body>
</html>
`;
