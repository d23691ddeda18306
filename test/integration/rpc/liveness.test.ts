/**
 * Liveness: no call hangs and no invocation state leaks when a callee or a caller goes away,
 * gracefully (GOODBYE) or by a dropped connection.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type autobahn from 'autobahn';
import { startNode, type TestNode, pendingState } from '../../helpers/node.js';
import { connectAutobahn, connectWampy } from '../../helpers/clients.js';
import { M, RawPeer } from '../../helpers/raw-rpc.js';
import { eventually } from '../../helpers/eventually.js';

const IDLE = { invocations: 0, callers: 0, callees: 0, queued: 0, remote: 0 };

describe('rpc liveness', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  for (const how of ['leaves with GOODBYE', 'drops its connection'] as const) {
    it(`answers every call in flight with wamp.error.canceled when the callee ${how}`, async () => {
      const callee = await RawPeer.connect(t.wsUrl);
      await callee.register('com.live.callee_gone');
      const ab = await connectAutobahn(t.wsUrl);
      const wampy = await connectWampy(t.wsUrl, 'msgpack');
      const raw = await RawPeer.connect(t.wsUrl);
      const calls = [
        ab.session.call('com.live.callee_gone', [1]).then(() => 'result', (e: autobahn.Error) => [e.error, e.args[0]]),
        wampy.call('com.live.callee_gone', [2]).then(() => 'result', (e: { errorUri: string; argsList: unknown[] }) => [e.errorUri, e.argsList[0]]),
        raw.callAndWait('com.live.callee_gone', [3]).then((m) => [m[4], (m[5] as unknown[])[0]]),
      ];
      for (let i = 0; i < 3; i++) await callee.invocation();
      assert.equal(pendingState(t).invocations, 3);
      if (how === 'leaves with GOODBYE') await callee.goodbye();
      else await callee.kill();
      // No timeout is set on these calls: only the callee's departure can answer them.
      for (const answer of await Promise.all(calls)) {
        assert.deepEqual(answer, ['wamp.error.canceled', 'callee left before answering']);
      }
      assert.deepEqual(pendingState(t), IDLE);
      await Promise.all([ab.close(), wampy.disconnect(), raw.goodbye()]);
    });

    it(`interrupts every pending invocation (killnowait) when the caller ${how}`, async () => {
      const callee = await RawPeer.connect(t.wsUrl);
      await callee.register('com.live.caller_gone');
      const caller = await RawPeer.connect(t.wsUrl);
      for (let i = 0; i < 3; i++) caller.call('com.live.caller_gone', [i]);
      const invs = [];
      for (let i = 0; i < 3; i++) invs.push((await callee.invocation())[1]);
      if (how === 'leaves with GOODBYE') await caller.goodbye();
      else await caller.kill();
      const interrupted = [];
      for (let i = 0; i < 3; i++) {
        const m = await callee.next((x) => x[0] === M.INTERRUPT);
        assert.equal((m[2] as Record<string, unknown>).mode, 'killnowait');
        interrupted.push(m[1]);
      }
      assert.deepEqual(interrupted.sort(), [...invs].sort());
      assert.deepEqual(pendingState(t), IDLE);
      // Answers that cross the INTERRUPT are dropped; the callee goes on serving.
      for (const inv of invs) callee.yield(inv as number, ['late']);
      const other = await connectAutobahn(t.wsUrl);
      const p = other.session.call('com.live.caller_gone', ['next']);
      callee.yield((await callee.invocation())[1] as number, ['served']);
      assert.equal(await p, 'served');
      await Promise.all([other.close(), callee.goodbye()]);
      assert.deepEqual(pendingState(t), IDLE);
    });
  }

  it('sends no INTERRUPT to a callee without call canceling when the caller leaves (Autobahn|JS callee)', async () => {
    const callee = await connectAutobahn(t.wsUrl);
    let started = 0;
    const release: (() => void)[] = [];
    await callee.session.register('com.live.plain', (args) => args[0] === 'quick' ? 'quick' : new Promise((r) => {
      started++;
      release.push(() => r('late'));
    }));
    const caller = await connectWampy(t.wsUrl);
    void caller.call('com.live.plain').catch(() => undefined);
    void caller.call('com.live.plain').catch(() => undefined);
    await eventually(() => started === 2, 'started === 2');
    await caller.disconnect();
    // Across a cluster the callee's node learns of it a moment after the caller's node.
    await eventually(() => JSON.stringify(pendingState(t)) === JSON.stringify(IDLE), 'every node to forget the calls', 5000);
    assert.deepEqual(pendingState(t), IDLE);
    for (const r of release) r();
    // Autobahn|JS would have dropped the connection on an INTERRUPT; it still serves calls.
    const other = await connectAutobahn(t.wsUrl);
    assert.equal(await other.session.call('com.live.plain', ['quick']), 'quick');
    await Promise.all([other.close(), callee.close()]);
  });

  it('lets a callee answer the invocations it has after it unregisters', async () => {
    const callee = await RawPeer.connect(t.wsUrl);
    const reg = await callee.register('com.live.unregistered');
    const caller = await connectAutobahn(t.wsUrl);
    const p = caller.session.call('com.live.unregistered');
    const inv = await callee.invocation();
    const r = callee.nextId();
    callee.send([M.UNREGISTER, r, reg]);
    await callee.next((m) => m[0] === M.UNREGISTERED && m[1] === r);
    await assert.rejects(caller.session.call('com.live.unregistered'), (e: autobahn.Error) => e.error === 'wamp.error.no_such_procedure');
    callee.yield(inv[1] as number, ['still answered']);
    assert.equal(await p, 'still answered');
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([callee.goodbye(), caller.close()]);
  });

  it('cleans up a session that calls its own procedure and leaves', async () => {
    const self = await RawPeer.connect(t.wsUrl);
    await self.register('com.live.self');
    self.call('com.live.self', [1]);
    self.call('com.live.self', [2]);
    await self.invocation();
    await self.invocation();
    assert.equal(pendingState(t).invocations, 2);
    await self.goodbye();
    assert.deepEqual(pendingState(t), IDLE);
    assert.equal(self.log.filter((m) => m[0] === M.INTERRUPT || m[0] === M.ERROR).length, 0, 'nothing is sent to a session after its GOODBYE');
  });

  it('lets one shared callee leave without disturbing calls in flight at the others', async () => {
    const a = await RawPeer.connect(t.wsUrl);
    const b = await RawPeer.connect(t.wsUrl);
    await a.register('com.live.shared', { invoke: 'roundrobin' });
    await b.register('com.live.shared', { invoke: 'roundrobin' });
    const caller = await RawPeer.connect(t.wsUrl);
    const ra = caller.call('com.live.shared', ['to a']);
    const rb = caller.call('com.live.shared', ['to b']);
    await a.invocation();
    const invB = await b.invocation();
    await a.kill();
    const ea = await caller.answer(ra);
    assert.equal(ea[4], 'wamp.error.canceled');
    b.yield(invB[1] as number, ['b done']);
    assert.deepEqual((await caller.answer(rb))[3], ['b done']);
    // New calls all go to the callee that is left.
    const rc = caller.call('com.live.shared', ['next']);
    b.yield((await b.invocation())[1] as number, ['b again']);
    assert.deepEqual((await caller.answer(rc))[3], ['b again']);
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([b.goodbye(), caller.goodbye()]);
  });
});
