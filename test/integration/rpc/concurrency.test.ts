/**
 * Crossbar.io's REGISTER option `concurrency`: never more than N invocations outstanding at one
 * callee; a call beyond it goes to another callee of a shared registration with spare capacity,
 * else waits in a bounded FIFO queue (QUEUE_LIMIT per registration), else fails with
 * crossbar.error.max_concurrency_reached.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QUEUE_LIMIT } from '../../../src/router/dealer.js';
import { startNode, type TestNode, pendingState } from '../../helpers/node.js';
import { connectAutobahn, connectWampy } from '../../helpers/clients.js';
import { M, type Msg, RawPeer } from '../../helpers/raw-rpc.js';
import { eventually } from '../../helpers/eventually.js';

const IDLE = { invocations: 0, callers: 0, callees: 0, queued: 0, remote: 0 };

describe('rpc concurrency limits', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  /** A raw callee that holds invocations until the test answers them; tracks how many it holds. */
  async function holdingCallee(procedure: string, options: Record<string, unknown>) {
    const peer = await RawPeer.connect(t.wsUrl);
    await peer.register(procedure, options);
    const held: Msg[] = [];
    let max = 0;
    peer.listener = (m) => {
      if (m[0] !== M.INVOCATION) return false;
      held.push(m);
      max = Math.max(max, held.length);
      return true;
    };
    return {
      peer, held,
      get max() { return max; },
      answer(i = 0, value?: unknown) {
        const [m] = held.splice(i, 1);
        peer.yield(m![1] as number, [value ?? (m![4] as unknown[])[0]]);
      },
    };
  }

  it('never has more than N invocations outstanding at a callee; the rest wait and run in FIFO order', async () => {
    const c = await holdingCallee('com.conc.limit', { concurrency: 2 });
    const caller = await RawPeer.connect(t.wsUrl);
    const requests = Array.from({ length: 6 }, (_, i) => caller.call('com.conc.limit', [i]));
    await eventually(() => c.held.length === 2 && pendingState(t).queued === 4, 'c.held.length === 2 && pendingState(t).queued === 4');
    assert.deepEqual(c.held.map((m) => (m[4] as number[])[0]), [0, 1]);
    // Answer out of order; each answer lets exactly one waiting call in.
    c.answer(1);
    await eventually(() => c.held.length === 2, 'c.held.length === 2');
    assert.deepEqual(c.held.map((m) => (m[4] as number[])[0]), [0, 2]);
    for (let answered = 1; answered < 6; answered++) {
      await eventually(() => c.held.length > 0, 'c.held.length > 0');
      c.answer(c.held.length - 1);
    }
    for (const [i, r] of requests.entries()) assert.deepEqual((await caller.answer(r))[3], [i]);
    assert.equal(c.max, 2);
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([c.peer.goodbye(), caller.goodbye()]);
  });

  it('sends a call beyond one callee\'s limit to another callee of the shared registration, then queues it', async () => {
    const a = await holdingCallee('com.conc.shared', { invoke: 'roundrobin', concurrency: 1 });
    const b = await holdingCallee('com.conc.shared', { invoke: 'roundrobin', concurrency: 1 });
    const caller = await RawPeer.connect(t.wsUrl);
    const [r0, r1, r2] = [0, 1, 2].map((i) => caller.call('com.conc.shared', [i]));
    await eventually(() => a.held.length === 1 && b.held.length === 1 && pendingState(t).queued === 1, 'a.held.length === 1 && b.held.length === 1 && pendingState(t).queued === 1');
    b.answer();
    // The waiting call goes to the callee that has room (b), not to the busy one next in turn.
    await eventually(() => b.held.length === 1, 'b.held.length === 1');
    assert.deepEqual(b.held[0]![4], [2]);
    a.answer();
    b.answer();
    assert.deepEqual([(await caller.answer(r0!))[3], (await caller.answer(r1!))[3], (await caller.answer(r2!))[3]], [[0], [1], [2]]);
    assert.equal(a.max, 1);
    assert.equal(b.max, 1);
    await Promise.all([a.peer.goodbye(), b.peer.goodbye(), caller.goodbye()]);
  });

  it('hands waiting calls to a callee that joins the shared registration, after its REGISTERED', async () => {
    const a = await holdingCallee('com.conc.join', { invoke: 'roundrobin', concurrency: 1 });
    const caller = await RawPeer.connect(t.wsUrl);
    for (let i = 0; i < 3; i++) caller.call('com.conc.join', [i]);
    await eventually(() => a.held.length === 1 && pendingState(t).queued === 2, 'a.held.length === 1 && pendingState(t).queued === 2');
    const b = await RawPeer.connect(t.wsUrl);
    const id = await b.register('com.conc.join', { invoke: 'roundrobin', concurrency: 2 });
    const invs = [await b.invocation(id), await b.invocation(id)];
    assert.deepEqual(invs.map((m) => m[4]), [[1], [2]]);
    assert.equal(b.log[1]![0], M.REGISTERED, 'REGISTERED comes before the first INVOCATION');
    assert.equal(pendingState(t).queued, 0);
    await Promise.all([a.peer.goodbye(), b.goodbye(), caller.goodbye()]);
    assert.deepEqual(pendingState(t), IDLE);
  });

  it('with invoke first, overflows from a full first callee to the next in registration order', async () => {
    const a = await holdingCallee('com.conc.first', { invoke: 'first', concurrency: 1 });
    const b = await holdingCallee('com.conc.first', { invoke: 'first', concurrency: 1 });
    const c = await holdingCallee('com.conc.first', { invoke: 'first' });
    const caller = await RawPeer.connect(t.wsUrl);
    for (let i = 0; i < 4; i++) caller.call('com.conc.first', [i]);
    await eventually(() => a.held.length + b.held.length + c.held.length === 4, 'a.held.length + b.held.length + c.held.length === 4');
    assert.deepEqual([a.held.length, b.held.length, c.held.length], [1, 1, 2]);
    await Promise.all([a.peer.goodbye(), b.peer.goodbye(), c.peer.goodbye(), caller.goodbye()]);
    assert.deepEqual(pendingState(t), IDLE);
  });

  it(`refuses the call after ${QUEUE_LIMIT} waiting ones with crossbar.error.max_concurrency_reached, then drains the queue in order`, async () => {
    const callee = await RawPeer.connect(t.wsUrl);
    await callee.register('com.conc.full', { concurrency: 1 });
    const held: Msg[] = [];
    let answering = false;
    callee.listener = (m) => {
      if (m[0] !== M.INVOCATION) return false;
      if (answering) callee.yield(m[1] as number, m[4] as unknown[]);
      else held.push(m);
      return true;
    };
    const caller = await RawPeer.connect(t.wsUrl);
    const requests = Array.from({ length: QUEUE_LIMIT + 2 }, (_, i) => caller.call('com.conc.full', [i]));
    const refused = await caller.answer(requests.at(-1)!);
    assert.equal(refused[0], M.ERROR);
    assert.equal(refused[4], 'crossbar.error.max_concurrency_reached');
    assert.match(String((refused[5] as unknown[])[0]), /concurrency limit/);
    // One call at the callee (across a cluster its INVOCATION may still be on its way), the rest waiting.
    await eventually(() => held.length === 1, 'held.length === 1');
    const state = pendingState(t);
    assert.deepEqual([state.invocations, state.callers, state.callees, state.queued], [1, 1, 1, QUEUE_LIMIT]);
    answering = true;
    callee.yield(held[0]![1] as number, held[0]![4] as unknown[]);
    const order: number[] = [];
    for (const r of requests.slice(0, -1)) order.push(((await caller.answer(r))[3] as number[])[0]!);
    assert.deepEqual(order, Array.from({ length: QUEUE_LIMIT + 1 }, (_, i) => i));
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([callee.goodbye(), caller.goodbye()]);
  });

  it('holds Autobahn|JS callees to their concurrency under load from a wampy caller', async () => {
    const inflight = [0, 0];
    const max = [0, 0];
    const served = [0, 0];
    const callees = await Promise.all([0, 1].map(async (i) => {
      const c = await connectAutobahn(t.wsUrl);
      await c.session.register('com.conc.autobahn', async () => {
        inflight[i]!++;
        max[i] = Math.max(max[i]!, inflight[i]!);
        await new Promise((r) => setTimeout(r, 1));
        inflight[i]!--;
        served[i]!++;
        return i;
      }, { invoke: 'roundrobin', concurrency: 3 });
      return c;
    }));
    const caller = await connectWampy(t.wsUrl);
    await Promise.all(Array.from({ length: 120 }, () => caller.call('com.conc.autobahn')));
    assert.deepEqual(max, [3, 3]);
    assert.equal(served[0]! + served[1]!, 120);
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([caller.disconnect(), ...callees.map((c) => c.close())]);
  });

  it('cancels and times out waiting calls without ever invoking them', async () => {
    const c = await holdingCallee('com.conc.cancel', { concurrency: 1 });
    const caller = await RawPeer.connect(t.wsUrl);
    const busy = caller.call('com.conc.cancel', ['busy']);
    const canceled = caller.call('com.conc.cancel', ['canceled']);
    const timed = caller.call('com.conc.cancel', ['timed'], undefined, { timeout: 50 });
    await eventually(() => pendingState(t).queued === 2, 'pendingState(t).queued === 2');
    caller.send([M.CANCEL, canceled, { mode: 'kill' }]);
    assert.equal((await caller.answer(canceled))[4], 'wamp.error.canceled');
    assert.equal((await caller.answer(timed))[4], 'wamp.error.timeout');
    c.answer();
    assert.deepEqual((await caller.answer(busy))[3], ['busy']);
    assert.equal(c.max, 1);
    assert.equal(c.peer.log.filter((m) => m[0] === M.INVOCATION).length, 1);
    assert.equal(c.peer.log.filter((m) => m[0] === M.INTERRUPT).length, 0);
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([c.peer.goodbye(), caller.goodbye()]);
  });

  it('answers waiting calls with wamp.error.canceled when the last callee leaves or unregisters', async () => {
    for (const how of ['leave', 'unregister']) {
      const callee = await RawPeer.connect(t.wsUrl);
      const reg = await callee.register('com.conc.gone', { concurrency: 1 });
      const caller = await RawPeer.connect(t.wsUrl);
      const inFlight = caller.call('com.conc.gone', [0]);
      const waiting = [1, 2].map((i) => caller.call('com.conc.gone', [i]));
      const inv = await callee.invocation();
      await eventually(() => pendingState(t).queued === 2, 'pendingState(t).queued === 2');
      if (how === 'leave') {
        await callee.goodbye();
        assert.deepEqual((await caller.answer(inFlight)).slice(4), ['wamp.error.canceled', ['callee left before answering']]);
      } else {
        const r = callee.nextId();
        callee.send([M.UNREGISTER, r, reg]);
        for (const w of waiting) {
          assert.deepEqual((await caller.answer(w)).slice(4), ['wamp.error.canceled', ['procedure "com.conc.gone" was unregistered while the call waited']]);
        }
        // The invocation already sent is still the callee's to answer.
        callee.yield(inv[1] as number, ['answered']);
        assert.deepEqual((await caller.answer(inFlight))[3], ['answered']);
        await callee.goodbye();
      }
      if (how === 'leave') {
        // Across a cluster the registry change may arrive just after the in-flight answer.
        for (const w of waiting) assert.equal((await caller.answer(w))[4], 'wamp.error.canceled');
      }
      assert.deepEqual(pendingState(t), IDLE);
      await caller.goodbye();
    }
  });

  it('refuses a progressive call invocation when every callee is busy (progressive calls never wait)', async () => {
    const c = await holdingCallee('com.conc.progressive', { concurrency: 1 });
    const caller = await RawPeer.connect(t.wsUrl);
    caller.call('com.conc.progressive', ['busy']);
    await eventually(() => c.held.length === 1, 'c.held.length === 1');
    const r = caller.call('com.conc.progressive', ['chunk'], undefined, { progress: true });
    assert.equal((await caller.answer(r))[4], 'crossbar.error.max_concurrency_reached');
    await Promise.all([c.peer.goodbye(), caller.goodbye()]);
    assert.deepEqual(pendingState(t), IDLE);
  });
});
