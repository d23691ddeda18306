/**
 * The meta API across a 3-node NATS cluster (real nats-server), clients on every node with
 * Autobahn|JS: session and subscription counts and lists span the nodes, a session on another node
 * is read and killed by its own node, registrations list callees on every node, meta events and
 * testaments reach subscribers on other nodes, retained events and history are found wherever they
 * were published.
 */
import assert from 'node:assert/strict';
import autobahn from 'autobahn';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { ALLOW_ALL } from '../helpers/node.js';
import { RawWsClient } from '../helpers/raw-wamp.js';
import { eventually } from '../helpers/eventually.js';

const one = (v: unknown): unknown => (v instanceof autobahn.Result ? v.args[0] : v);

describe('meta API on a 3-node cluster', { timeout: 40_000 }, () => {
  let c: TestCluster;
  const open: AutobahnClient[] = [];
  const join = async (node: number, o: Parameters<typeof connectAutobahn>[1] = {}) => {
    const client = await connectAutobahn(c.urls[node]!, o);
    open.push(client);
    return client.session;
  };
  before(async () => {
    c = await startCluster(3, {
      realms: [{
        name: 'realm1', uriCheck: 'loose', roles: [{ name: 'anonymous', permissions: [ALLOW_ALL] }],
        store: { type: 'memory', maxRetained: 100, eventHistory: [{ uri: 'com.cluster.log', match: 'exact', limit: 10 }] },
      }],
    });
    // Every node must know the others before their answers can be awaited.
    await eventually(() => c.nodes.every((n) => n.backplane.members().size === 3), 'the nodes to see each other');
  });
  after(async () => {
    await Promise.all(open.map((x) => x.close()));
    await c.stop();
  });

  it('counts, lists and gets sessions of the whole realm, and kills one on another node', async () => {
    const [s1, s2, s3] = [await join(0), await join(1), await join(2)];
    assert.equal(one(await s1.call('wamp.session.count')), 3);
    assert.deepEqual((one(await s2.call('wamp.session.list')) as number[]).sort(), [s1.id, s2.id, s3.id].sort());
    assert.equal(one(await s3.call('wamp.session.count', [['anonymous']])), 3);
    const d = one(await s1.call('wamp.session.get', [s3.id])) as Record<string, any>;
    assert.equal(d.session, s3.id);
    assert.equal(d.transport.node, c.nodes[2]!.backplane.nodeId);
    const victim = await RawWsClient.open(c.urls[1]!);
    const vid = await victim.hello();
    await s3.call('wamp.session.kill', [vid], { reason: 'wamp.close.killed', message: 'from node 3' });
    assert.deepEqual(await victim.waitFor((m) => m[0] === 6), [6, { message: 'from node 3' }, 'wamp.close.killed']);
    await assert.rejects(s1.call('wamp.session.get', [vid]), (e: autobahn.Error) => e.error === 'wamp.error.no_such_session');
    const more = await Promise.all([0, 1, 2].map(async (n) => {
      const v = await RawWsClient.open(c.urls[n]!);
      await v.hello('realm1');
      return v;
    }));
    assert.equal(one(await s1.call('wamp.session.count')), 6);
    // By authrole, everywhere, sparing the caller; the Autobahn sessions go too.
    assert.equal(one(await s1.call('wamp.session.kill_by_authrole', ['anonymous'])), 5);
    await Promise.all(more.map((v) => v.ended));
    assert.deepEqual(one(await s1.call('wamp.session.list')), [s1.id]);
  });

  it('combines subscriptions of every node: list, lookup, match, get, subscribers', async () => {
    const [a, b, d] = [await join(0), await join(1), await join(2)];
    const noop = () => undefined;
    const exact = await b.subscribe('com.cluster.news', noop);
    await d.subscribe('com.cluster.news', noop);
    const prefix = await d.subscribe('com.cluster', noop, { match: 'prefix' });
    assert.deepEqual(one(await a.call('wamp.subscription.list')), { exact: [exact.id], prefix: [prefix.id], wildcard: [] });
    assert.equal(one(await a.call('wamp.subscription.lookup', ['com.cluster', { match: 'prefix' }])), prefix.id);
    assert.equal(one(await a.call('wamp.subscription.lookup', ['com.nothing'])), null);
    assert.deepEqual((one(await a.call('wamp.subscription.match', ['com.cluster.news'])) as number[]).sort(), [exact.id, prefix.id].sort());
    assert.deepEqual((one(await a.call('wamp.subscription.list_subscribers', [exact.id])) as number[]).sort(), [b.id, d.id].sort());
    assert.equal(one(await a.call('wamp.subscription.count_subscribers', [exact.id])), 2);
    assert.equal((one(await a.call('wamp.subscription.get', [prefix.id])) as Record<string, unknown>).uri, 'com.cluster');
  });

  it('lists callees of a shared registration on every node, and sends meta events across nodes', async () => {
    const watcher = await join(0);
    const seen: unknown[][] = [];
    await watcher.subscribe('wamp.registration.on_register', (args) => seen.push(args));
    const joins: unknown[] = [];
    await watcher.subscribe('wamp.session.on_join', (args) => joins.push((args[0] as Record<string, unknown>).session));
    const [b, d] = [await join(1), await join(2)];
    const reg = await b.register('com.cluster.work', () => 'b', { invoke: 'roundrobin' });
    await d.register('com.cluster.work', () => 'd', { invoke: 'roundrobin' });
    assert.deepEqual((one(await watcher.call('wamp.registration.list_callees', [reg.id])) as number[]).sort(), [b.id, d.id].sort());
    assert.equal(one(await watcher.call('wamp.registration.count_callees', [reg.id])), 2);
    await eventually(() => seen.length >= 2 && joins.length >= 2, 'two registration meta events of each kind', 3000);
    assert.deepEqual(seen.map((x) => x[0]).sort(), [b.id, d.id].sort());
    assert.deepEqual(joins.sort(), [b.id, d.id].sort());
  });

  it('publishes a testament to subscribers on other nodes; finds retained events and history on any node', async () => {
    const watcher = await join(0);
    const got: unknown[] = [];
    await watcher.subscribe('com.cluster.presence', (args) => got.push(args[0]));
    const device = await join(1);
    await device.call('wamp.session.add_testament', ['com.cluster.presence', ['device gone'], {}]);
    await open.find((x) => x.session === device)!.close();
    await eventually(() => got.length > 0, 'the testament', 3000);
    assert.deepEqual(got, ['device gone']);

    const pub = await join(0);
    await pub.publish('com.cluster.temp', [21.5], {}, { retain: true, acknowledge: true });
    for (let i = 1; i <= 3; i++) await pub.publish('com.cluster.log', [i], {}, { acknowledge: true });
    const late = await join(2);
    const retained = await new Promise<unknown[]>((resolve) => {
      void late.subscribe('com.cluster.temp', (args, _kw, details) => {
        if (details.retained) resolve(args);
      }, { get_retained: true });
    });
    assert.deepEqual(retained, [21.5]);
    const sub = await late.subscribe('com.cluster.log', () => undefined);
    const history = one(await late.call('wamp.subscription.get_events', [sub.id, 10])) as Record<string, unknown[]>[];
    assert.deepEqual(history.map((e) => e.args![0]), [3, 2, 1]);
  });
});
