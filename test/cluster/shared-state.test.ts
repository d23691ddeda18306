/**
 * State the cluster shares through JetStream (issue 17, point 3), on three nodes over a real
 * nats-server -js, with Autobahn|JS and wampy clients: retained events and event history are the
 * realm's, whichever node published them, outlive that node and are bounded for the realm as on
 * one node; subscription and registration on_create/on_delete are published once for the cluster.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, connectWampy, type AutobahnClient } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { ALLOW_ALL } from '../helpers/node.js';
import { eventually } from '../helpers/eventually.js';
import { overLimit } from '../integration/limits/support.js';

const roles = [{ name: 'anonymous', permissions: [ALLOW_ALL] }];

/**
 * The retained event a new subscriber on `url` gets for `topic`, or undefined: a marker published
 * after the subscription comes after any retained event on the same connection.
 */
async function retainedOf(url: string, realm: string, topic: string): Promise<unknown> {
  const c = await connectAutobahn(url, { realm });
  try {
    let first!: (v: unknown) => void;
    const got = new Promise((resolve) => (first = resolve));
    await c.session.subscribe(topic, (args, _kw, details) => first(details.retained ? args![0] : undefined), { get_retained: true });
    await c.session.publish(topic, ['(marker)'], {}, { acknowledge: true, exclude_me: false });
    return await got;
  } finally {
    await c.close();
  }
}

