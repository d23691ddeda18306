/**
 * Registration revocation (advanced/ap_rpc_registration_revocation.md): a registration the router
 * removes is announced to callees that support it with [UNREGISTERED, 0, {registration, reason}].
 * Triggers: REGISTER with force_reregister (Crossbar.io's option), and Dealer.revoke (the entry
 * point for the registration meta API).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, type TestNode, pendingState } from '../../helpers/node.js';
import { connectAutobahn, connectWampy } from '../../helpers/clients.js';
import { M, RawPeer } from '../../helpers/raw-rpc.js';

const IDLE = { invocations: 0, callers: 0, callees: 0, queued: 0, remote: 0 };

describe('rpc registration revocation', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  it('force_reregister revokes the first callee: Autobahn|JS resolves on_unregister with the reason', async () => {
    const first = await connectAutobahn(t.wsUrl);
    const reg = await first.session.register('com.rev.proc', () => 'first');
    const onUnregister = (reg as unknown as { on_unregister: Promise<string> }).on_unregister;
    const caller = await connectWampy(t.wsUrl);
    assert.deepEqual((await caller.call('com.rev.proc')).argsList, ['first']);
    const second = await connectAutobahn(t.wsUrl);
    await second.session.register('com.rev.proc', () => 'second', { force_reregister: true });
    assert.match(await onUnregister, /force_reregister/);
    assert.equal(reg.active, false);
    assert.deepEqual((await caller.call('com.rev.proc')).argsList, ['second']);
    assert.equal(first.connection.isOpen, true);
    await Promise.all([first.close(), second.close(), caller.disconnect()]);
  });

  it('sends [UNREGISTERED, 0, {registration, reason}] to a raw callee, which may still answer what it holds', async () => {
    const first = await RawPeer.connect(t.wsUrl);
    const id = await first.register('com.rev.raw');
    const caller = await connectAutobahn(t.wsUrl);
    const pending = caller.session.call('com.rev.raw', ['held']);
    const inv = await first.invocation();
    const second = await RawPeer.connect(t.wsUrl);
    await second.register('com.rev.raw', { force_reregister: true });
    const m = await first.next((x) => x[0] === M.UNREGISTERED);
    assert.equal(m.length, 3);
    assert.equal(m[1], 0);
    const details = m[2] as Record<string, unknown>;
    assert.equal(details.registration, id);
    assert.equal(typeof details.reason, 'string');
    first.yield(inv[1] as number, ['answered after revocation']);
    assert.equal(await pending, 'answered after revocation');
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([first.goodbye(), second.goodbye(), caller.close()]);
  });

  it('revokes every callee of a shared registration', async () => {
    const olds = await Promise.all([0, 1].map(async () => {
      const p = await RawPeer.connect(t.wsUrl);
      await p.register('com.rev.shared', { invoke: 'roundrobin' });
      return p;
    }));
    const takeover = await connectAutobahn(t.wsUrl);
    await takeover.session.register('com.rev.shared', () => 'new', { force_reregister: true });
    for (const p of olds) assert.equal((await p.next((x) => x[0] === M.UNREGISTERED))[1], 0);
    const caller = await connectAutobahn(t.wsUrl);
    for (let i = 0; i < 4; i++) assert.equal(await caller.session.call('com.rev.shared'), 'new');
    await Promise.all([...olds.map((p) => p.goodbye()), takeover.close(), caller.close()]);
  });

  it('removes the registration of a callee that did not announce registration_revocation, silently', async () => {
    const first = await connectWampy(t.wsUrl);
    await first.register('com.rev.wampy', () => ({ argsList: ['wampy'] }));
    const second = await connectAutobahn(t.wsUrl);
    await second.session.register('com.rev.wampy', () => 'autobahn', { force_reregister: true });
    const caller = await connectAutobahn(t.wsUrl);
    assert.equal(await caller.session.call('com.rev.wampy'), 'autobahn');
    // wampy's session is unharmed: it still calls fine.
    assert.deepEqual((await first.call('com.rev.wampy')).argsList, ['autobahn']);
    await Promise.all([first.disconnect(), second.close(), caller.close()]);
  });

  it('Dealer.revoke tells the callee, answers waiting calls with wamp.error.canceled, and frees the procedure', async () => {
    const callee = await RawPeer.connect(t.wsUrl);
    const id = await callee.register('com.rev.router', { concurrency: 1 });
    const caller = await RawPeer.connect(t.wsUrl);
    const inFlight = caller.call('com.rev.router', [1]);
    const waiting = caller.call('com.rev.router', [2]);
    const inv = await callee.invocation();
    // The dealer of the node the callee is on (the only node under a single-node run).
    const owner = t.nodes.map((n) => n.router.realm('realm1')!.dealer).find((d) => d.registration(id)?.callees.some((c) => c.session))!;
    const reg = owner.registration(id)!;
    owner.revoke(reg, 'removed by the operator');
    assert.deepEqual(await callee.next((x) => x[0] === M.UNREGISTERED), [M.UNREGISTERED, 0, { registration: id, reason: 'removed by the operator' }]);
    assert.equal((await caller.answer(waiting))[4], 'wamp.error.canceled');
    assert.equal(owner.registration(id), undefined);
    const r = caller.call('com.rev.router');
    assert.equal((await caller.answer(r))[4], 'wamp.error.no_such_procedure');
    callee.yield(inv[1] as number, ['done']);
    assert.deepEqual((await caller.answer(inFlight))[3], ['done']);
    // The revoked callee cannot unregister what it no longer has, but may register again.
    const u = callee.nextId();
    callee.send([M.UNREGISTER, u, id]);
    assert.equal((await callee.next((x) => x[0] === M.ERROR && x[2] === u))[4], 'wamp.error.no_such_registration');
    await callee.register('com.rev.router');
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([callee.goodbye(), caller.goodbye()]);
  });
});
