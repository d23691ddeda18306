/**
 * Live statistics over real sockets: /stats.json counts sessions, traffic, events, busiest topics,
 * calls and their latency, and slow-consumer drops; /metrics parses as strict Prometheus text with
 * the same numbers; /health and /health/ready (503 with the reason while the backplane is not
 * ready); xbar.stats.get and xbar.stats.on_update with Autobahn|JS; statistics switched off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LocalBackplane } from '../../../src/backplane/local/local-backplane.js';
import type { BackplaneHealth } from '../../../src/backplane/backplane.js';
import type { NodeSnapshot } from '../../../src/stats/snapshot.js';
import { RawWsClient } from '../../helpers/raw-wamp.js';
import { Clients, Events, LIMIT, type MetaNode, one, startMetaNode } from '../meta/support.js';
import { parsePrometheusText, valueOf } from './prometheus-text.js';
import { eventually } from '../../helpers/eventually.js';

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/** Polls /stats.json until `pred` holds (samples come every interval). */
async function statsUntil(t: MetaNode, pred: (s: NodeSnapshot) => boolean, ms = 5000): Promise<NodeSnapshot> {
  let s: NodeSnapshot | undefined;
  await eventually(async () => pred((s = (await getJson(`${t.http}/stats.json`)).body as NodeSnapshot)), 'stats to match', ms, 50)
    .catch((e: Error) => {
      throw new Error(`${e.message}; last: ${JSON.stringify(s).slice(0, 2000)}`);
    });
  return s!;
}

class SwitchableBackplane extends LocalBackplane {
  state: BackplaneHealth = 'standalone';
  override health(): BackplaneHealth {
    return this.state;
  }
}

