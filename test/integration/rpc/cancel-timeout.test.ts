/**
 * Call canceling (advanced/ap_rpc_call_canceling.md) in modes skip, kill and killnowait, and
 * dealer-run call timeouts (ap_11_rpc_call_timeout.md). Neither Autobahn|JS nor wampy can be an
 * interruptible callee (neither announces callee call_canceling nor handles INTERRUPT), so the
 * callee that supports canceling is a raw peer; callers are wampy and Autobahn|JS.
 *
 * "No INTERRUPT was sent" is shown without waiting: the router sends an INTERRUPT while it handles
 * the CANCEL, so once a later message sent after the CANCEL reaches the callee, an INTERRUPT
 * would already be in its log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type autobahn from 'autobahn';
import type { Wampy } from 'wampy';
import { startNode, type TestNode, pendingState } from '../../helpers/node.js';
import { connectAutobahn, connectWampy } from '../../helpers/clients.js';
import { M, RawPeer } from '../../helpers/raw-rpc.js';
import { eventually } from '../../helpers/eventually.js';

const IDLE = { invocations: 0, callers: 0, callees: 0, queued: 0, remote: 0 };

interface WampyFailure { errorUri: string; argsList?: unknown[] }

describe('rpc call canceling and timeouts', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  /** A raw callee of `procedure` that supports call canceling and answers only when told. */
  async function interruptibleCallee(procedure: string): Promise<RawPeer> {
    const callee = await RawPeer.connect(t.wsUrl);
    await callee.register(procedure);
    return callee;
  }

  /** Starts a wampy call and returns its promise (never unhandled) and request ID. */
  function wampyCall(caller: Wampy, procedure: string, options = {}): { settled: Promise<unknown>; request: number; done: () => boolean } {
    let done = false;
    const p = caller.call(procedure, ['work'], options);
    const settled = p.then((r) => r, (e: unknown) => e).finally(() => {
      done = true;
    });
    return { settled, request: caller.getOpStatus().reqId, done: () => done };
  }

  /** Makes the callee's log current: a message the router sends after the CANCEL reaches it. */
  async function syncCallee(callee: RawPeer, caller: Wampy, procedure: string): Promise<void> {
    const pending = caller.call(procedure, ['sync']);
    const inv = await callee.next((m) => m[0] === M.INVOCATION && (m[4] as unknown[])[0] === 'sync');
    callee.yield(inv[1] as number, ['synced']);
    await pending;
  }

  it('skip: the caller gets wamp.error.canceled at once, the callee no INTERRUPT, its late result is dropped', async () => {
    const callee = await interruptibleCallee('com.cancel.skip');
    const caller = await connectWampy(t.wsUrl);
    const call = wampyCall(caller, 'com.cancel.skip');
    const inv = await callee.invocation();
    caller.cancel(call.request, { mode: 'skip' });
    const e = await call.settled as WampyFailure;
    assert.equal(e.errorUri, 'wamp.error.canceled');
    callee.yield(inv[1] as number, ['too late']);
    await syncCallee(callee, caller, 'com.cancel.skip');
    assert.equal(callee.log.filter((m) => m[0] === M.INTERRUPT).length, 0);
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([callee.goodbye(), caller.disconnect()]);
  });

  it('killnowait: the caller gets wamp.error.canceled at once and the callee INTERRUPT {mode: killnowait}', async () => {
    const callee = await interruptibleCallee('com.cancel.killnowait');
    const caller = await connectWampy(t.wsUrl);
    const call = wampyCall(caller, 'com.cancel.killnowait');
    const inv = await callee.invocation();
    caller.cancel(call.request, { mode: 'killnowait' });
    assert.equal((await call.settled as WampyFailure).errorUri, 'wamp.error.canceled');
    const interrupt = await callee.next((m) => m[0] === M.INTERRUPT);
    assert.equal(interrupt[1], inv[1]);
    assert.equal((interrupt[2] as Record<string, unknown>).mode, 'killnowait');
    // The callee's answer to the INTERRUPT is discarded.
    callee.error(inv[1] as number, 'wamp.error.canceled');
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([callee.goodbye(), caller.disconnect()]);
  });

  it('kill: the callee gets INTERRUPT {mode: kill} and its ERROR, args included, is what the caller gets', async () => {
    const callee = await interruptibleCallee('com.cancel.kill');
    const caller = await connectWampy(t.wsUrl);
    const call = wampyCall(caller, 'com.cancel.kill');
    const inv = await callee.invocation();
    caller.cancel(call.request, { mode: 'kill' });
    const interrupt = await callee.next((m) => m[0] === M.INTERRUPT);
    assert.equal(interrupt[1], inv[1]);
    assert.equal((interrupt[2] as Record<string, unknown>).mode, 'kill');
    // Nothing reached the caller yet: a round trip after the CANCEL finds the call still open.
    await syncCallee(callee, caller, 'com.cancel.kill');
    assert.equal(call.done(), false);
    assert.equal(pendingState(t).invocations, 1);
    callee.error(inv[1] as number, 'wamp.error.canceled', ['stopped at 40%']);
    const e = await call.settled as WampyFailure;
    assert.equal(e.errorUri, 'wamp.error.canceled');
    assert.deepEqual(e.argsList, ['stopped at 40%']);
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([callee.goodbye(), caller.disconnect()]);
  });

  it('kill: a callee that finishes before it handles the INTERRUPT sends the caller its RESULT', async () => {
    const callee = await interruptibleCallee('com.cancel.kill_result');
    const caller = await connectAutobahn(t.wsUrl);
    const p = caller.session.call('com.cancel.kill_result', ['x']) as Promise<unknown> & { cancel(o: object): void };
    const inv = await callee.invocation();
    p.cancel({ mode: 'kill' });
    await callee.next((m) => m[0] === M.INTERRUPT);
    callee.yield(inv[1] as number, ['finished anyway']);
    assert.equal(await p, 'finished anyway');
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([callee.goodbye(), caller.close()]);
  });

  it('kill from Autobahn|JS: its call rejects with the callee\'s error', async () => {
    const callee = await interruptibleCallee('com.cancel.ab_kill');
    const caller = await connectAutobahn(t.wsUrl);
    const p = caller.session.call('com.cancel.ab_kill') as Promise<unknown> & { cancel(o: object): void };
    const inv = await callee.invocation();
    p.cancel({ mode: 'kill' });
    await callee.next((m) => m[0] === M.INTERRUPT);
    callee.error(inv[1] as number, 'wamp.error.canceled', [], { at: 'step 3' });
    await assert.rejects(p, (e: autobahn.Error) => e.error === 'wamp.error.canceled' && (e.kwargs as { at: string }).at === 'step 3');
    await Promise.all([callee.goodbye(), caller.close()]);
  });

  it('without a mode, cancels as killnowait', async () => {
    const callee = await interruptibleCallee('com.cancel.default');
    const caller = await connectWampy(t.wsUrl);
    const call = wampyCall(caller, 'com.cancel.default');
    await callee.invocation();
    caller.cancel(call.request);
    assert.equal((await call.settled as WampyFailure).errorUri, 'wamp.error.canceled');
    assert.equal(((await callee.next((m) => m[0] === M.INTERRUPT))[2] as Record<string, unknown>).mode, 'killnowait');
    await Promise.all([callee.goodbye(), caller.disconnect()]);
  });

  it('treats kill and killnowait as skip when the callee does not support canceling (Autobahn|JS callee)', async () => {
    const callee = await connectAutobahn(t.wsUrl);
    const release: (() => void)[] = [];
    await callee.session.register('com.cancel.plain', (args) => {
      if (args[0] === 'sync') return 'synced';
      return new Promise((resolve) => release.push(() => resolve('late')));
    });
    const caller = await connectWampy(t.wsUrl);
    for (const mode of ['kill', 'killnowait'] as const) {
      const call = wampyCall(caller, 'com.cancel.plain');
      await eventually(() => release.length > 0, 'release.length > 0');
      caller.cancel(call.request, { mode });
      assert.equal((await call.settled as WampyFailure).errorUri, 'wamp.error.canceled');
      release.shift()!();
    }
    // An INTERRUPT would have made Autobahn|JS drop its connection; it still serves calls.
    assert.deepEqual((await caller.call('com.cancel.plain', ['sync'])).argsList, ['synced']);
    assert.equal(callee.connection.isOpen, true);
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([callee.close(), caller.disconnect()]);
  });

  it('discards the callee\'s late answer after skip and killnowait (raw caller sees only its own answers)', async () => {
    const callee = await interruptibleCallee('com.cancel.late');
    const caller = await RawPeer.connect(t.wsUrl);
    for (const mode of ['skip', 'killnowait']) {
      const r = caller.call('com.cancel.late');
      const inv = await callee.invocation();
      caller.send([M.CANCEL, r, { mode }]);
      const e = await caller.answer(r);
      assert.deepEqual([e[0], e[1], e[2], e[4]], [M.ERROR, M.CALL, r, 'wamp.error.canceled']);
      // killnowait interrupts the callee (across a cluster the INTERRUPT may arrive after the
      // caller's ERROR): it answers late all the same, and that answer is dropped.
      if (mode === 'killnowait') await callee.next((m) => m[0] === M.INTERRUPT && m[1] === inv[1]);
      callee.yield(inv[1] as number, ['late']);
      const r2 = caller.call('com.cancel.late');
      const inv2 = await callee.invocation();
      callee.yield(inv2[1] as number, ['second']);
      assert.deepEqual(await caller.answer(r2), [M.RESULT, r2, {}, ['second']]);
      assert.equal(caller.log.filter((m) => m[0] === M.RESULT && m[1] === r).length, 0);
    }
    // CANCEL of a call already answered is ignored.
    const r3 = caller.call('com.cancel.late');
    callee.yield((await callee.invocation())[1] as number, ['done']);
    await caller.answer(r3);
    caller.send([M.CANCEL, r3, { mode: 'kill' }]);
    const r4 = caller.call('com.cancel.late');
    callee.yield((await callee.invocation())[1] as number, ['after']);
    assert.deepEqual(await caller.next(), [M.RESULT, r4, {}, ['after']]);
    assert.equal(callee.log.filter((m) => m[0] === M.INTERRUPT).length, 1, 'only the killnowait cancel interrupted');
    await Promise.all([callee.goodbye(), caller.goodbye()]);
  });

  describe('timeout', () => {
    it('answers wamp.error.timeout after a 500 ms timeout, never before, and interrupts the callee (killnowait)', async () => {
      const callee = await interruptibleCallee('com.timeout.slow');
      const caller = await connectWampy(t.wsUrl);
      const start = performance.now();
      const call = wampyCall(caller, 'com.timeout.slow', { timeout: 500 });
      const inv = await callee.invocation();
      const e = await call.settled as WampyFailure;
      const elapsed = performance.now() - start;
      assert.equal(e.errorUri, 'wamp.error.timeout');
      // Never early (the loop clock that runs timers has millisecond granularity, hence 499); how
      // soon after is the timer's business, tested on a fake clock in test/unit/router/dealer.test.ts.
      assert.ok(elapsed >= 499, `timeout after ${elapsed.toFixed(1)} ms`);
      const interrupt = await callee.next((m) => m[0] === M.INTERRUPT);
      assert.equal(interrupt[1], inv[1]);
      assert.deepEqual(interrupt[2], { mode: 'killnowait', reason: 'wamp.error.timeout' });
      callee.yield(inv[1] as number, ['late']);
      assert.deepEqual(pendingState(t), IDLE);
      await Promise.all([callee.goodbye(), caller.disconnect()]);
    });

    it('times out a callee without call canceling (skip) after 300 ms, from Autobahn|JS', async () => {
      const callee = await connectAutobahn(t.wsUrl);
      let release: (() => void) | undefined;
      await callee.session.register('com.timeout.plain', (args) => args[0] === 'quick' ? 'quick' : new Promise((r) => {
        release = () => r('late');
      }));
      const caller = await connectAutobahn(t.wsUrl);
      const start = performance.now();
      await assert.rejects(caller.session.call('com.timeout.plain', [], {}, { timeout: 300 }), (e: autobahn.Error) => e.error === 'wamp.error.timeout');
      const elapsed = performance.now() - start;
      assert.ok(elapsed >= 299, `timeout after ${elapsed.toFixed(1)} ms`);
      release!();
      assert.equal(await caller.session.call('com.timeout.plain', ['quick']), 'quick');
      assert.deepEqual(pendingState(t), IDLE);
      await Promise.all([callee.close(), caller.close()]);
    });

    it('leaves a call that is answered in time alone, and clears its timer', async () => {
      const callee = await connectWampy(t.wsUrl);
      await callee.register('com.timeout.fast', () => ({ argsList: ['fast'] }));
      const caller = await connectWampy(t.wsUrl);
      const answers = await Promise.all(Array.from({ length: 50 }, () => caller.call('com.timeout.fast', null, { timeout: 10_000 })));
      assert.ok(answers.every((a) => a.argsList?.[0] === 'fast'));
      assert.deepEqual(pendingState(t), IDLE);
      await Promise.all([callee.disconnect(), caller.disconnect()]);
    });
  });
});
