/**
 * The console's JSON below the stats path, over real sockets: history.json (one point per sample,
 * `since` for the new ones), sessions.json (a real Autobahn|JS client with its authid, transport,
 * address and queued bytes), cluster.json on a single node; hostile query strings answered 400
 * while the node keeps serving; the access gate of the stats service guards the session listing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { NodeConfig, TransportConfig } from '../../../src/config/types.js';
import { XbarNode } from '../../../src/node.js';
import type { HistoryPoint } from '../../../src/stats/history.js';
import type { SessionRow } from '../../../src/web/console/console-source.js';
import { eventually } from '../../helpers/eventually.js';
import { testConfig } from '../../helpers/node.js';
import { Clients, LIMIT, type MetaNode, one, startMetaNode } from '../meta/support.js';

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  return (await res.json()) as T;
}

describe('the console\'s JSON', LIMIT, () => {
  let t: MetaNode;
  let clients: Clients;
  before(async () => {
    t = await startMetaNode({ stats: { interval: 100 } });
    clients = new Clients(t.wsUrl);
  });
  after(async () => {
    await clients.closeAll();
    await t.stop();
  });

  it('keeps one history point per sample, and gives the new ones after `since`', async () => {
    const h = await eventually(async () => {
      const x = await getJson<{ interval_ms: number; points: HistoryPoint[] }>(`${t.http}/stats/history.json`);
      return x.points.length >= 3 && x;
    }, 'three samples');
    assert.equal(h.interval_ms, 100);
    const times = h.points.map((p) => p.time);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first');
    const last = times.at(-1)!;
    const newer = await eventually(async () => {
      const x = await getJson<{ points: HistoryPoint[] }>(`${t.http}/stats/history.json?since=${last}`);
      return x.points.length > 0 && x;
    }, 'a newer point');
    assert.ok(newer.points.every((p) => p.time > last));
    for (const k of ['sessions', 'connections', 'publications', 'events', 'calls', 'bytes_in', 'bytes_out', 'rss_bytes'] as const) {
      assert.equal(typeof newer.points[0]![k], 'number', k);
    }
  });

  it('lists a real client in sessions.json with its authid, transport, address and queued bytes', async () => {
    const c = await clients.connect();
    const me = one(await c.call('wamp.session.get', [c.id])) as { authid: string; authrole: string };
    const list = await getJson<{ total: number; sessions: SessionRow[] }>(`${t.http}/stats/sessions.json`);
    const row = list.sessions.find((s) => s.session === c.id);
    assert.ok(row, `session ${c.id} listed`);
    assert.equal(row.node, t.node.backplane.nodeId);
    assert.equal(row.realm, 'realm1');
    assert.equal(row.authid, me.authid);
    assert.equal(row.authrole, 'anonymous');
    assert.equal(row.transport, 'websocket');
    assert.match(row.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(typeof row.queued_bytes, 'number');
    assert.equal(row.dropped, 0);
    assert.ok(row.messages_in >= 2 && row.messages_out >= 2);
    assert.equal(list.total, list.sessions.length);
    const limited = await getJson<{ total: number; sessions: SessionRow[] }>(`${t.http}/stats/sessions.json?limit=1&realm=realm1`);
    assert.equal(limited.sessions.length, 1);
    assert.equal(limited.total, list.total);
    assert.equal((await getJson<{ sessions: SessionRow[] }>(`${t.http}/stats/sessions.json?realm=nowhere`)).sessions.length, 0);
    await clients.leave(c);
  });

  it('gives a single node\'s cluster view: not clustered, one node, totals equal to it', async () => {
    const c = await getJson<{ clustered: boolean; nodes: { node: string; sessions: number }[]; totals: { nodes: number; sessions: number } }>(`${t.http}/stats/cluster.json`);
    assert.equal(c.clustered, false);
    assert.deepEqual(c.nodes.map((n) => n.node), [t.node.backplane.nodeId]);
    assert.equal(c.totals.nodes, 1);
    assert.equal(c.totals.sessions, c.nodes[0]!.sessions);
  });

  it('answers hostile query strings with 400 and a reason, and keeps serving', async () => {
    const bad = [
      '/stats.json?x=1', '/stats?x=1', '/stats/history.json?since=-1', '/stats/history.json?since=abc', '/stats/history.json?since=1e3',
      '/stats/history.json?since=99999999999999999999', '/stats/history.json?since=1&since=2', '/stats/sessions.json?limit=0',
      '/stats/sessions.json?limit=1001', '/stats/sessions.json?limit=', '/stats/sessions.json?realm=', `/stats/sessions.json?realm=${'r'.repeat(300)}`,
      '/stats/sessions.json?realm=%E0%A4%A', '/stats/sessions.json?%zz=1', `/stats/cluster.json?${'a=1&'.repeat(1000)}`, '/stats/cluster.json?cluster=true',
      '/stats/uplot.js?v=2',
    ];
    for (const path of bad) {
      const res = await fetch(`${t.http}${path}`);
      assert.equal(res.status, 400, path);
      const text = await res.text();
      assert.ok(text.length > 10 && text.length < 400, `${path}: ${text}`);
    }
    assert.match(await (await fetch(`${t.http}/stats/sessions.json?limit=x`)).text(), /parameter "limit" must be an integer from 1 to 1000/);
    assert.match(await (await fetch(`${t.http}/stats.json?foo=1`)).text(), /unknown parameter "foo"/);
    assert.equal((await fetch(`${t.http}/stats/nothing.json`)).status, 404);
    assert.equal((await fetch(`${t.http}/stats/sessions.json`, { method: 'DELETE' })).status, 405);
    // Still serving: the page, its data and WAMP.
    assert.equal((await fetch(`${t.http}/stats/sessions.json?limit=5&token=whatever`)).status, 200);
    assert.equal((await fetch(`${t.http}/stats`)).status, 200);
    const c = await clients.connect();
    assert.equal(typeof one(await c.call('wamp.session.count')), 'number');
    await clients.leave(c);
  });
});

describe('the console behind the stats service\'s access control', LIMIT, () => {
  const TOKEN = 'console-secret-1';
  let node: XbarNode;
  let http: string;
  let clients: Clients;
  before(async () => {
    const base = testConfig();
    const [web, ...rest] = base.transports as [Extract<TransportConfig, { type: 'web' }>, ...TransportConfig[]];
    const paths = new Map(web.paths);
    paths.set('stats', { type: 'stats', access: { token: TOKEN } });
    paths.set('ops', { type: 'stats', access: { networks: ['10.0.0.0/8'] } });
    const config: NodeConfig = { ...base, transports: [{ ...web, paths }, ...rest], stats: { enabled: true, interval: 200, topTopics: 10, maxTopics: 100 } };
    node = new XbarNode(config, { logger: pino({ level: 'silent' }) });
    await node.start();
    http = `http://127.0.0.1:${node.port('web')}`;
    clients = new Clients(`ws://127.0.0.1:${node.port('web')}/ws`);
  });
  after(async () => {
    await clients.closeAll();
    await node.stop();
  });

  it('lists sessions only to whom the statistics are shown', async () => {
    const c = await clients.connect();
    for (const p of ['/stats/sessions.json', '/stats/cluster.json', '/stats/history.json', '/stats', '/stats/console.js', '/stats/uplot.js']) {
      const res = await fetch(`${http}${p}`);
      assert.equal(res.status, 401, p);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      assert.doesNotMatch(await res.text(), new RegExp(String(c.id)));
      assert.equal((await fetch(`${http}${p}?token=wrong-token-1`)).status, 401, p);
    }
    for (const p of ['/ops/sessions.json', '/ops/cluster.json', '/ops']) assert.equal((await fetch(`${http}${p}`)).status, 403, p);
    const list = await getJson<{ sessions: SessionRow[] }>(`${http}/stats/sessions.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.ok(list.sessions.some((s) => s.session === c.id));
    assert.ok((await getJson<{ sessions: SessionRow[] }>(`${http}/stats/sessions.json?token=${TOKEN}`)).sessions.some((s) => s.session === c.id));
    // The page opened with ?token= carries it to its scripts and styles.
    const page = await (await fetch(`${http}/stats?token=${TOKEN}`)).text();
    const assets = [...page.matchAll(/(?:src|href)="(\/stats\/[^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
    assert.equal(assets.length, 4);
    for (const a of assets) {
      assert.ok(a.endsWith(`?token=${TOKEN}`), a);
      assert.equal((await fetch(`${http}${a}`)).status, 200, a);
    }
    await clients.leave(c);
  });
});
