/**
 * Shared registrations (advanced/ap_rpc_shared_registration.md) with Autobahn|JS callees and a wampy
 * caller: roundrobin, random, first, last, failover when a callee leaves, and the refusals.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type autobahn from 'autobahn';
import { startNode, type TestNode, pendingState } from '../../helpers/node.js';
import { type AutobahnClient, connectAutobahn, connectWampy } from '../../helpers/clients.js';
import { eventually } from '../../helpers/eventually.js';


const IDLE = { invocations: 0, callers: 0, callees: 0, queued: 0, remote: 0 };

describe('rpc shared registrations', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  /** Connects `n` Autobahn|JS callees, in order, each registering `procedure` and answering with its name. */
  async function callees(procedure: string, invoke: string, names: string[]): Promise<{ clients: AutobahnClient[]; hits: Map<string, number>; ids: number[] }> {
    const hits = new Map<string, number>(names.map((n) => [n, 0]));
    const clients: AutobahnClient[] = [];
    const ids: number[] = [];
    for (const name of names) {
      const c = await connectAutobahn(t.wsUrl);
      const reg = await c.session.register(procedure, () => {
        hits.set(name, hits.get(name)! + 1);
        return name;
      }, { invoke });
      clients.push(c);
      ids.push(reg.id);
    }
    return { clients, hits, ids };
  }

  it('roundrobin spreads 300 calls over 3 callees exactly 100 each, all under one registration ID', async () => {
    const { clients, hits, ids } = await callees('com.shared.rr', 'roundrobin', ['a', 'b', 'c']);
    assert.equal(new Set(ids).size, 1);
    const caller = await connectWampy(t.wsUrl);
    const answers = await Promise.all(Array.from({ length: 300 }, () => caller.call('com.shared.rr')));
    assert.deepEqual([...hits.values()], [100, 100, 100]);
    // Strict rotation: answers come back a, b, c, a, b, c, …
    assert.deepEqual(answers.slice(0, 6).map((r) => r.argsList?.[0]), ['a', 'b', 'c', 'a', 'b', 'c']);
    await caller.disconnect();
    await Promise.all(clients.map((c) => c.close()));
    assert.deepEqual(pendingState(t), IDLE);
    // Every node forgets the registration (at once on one node; as the registry replicates in a cluster).
    await eventually(() => t.nodes.every((n) => n.router.realm('realm1')!.dealer.registration(ids[0]!) === undefined), 'the condition');
  });

  it('roundrobin keeps rotating over the callees that remain when one leaves', async () => {
    const { clients, hits } = await callees('com.shared.rr2', 'roundrobin', ['a', 'b', 'c']);
    const caller = await connectAutobahn(t.wsUrl);
    await clients[1]!.close();
    await Promise.all(Array.from({ length: 100 }, () => caller.session.call('com.shared.rr2')));
    assert.deepEqual(Object.fromEntries(hits), { a: 50, b: 0, c: 50 });
    await Promise.all([caller.close(), clients[0]!.close(), clients[2]!.close()]);
  });

  it('random reaches every callee (300 calls over 3 callees)', async () => {
    const { clients, hits } = await callees('com.shared.random', 'random', ['a', 'b', 'c']);
    const caller = await connectWampy(t.wsUrl);
    await Promise.all(Array.from({ length: 300 }, () => caller.call('com.shared.random')));
    const counts = [...hits.values()];
    assert.equal(counts.reduce((x, y) => x + y), 300);
    for (const n of counts) assert.ok(n > 0, `every callee gets calls: ${counts}`);
    await caller.disconnect();
    await Promise.all(clients.map((c) => c.close()));
  });

  it('first sends every call to the first registered callee and fails over in registration order', async () => {
    const { clients, hits } = await callees('com.shared.first', 'first', ['a', 'b', 'c']);
    const caller = await connectWampy(t.wsUrl);
    const call = async () => (await caller.call('com.shared.first')).argsList?.[0];
    for (let i = 0; i < 10; i++) assert.equal(await call(), 'a');
    await clients[0]!.close();
    assert.equal(await call(), 'b');
    // A callee that registers again goes to the end of the order.
    const again = await callees('com.shared.first', 'first', ['a2']);
    assert.equal(await call(), 'b');
    await clients[1]!.close();
    assert.equal(await call(), 'c');
    await clients[2]!.close();
    assert.equal(await call(), 'a2');
    assert.deepEqual(Object.fromEntries(hits), { a: 10, b: 2, c: 1 });
    await Promise.all([caller.disconnect(), again.clients[0]!.close()]);
  });

  it('last sends every call to the last registered callee and fails over to the one before', async () => {
    const { clients } = await callees('com.shared.last', 'last', ['a', 'b', 'c']);
    const caller = await connectAutobahn(t.wsUrl);
    const call = () => caller.session.call('com.shared.last');
    for (let i = 0; i < 10; i++) assert.equal(await call(), 'c');
    await clients[2]!.close();
    assert.equal(await call(), 'b');
    const late = await callees('com.shared.last', 'last', ['d']);
    assert.equal(await call(), 'd');
    await late.clients[0]!.close();
    await clients[1]!.close();
    assert.equal(await call(), 'a');
    await Promise.all([caller.close(), clients[0]!.close()]);
  });

  it('refuses a callee asking for a different invoke policy with wamp.error.procedure_already_exists', async () => {
    const { clients } = await callees('com.shared.policy', 'roundrobin', ['a']);
    const other = await connectAutobahn(t.wsUrl);
    for (const invoke of ['random', 'first', 'last', 'single']) {
      await assert.rejects(
        other.session.register('com.shared.policy', () => 'x', { invoke }),
        (e: autobahn.Error) => {
          assert.equal(e.error, 'wamp.error.procedure_already_exists');
          if (invoke !== 'single') assert.match(String(e.args[0]), /invoke policy "roundrobin"/);
          return true;
        },
      );
    }
    // The default policy is single: a plain REGISTER is refused as well.
    await assert.rejects(other.session.register('com.shared.policy', () => 'x'), (e: autobahn.Error) => e.error === 'wamp.error.procedure_already_exists');
    await Promise.all([other.close(), clients[0]!.close()]);
  });

  it('refuses joining a single registration even with a shared policy', async () => {
    const { clients } = await callees('com.shared.single', 'single', ['a']);
    const other = await connectAutobahn(t.wsUrl);
    await assert.rejects(
      other.session.register('com.shared.single', () => 'x', { invoke: 'roundrobin' }),
      (e: autobahn.Error) => e.error === 'wamp.error.procedure_already_exists',
    );
    await Promise.all([other.close(), clients[0]!.close()]);
  });
});