describe('live statistics', LIMIT, () => {
  let t: MetaNode;
  let clients: Clients;
  const backplane = new SwitchableBackplane();
  before(async () => {
    t = await startMetaNode({ stats: { interval: 200 }, session: { maxOutBuffer: 4096 }, backplane });
    clients = new Clients(t.wsUrl);
  });
  after(async () => {
    await clients.closeAll();
    await t.stop();
  });

  it('counts sessions, traffic, events per topic and calls in /stats.json', async () => {
    const pub = await clients.connect();
    const subs = await Promise.all([1, 2, 3].map(() => clients.connect()));
    const got = new Events();
    for (const s of subs) await s.subscribe('com.example.ticks', got.handler);
    await subs[0]!.register('com.example.add', (args) => (args[0] as number) + (args[1] as number));
    for (let i = 0; i < 50; i++) await pub.publish('com.example.ticks', [i], {}, { acknowledge: true });
    for (let i = 0; i < 150; i++) await got.next();
    for (let i = 0; i < 20; i++) assert.equal(one(await pub.call('com.example.add', [i, 1])), i + 1);
    // Per-topic counts come with the next sample: wait for one taken after the last publication.
    const s = await statsUntil(t, (x) => x.realms[0]!.top_topics.some((tt) => tt.topic === 'com.example.ticks' && tt.publications === 50));
    const r = s.realms[0]!;
    assert.equal(s.node, t.node.backplane.nodeId);
    const { nodes, sessions_refused: refused, sessions_shed: shed, ...backplane } = s.backplane;
    assert.deepEqual(backplane, { health: 'standalone', members: 1 });
    assert.deepEqual([refused, shed], [{ hello: 0, websocket_upgrade: 0 }, 0], 'no cluster.max_sessions, no cluster.shed');
    assert.deepEqual(nodes?.map((n) => [n.node, n.state, n.sessions]), [[t.node.backplane.nodeId, 'ready', 4]], 'the node directory: this node');
    assert.equal(r.name, 'realm1');
    assert.equal(r.sessions, 4);
    assert.equal(s.sessions, 4);
    assert.ok(s.connections >= 4);
    assert.equal(r.subscriptions, 1);
    assert.equal(r.registrations, 1);
    assert.ok(r.totals.publications >= 50);
    assert.ok(r.totals.events >= 150, `events ${r.totals.events}`);
    assert.ok(r.totals.messages_in >= 50 + 20 + 20, `messages in ${r.totals.messages_in}`);
    assert.ok(r.totals.messages_out >= 150 + 50 + 20, `messages out ${r.totals.messages_out}`);
    assert.ok(r.totals.bytes_in > 0 && r.totals.bytes_out > r.totals.bytes_in);
    assert.equal(r.totals.calls, 20);
    assert.equal(r.calls_in_flight, 0);
    assert.equal(r.call_latency.count, 20);
    assert.ok(r.call_latency.p50_ms !== null && r.call_latency.p99_ms! >= r.call_latency.p50_ms);
    assert.equal(r.call_latency.buckets.at(-1)!.count, 20);
    const ticks = r.top_topics.find((x) => x.topic === 'com.example.ticks')!;
    assert.equal(ticks.publications, 50);
    assert.equal(ticks.events, 150);
    assert.ok(s.totals.messages_out >= r.totals.messages_out);
    // Rates: the publishing has stopped; within an interval or two they drop to zero again.
    const quiet = await statsUntil(t, (x) => x.realms[0]!.rates.events === 0);
    assert.equal(quiet.realms[0]!.totals.events >= 150, true);
    for (const c of subs) await clients.leave(c);
    await clients.leave(pub);
  });

  it('counts events dropped for a slow consumer', async () => {
    const pub = await clients.connect();
    const slow = await RawWsClient.open(t.wsUrl);
    slow.keep = false;
    await slow.hello();
    await slow.subscribe('com.example.flood');
    slow.pause();
    // Enough to fill the paused socket's kernel buffers, then its 4 KiB out-buffer.
    const payload = 'x'.repeat(32 * 1024);
    for (let i = 0; i < 400; i++) pub.publish('com.example.flood', [payload]);
    await pub.publish('com.example.flood', [payload], {}, { acknowledge: true });
    const s = await statsUntil(t, (x) => x.totals.dropped > 0 && x.realms[0]!.totals.dropped > 0);
    assert.ok(s.realms[0]!.totals.dropped <= 401);
    slow.destroy();
    await clients.leave(pub);
  });

  it('serves /metrics as Prometheus text that a strict parser accepts, with the same numbers', async () => {
    const a = await clients.connect();
    const b = await clients.connect();
    await b.register('com.example.slow', () => new Promise((r) => setTimeout(() => r('ok'), 20)));
    for (let i = 0; i < 5; i++) await a.call('com.example.slow');
    const res = await fetch(`${t.http}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(await res.text());
    assert.equal(families.get('xbar_realm_sessions')?.type, 'gauge');
    assert.equal(valueOf(families, 'xbar_realm_sessions', 'xbar_realm_sessions', { realm: 'realm1' }), 2);
    assert.equal(valueOf(families, 'xbar_realm_registrations', 'xbar_realm_registrations', { realm: 'realm1' }), 1);
    assert.equal(families.get('xbar_messages_received_total')?.type, 'counter');
    assert.ok(valueOf(families, 'xbar_messages_received_total', 'xbar_messages_received_total')! > 0);
    assert.ok(valueOf(families, 'xbar_events_dropped_total', 'xbar_events_dropped_total')! > 0, 'the drops of the previous test');
    assert.equal(valueOf(families, 'xbar_backplane_ready', 'xbar_backplane_ready', { health: 'standalone' }), 1);
    const h = families.get('xbar_realm_call_duration_seconds')!;
    assert.equal(h.type, 'histogram');
    const count = valueOf(families, 'xbar_realm_call_duration_seconds', 'xbar_realm_call_duration_seconds_count', { realm: 'realm1' })!;
    assert.ok(count >= 25, `count ${count}`);
    // The five 20 ms calls are above the 10 ms bucket.
    const le10ms = valueOf(families, 'xbar_realm_call_duration_seconds', 'xbar_realm_call_duration_seconds_bucket', { realm: 'realm1', le: '0.01' })!;
    assert.ok(count - le10ms >= 5, `${count - le10ms} calls above 10 ms`);
    assert.ok(valueOf(families, 'xbar_realm_call_duration_seconds', 'xbar_realm_call_duration_seconds_sum', { realm: 'realm1' })! >= 0.1);
    await clients.leave(a);
    await clients.leave(b);
  });

  it('answers liveness and readiness, 503 with the reason while the backplane is not ready', async () => {
    assert.deepEqual(await getJson(`${t.http}/health`), { status: 200, body: { status: 'alive' } });
    const node = t.node.backplane.nodeId;
    assert.deepEqual(await getJson(`${t.http}/health/ready`), { status: 200, body: { status: 'ready', node, backplane: 'standalone' } });
    backplane.state = 'isolated';
    try {
      assert.deepEqual(await getJson(`${t.http}/health/ready`), {
        status: 503, body: { status: 'not ready', node, backplane: 'isolated', reasons: ['the cluster backplane is isolated'] },
      });
      assert.equal((await fetch(`${t.http}/health`)).status, 200, 'still alive');
    } finally {
      backplane.state = 'standalone';
    }
  });

  it('refuses what it does not serve, and keeps serving', async () => {
    assert.equal((await fetch(`${t.http}/stats.json`, { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await fetch(`${t.http}/health/live/x`)).status, 404);
    assert.equal((await fetch(`${t.http}/metrics/x`)).status, 404);
    assert.equal((await fetch(`${t.http}/stats/x`)).status, 404);
    const page = await fetch(`${t.http}/stats`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    // Every script and stylesheet is served by this service (uPlot from node_modules), none from elsewhere.
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((u) => !u.startsWith('data:'));
    assert.deepEqual(assets.sort(), ['/stats/console.css', '/stats/console.js', '/stats/uplot.css', '/stats/uplot.js']);
    for (const a of assets) assert.equal((await fetch(`${t.http}${a}`)).status, 200, a);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    assert.equal((await fetch(`${t.http}/stats.json`)).status, 200);
  });

  it('answers xbar.stats.get and publishes xbar.stats.on_update with the realm\'s report', async () => {
    const a = await clients.connect();
    const report = one(await a.call('xbar.stats.get')) as Record<string, any>;
    assert.equal(report.node, t.node.backplane.nodeId);
    assert.equal(report.realm.name, 'realm1');
    assert.equal(report.realm.sessions, 1);
    const clustered = await a.call('xbar.stats.get', [], { cluster: true });
    assert.equal(one(clustered) !== undefined, true, 'one node: its own report only');
    assert.equal((await a.call('xbar.stats.get', [], { cluster: 'yes' }).catch((e) => e.error)), 'wamp.error.invalid_argument');
    const updates = new Events();
    await a.subscribe('xbar.stats.on_update', updates.handler);
    const u = (await updates.next(3000, 'xbar.stats.on_update')).args[0] as Record<string, any>;
    assert.equal(u.realm.name, 'realm1');
    assert.equal(u.interval_ms, 200);
    await clients.leave(a);
  });
});

describe('statistics switched off', LIMIT, () => {
  let t: MetaNode;
  before(async () => {
    t = await startMetaNode({ stats: { enabled: false } });
  });
  after(() => t.stop());

  it('counts no traffic but still reports the structure and serves every endpoint', async () => {
    const clients = new Clients(t.wsUrl);
    const a = await clients.connect();
    await a.publish('com.example.x', [1], {}, { acknowledge: true });
    const s = (await getJson(`${t.http}/stats.json`)).body as NodeSnapshot;
    assert.equal(s.enabled, false);
    assert.equal(s.realms[0]!.sessions, 1);
    assert.equal(s.totals.messages_in, 0);
    assert.equal(s.realms[0]!.totals.publications, 0);
    parsePrometheusText(await (await fetch(`${t.http}/metrics`)).text());
    assert.equal((one(await a.call('xbar.stats.get')) as Record<string, any>).enabled, false);
    await clients.closeAll();
  });
});
