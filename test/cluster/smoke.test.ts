import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, connectWampy } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

describe('three xbar nodes over one NATS server', { timeout: 60_000 }, () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster(3);
  }, { timeout: 30_000 });
  after(() => c.stop());

  it('delivers an event published on node 1 to subscribers on nodes 2 and 3, once each', async () => {
    const [a, b, d] = await Promise.all([connectAutobahn(c.urls[0]!), connectAutobahn(c.urls[1]!, { serializer: 'msgpack' }), connectWampy(c.urls[2]!, 'cbor')]);
    const got: unknown[] = [];
    let both!: () => void;
    const done = new Promise<void>((r) => (both = r));
    const push = (v: unknown) => {
      got.push(v);
      if (got.length === 2) both();
    };
    await b.session.subscribe('com.cluster.news', (args) => push(['b', args[0]]));
    await d.subscribe('com.cluster.news', (e) => push(['d', e.argsList?.[0]]));
    await a.session.publish('com.cluster.news', ['hello'], {}, { acknowledge: true });
    await done;
    assert.deepEqual(got.sort(), [['b', 'hello'], ['d', 'hello']]);
    await Promise.all([a.close(), b.close(), d.disconnect()]);
  });

  it('gives session ids from a slot each node owns alone, so ids are unique across the cluster', async () => {
    const slots = new Map<number, Set<string>>();
    const clients = [];
    for (let i = 0; i < 9; i++) {
      const client = await connectAutobahn(c.urls[i % 3]!);
      clients.push(client);
      const id = client.session.id;
      assert.ok(id >= 1 && id <= 2 ** 53);
      const slot = (id - 1) % 1024;
      if (!slots.has(slot)) slots.set(slot, new Set());
      slots.get(slot)!.add(String(client.details.x_xbar_node));
    }
    assert.equal(slots.size, 3, 'one slot per node');
    for (const nodes of slots.values()) assert.equal(nodes.size, 1, 'a slot belongs to one node');
    await Promise.all(clients.map((x) => x.close()));
  });

  it('routes a call made on node 1 to a callee on node 3, and keeps single registrations unique cluster-wide', async () => {
    const callee = await connectAutobahn(c.urls[2]!);
    await callee.session.register('com.cluster.add', (args) => (args[0] as number) + (args[1] as number));
    const caller = await connectAutobahn(c.urls[0]!);
    assert.equal(await caller.session.call('com.cluster.add', [2, 40]), 42);
    const other = await connectAutobahn(c.urls[1]!);
    await assert.rejects(other.session.register('com.cluster.add', () => 0), (e: { error?: string }) => e.error === 'wamp.error.procedure_already_exists');
    await Promise.all([callee.close(), caller.close(), other.close()]);
  });
});