describe('state shared by a 3-node cluster', { timeout: 60_000 }, () => {
  let c: TestCluster;
  const open: AutobahnClient[] = [];
  const join = async (node: number, realm = 'realm1') => {
    const client = await connectAutobahn(c.urls[node]!, { realm });
    open.push(client);
    return client.session;
  };

  before(async () => {
    c = await startCluster(3, {
      realms: [
        {
          name: 'realm1', uriCheck: 'loose', roles,
          store: { type: 'memory', maxRetained: 100, eventHistory: [{ uri: 'com.shared.log', match: 'exact', limit: 3 }, { uri: 'com.shared.', match: 'prefix', limit: 10 }] },
        },
        { name: 'bounded', uriCheck: 'loose', roles, store: { type: 'memory', maxRetained: 3, eventHistory: [] } },
      ],
      limits: { maxRetainedBytesPerRealm: 2000 },
    });
    await eventually(() => c.nodes.every((n) => n.backplane.members().size === 3), 'the nodes to see each other');
  });
  after(async () => {
    await Promise.all(open.map((x) => x.close().catch(() => undefined)));
    await c.stop();
  });

  it('gives a get_retained subscriber on node B the event retained on node A (wampy and Autobahn|JS)', async () => {
    const a = await join(0);
    await a.publish('com.shared.temp', [21.5], {}, { retain: true, acknowledge: true });
    const w = await connectWampy(c.urls[1]!);
    try {
      const got = new Promise<[unknown, unknown]>((resolve) => {
        void w.subscribe('com.shared.temp', (e: { argsList?: unknown[]; details: Record<string, unknown> }) => resolve([e.argsList?.[0], e.details.retained]), { get_retained: true });
      });
      assert.deepEqual(await got, [21.5, true]);
    } finally {
      await w.disconnect();
    }
    // A pattern subscription on node C gets it too, with its topic.
    const d = await join(2);
    const byPattern = await new Promise<unknown[]>((resolve) => {
      void d.subscribe('com.shared', (args, _kw, details) => {
        if (details.retained) resolve([args![0], details.topic]);
      }, { match: 'prefix', get_retained: true });
    });
    assert.deepEqual(byPattern, [21.5, 'com.shared.temp']);
    // Retaining again on another node replaces it everywhere.
    const b = await join(1);
    await b.publish('com.shared.temp', [22], {}, { retain: true, acknowledge: true });
    assert.equal(await retainedOf(c.urls[0]!, 'realm1', 'com.shared.temp'), 22);
    assert.equal(await retainedOf(c.urls[2]!, 'realm1', 'com.shared.temp'), 22);
  });

  it('bounds the realm\'s retained events in bytes and count across nodes, refusing as one node does', async () => {
    const big = 'x'.repeat(590);
    const a = await join(0, 'bounded');
    for (const t of ['r.one', 'r.two', 'r.three']) await a.publish(t, [big], {}, { retain: true, acknowledge: true });
    await eventually(() => c.nodes[1]!.backplane.retained.count('bounded') === 3, 'node B to hold node A\'s retained events');
    const b = await join(1, 'bounded');
    await assert.rejects(b.publish('r.four', [big], {}, { retain: true, acknowledge: true })!, overLimit('max_retained_bytes_per_realm', 2000));
    assert.equal(await retainedOf(c.urls[2]!, 'bounded', 'r.four'), undefined, 'the refused publication is not retained');
    // Replacing a retained event on node B frees its bytes; a fourth topic then pushes out the
    // longest retained one (store.max_retained 3) on every node.
    await b.publish('r.one', ['small'], {}, { retain: true, acknowledge: true });
    await b.publish('r.four', ['small'], {}, { retain: true, acknowledge: true });
    for (const url of c.urls) {
      assert.equal(await retainedOf(url, 'bounded', 'r.two'), undefined);
      assert.equal(await retainedOf(url, 'bounded', 'r.four'), 'small');
      assert.equal(await retainedOf(url, 'bounded', 'r.three'), big);
    }
    await eventually(() => c.nodes.every((n) => n.backplane.retained.count('bounded') === 3), 'every node to hold three');
  });

  it('answers get_events on node B with the history published on nodes A and C, bounded by the rule', async () => {
    const [a, d] = [await join(0), await join(2)];
    for (let i = 1; i <= 4; i++) await a.publish('com.shared.log', [i], {}, { acknowledge: true });
    await d.publish('com.shared.log', [5], {}, { acknowledge: true });
    await d.publish('com.shared.other', ['x'], {}, { acknowledge: true });
    const b = await join(1);
    const sub = await b.subscribe('com.shared.log', () => undefined);
    const history = await b.call('wamp.subscription.get_events', [sub.id, 10]) as Record<string, unknown[]>[];
    // Crossbar.io's form: newest first; the rule keeps 3.
    assert.deepEqual(history.map((e) => e.args![0]), [5, 4, 3]);
    const prefix = await b.subscribe('com.shared.', () => undefined, { match: 'prefix' });
    const all = await b.call('wamp.subscription.get_events', [prefix.id], { reverse: false }) as Record<string, unknown>[];
    assert.deepEqual(all.map((e) => [e.topic, (e.args as unknown[])[0]]).slice(-3), [['com.shared.log', 4], ['com.shared.log', 5], ['com.shared.other', 'x']]);
  });

  it('publishes subscription on_create and on_delete once for the cluster, with subscribers on two nodes', async () => {
    const watcher = await join(0);
    const seen: [string, unknown[]][] = [];
    for (const t of ['on_create', 'on_subscribe', 'on_unsubscribe', 'on_delete']) {
      await watcher.subscribe(`wamp.subscription.${t}`, (args) => seen.push([t, args!]));
    }
    const of = (t: string) => seen.filter(([k]) => k === t).map(([, a]) => a);
    const [b, d] = [await join(1), await join(2)];
    const first = await b.subscribe('com.shared.meta', () => undefined);
    await eventually(() => of('on_subscribe').length === 1, 'the first on_subscribe');
    const second = await d.subscribe('com.shared.meta', () => undefined);
    // A node's on_create comes before its on_subscribe: once both on_subscribes are here, so is every on_create.
    await eventually(() => of('on_subscribe').length === 2, 'both on_subscribe events');
    assert.deepEqual(of('on_create').map((a) => [a[0], (a[1] as Record<string, unknown>).uri]), [[b.id, 'com.shared.meta']]);
    await b.unsubscribe(first);
    await eventually(() => of('on_unsubscribe').length === 1, 'the first on_unsubscribe');
    await d.unsubscribe(second);
    await eventually(() => of('on_delete').length >= 1, 'on_delete');
    // Each node's later meta event comes after any on_delete it published.
    await Promise.all([b.subscribe('com.shared.marker.b', () => undefined), d.subscribe('com.shared.marker.d', () => undefined)]);
    await eventually(() => of('on_subscribe').length === 4, 'the markers');
    assert.deepEqual(of('on_delete'), [[d.id, second.id]]);
    // The next subscriber anywhere creates it again.
    await b.subscribe('com.shared.meta', () => undefined);
    await eventually(() => of('on_create').filter((a) => (a[1] as Record<string, unknown>).uri === 'com.shared.meta').length === 2, 'on_create again');
  });

  it('publishes registration on_create and on_delete once for the cluster, with callees on two nodes', async () => {
    const watcher = await join(0);
    const seen: [string, unknown[]][] = [];
    for (const t of ['on_create', 'on_register', 'on_unregister', 'on_delete']) {
      await watcher.subscribe(`wamp.registration.${t}`, (args) => seen.push([t, args!]));
    }
    const of = (t: string) => seen.filter(([k]) => k === t).map(([, a]) => a);
    const [b, d] = [await join(1), await join(2)];
    const rb = await b.register('com.shared.proc', () => 'b', { invoke: 'roundrobin' });
    const rd = await d.register('com.shared.proc', () => 'd', { invoke: 'roundrobin' });
    await eventually(() => of('on_register').length === 2, 'both on_register events');
    assert.deepEqual(of('on_create').map((a) => [a[0], (a[1] as Record<string, unknown>).uri]), [[b.id, 'com.shared.proc']]);
    await b.unregister(rb);
    await d.unregister(rd);
    await eventually(() => of('on_delete').length >= 1, 'on_delete');
    await Promise.all([b.register('com.shared.marker.b', () => 0), d.register('com.shared.marker.d', () => 0)]);
    await eventually(() => of('on_register').length === 4, 'the markers');
    // Exactly one on_delete. UNREGISTERED is answered before the registry write lands, so the two
    // removals can reach the registry in either order: the session is whichever was removed last there.
    assert.equal(of('on_delete').length, 1);
    const [deleter, regId] = of('on_delete')[0]!;
    assert.equal(regId, rd.id);
    assert.ok(deleter === b.id || deleter === d.id, `on_delete names ${String(deleter)}, neither callee`);
  });

  it('keeps an event retained and the history published on node A after node A has stopped', async () => {
    const a = await join(0);
    await a.publish('com.shared.door', ['open'], {}, { retain: true, acknowledge: true });
    await a.publish('com.shared.log', ['last words'], {}, { acknowledge: true });
    await c.nodes[0]!.stop();
    await eventually(() => c.nodes[1]!.backplane.members().size === 2, 'node B to see node A gone');
    assert.equal(await retainedOf(c.urls[1]!, 'realm1', 'com.shared.door'), 'open');
    assert.equal(await retainedOf(c.urls[2]!, 'realm1', 'com.shared.door'), 'open');
    const d = await join(2);
    const sub = await d.subscribe('com.shared.log', () => undefined);
    const history = await d.call('wamp.subscription.get_events', [sub.id, 1]) as Record<string, unknown[]>[];
    assert.deepEqual(history.map((e) => e.args![0]), ['last words']);
  });
});
