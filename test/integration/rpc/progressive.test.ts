/**
 * Progressive call results (advanced/ap_rpc_progressive_call_results.md) with Autobahn|JS and wampy,
 * and progressive call invocations (ap_10_rpc_progressive_call_invocations.md): wampy streams the
 * CALL chunks (Autobahn|JS cannot send them), a raw callee receives them, since neither stock
 * client can be such a callee (it must also handle INTERRUPT).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import autobahn from 'autobahn';
import { startNode, type TestNode, pendingState } from '../../helpers/node.js';
import { connectAutobahn, connectWampy } from '../../helpers/clients.js';
import { M, type Msg, RawPeer, callMessage } from '../../helpers/raw-rpc.js';

const IDLE = { invocations: 0, callers: 0, callees: 0, queued: 0, remote: 0 };
const N = 1000;

/** Autobahn|JS's call promise is a when.js promise: then(onResult, onError, onProgress). */
type ProgressPromise = { then(ok: (v: unknown) => void, err: (e: unknown) => void, progress: (v: unknown) => void): unknown };

describe('rpc progressive results and invocations', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  it(`delivers ${N} progressive results in order before the final result (Autobahn|JS both sides)`, async () => {
    const callee = await connectAutobahn(t.wsUrl, { serializer: 'msgpack' });
    await callee.session.register('com.prog.count', (args, _kw, details) => {
      assert.equal(typeof details.progress, 'function', 'the callee is told the caller takes progress');
      for (let i = 0; i < (args[0] as number); i++) details.progress!([i]);
      return 'done';
    });
    const caller = await connectAutobahn(t.wsUrl);
    const progress: unknown[] = [];
    let progressAtFinal = -1;
    const final = await new Promise((resolve, reject) => {
      (caller.session.call('com.prog.count', [N], {}, { receive_progress: true }) as unknown as ProgressPromise).then(
        (v) => {
          progressAtFinal = progress.length;
          resolve(v);
        },
        reject,
        (p) => progress.push(p),
      );
    });
    assert.equal(final, 'done');
    assert.equal(progressAtFinal, N);
    assert.deepEqual(progress, Array.from({ length: N }, (_, i) => i));
    await Promise.all([callee.close(), caller.close()]);
    assert.deepEqual(pendingState(t), IDLE);
  });

  it(`delivers ${N} progressive results with args and kwargs in order to a wampy caller`, async () => {
    const callee = await connectAutobahn(t.wsUrl);
    await callee.session.register('com.prog.kw', (_a, _k, details) => {
      for (let i = 0; i < N; i++) details.progress!([i, 'x'], { i });
      return new autobahn.Result(['final'], { total: N });
    });
    const caller = await connectWampy(t.wsUrl, 'cbor');
    const seen: unknown[] = [];
    const r = await caller.call('com.prog.kw', null, {
      progress_callback: ({ argsList, argsDict }) => {
        seen.push([argsList, argsDict]);
      },
    });
    assert.equal(seen.length, N);
    for (let i = 0; i < N; i++) assert.deepEqual(seen[i], [[i, 'x'], { i }]);
    assert.deepEqual(r.argsList, ['final']);
    assert.deepEqual(r.argsDict, { total: N });
    await Promise.all([callee.close(), caller.disconnect()]);
  });

  it('sends progressive results only to a caller that asked for them', async () => {
    const callee = await RawPeer.connect(t.wsUrl);
    const reg = await callee.register('com.prog.unasked');
    const caller = await RawPeer.connect(t.wsUrl);
    const r = caller.call('com.prog.unasked', [1]);
    const inv = await callee.invocation(reg);
    assert.equal((inv[3] as Record<string, unknown>).receive_progress, undefined);
    for (let i = 0; i < 3; i++) callee.yield(inv[1] as number, [i], undefined, { progress: true });
    callee.yield(inv[1] as number, ['final']);
    const m = await caller.answer(r);
    assert.deepEqual(m, [M.RESULT, r, {}, ['final']]);
    assert.equal(caller.log.filter((x) => x[0] === M.RESULT).length, 1);
    await Promise.all([callee.goodbye(), caller.goodbye()]);
  });

  it('streams a progressive call invocation from wampy to one INVOCATION of a raw callee', async () => {
    const callee = await RawPeer.connect(t.wsUrl);
    const reg = await callee.register('com.prog.upload');
    const chunks: Msg[] = [];
    callee.listener = (m) => {
      if (m[0] !== M.INVOCATION) return false;
      chunks.push(m);
      const details = m[3] as Record<string, unknown>;
      if (!details.progress) callee.yield(m[1] as number, [chunks.map((c) => (c[4] as unknown[])[0]).join('')]);
      return true;
    };
    const caller = await connectWampy(t.wsUrl);
    const { result, sendData } = caller.progressiveCall('com.prog.upload', ['a']);
    sendData(['b']);
    sendData(['c'], { progress: true });
    sendData(['d'], { progress: false });
    const r = await result;
    assert.deepEqual(r.argsList, ['abcd']);
    assert.equal(chunks.length, 4);
    assert.equal(new Set(chunks.map((c) => c[1])).size, 1, 'every chunk goes to the same INVOCATION request');
    assert.deepEqual(chunks.map((c) => (c[3] as Record<string, unknown>).progress ?? false), [true, true, true, false]);
    assert.ok(chunks.every((c) => c[2] === reg));
    await Promise.all([callee.goodbye(), caller.disconnect()]);
    assert.deepEqual(pendingState(t), IDLE);
  });

  it('combines progressive invocations with progressive results (a two-way stream), options frozen from the first CALL', async () => {
    const callee = await RawPeer.connect(t.wsUrl);
    await callee.register('com.prog.duplex');
    const details: Record<string, unknown>[] = [];
    callee.listener = (m) => {
      if (m[0] !== M.INVOCATION) return false;
      details.push(m[3] as Record<string, unknown>);
      const x = (m[4] as number[])[0]!;
      callee.yield(m[1] as number, [x * 10], undefined, details.at(-1)!.progress ? { progress: true } : {});
      return true;
    };
    const caller = await RawPeer.connect(t.wsUrl);
    const r = caller.nextId();
    caller.send(callMessage(r, 'com.prog.duplex', [1], undefined, { progress: true, receive_progress: true, disclose_me: true }));
    for (let i = 2; i < 5; i++) caller.send(callMessage(r, 'com.prog.duplex', [i], undefined, { progress: true }));
    caller.send(callMessage(r, 'com.prog.duplex', [5]));
    const answers: Msg[] = [];
    for (let i = 0; i < 5; i++) answers.push(await caller.answer(r));
    assert.deepEqual(answers.map((a) => [(a[2] as Record<string, unknown>).progress ?? false, (a[3] as number[])[0]]), [
      [true, 10], [true, 20], [true, 30], [true, 40], [false, 50],
    ]);
    // Options of the first CALL hold for every chunk: receive_progress and disclose_me.
    assert.ok(details.every((d) => d.receive_progress === true && d.caller === caller.session), JSON.stringify(details));
    await Promise.all([callee.goodbye(), caller.goodbye()]);
    assert.deepEqual(pendingState(t), IDLE);
  });

  it('refuses a progressive call to a callee without progressive_call_invocations with wamp.error.feature_not_supported', async () => {
    const callee = await connectAutobahn(t.wsUrl);
    await callee.session.register('com.prog.plain', () => 'plain');
    const caller = await connectWampy(t.wsUrl);
    const { result } = caller.progressiveCall('com.prog.plain', ['a']);
    await assert.rejects(result, (e: { errorUri: string }) => e.errorUri === 'wamp.error.feature_not_supported');
    assert.deepEqual((await caller.call('com.prog.plain')).argsList, ['plain']);
    await Promise.all([callee.close(), caller.disconnect()]);
    assert.deepEqual(pendingState(t), IDLE);
  });

  it('keeps every chunk of a progressive call on the callee the invoke policy chose first', async () => {
    const a = await RawPeer.connect(t.wsUrl);
    const b = await RawPeer.connect(t.wsUrl);
    await a.register('com.prog.shared', { invoke: 'roundrobin' });
    await b.register('com.prog.shared', { invoke: 'roundrobin' });
    const caller = await RawPeer.connect(t.wsUrl);
    const r = caller.nextId();
    caller.send(callMessage(r, 'com.prog.shared', [0], undefined, { progress: true }));
    const first = await a.invocation();
    // A plain call in between goes to the other callee, the chunks stay with the first.
    const plain = caller.call('com.prog.shared', ['plain']);
    const other = await b.invocation();
    b.yield(other[1] as number, ['b']);
    assert.deepEqual((await caller.answer(plain))[3], ['b']);
    caller.send(callMessage(r, 'com.prog.shared', [1], undefined, { progress: true }));
    caller.send(callMessage(r, 'com.prog.shared', [2]));
    const c1 = await a.invocation();
    const c2 = await a.invocation();
    assert.equal(c1[1], first[1]);
    assert.equal(c2[1], first[1]);
    a.yield(first[1] as number, ['a']);
    assert.deepEqual((await caller.answer(r))[3], ['a']);
    assert.equal(b.log.filter((m) => m[0] === M.INVOCATION).length, 1);
    await Promise.all([a.goodbye(), b.goodbye(), caller.goodbye()]);
  });

  it('drops the chunks still coming after the callee ended a progressive call early', async () => {
    const callee = await RawPeer.connect(t.wsUrl);
    await callee.register('com.prog.rejected');
    const caller = await RawPeer.connect(t.wsUrl);
    const r = caller.nextId();
    caller.send(callMessage(r, 'com.prog.rejected', ['chunk 0'], undefined, { progress: true }));
    const inv = await callee.invocation();
    callee.error(inv[1] as number, 'com.example.error.quota_exceeded', ['too big']);
    assert.deepEqual((await caller.answer(r)).slice(4), ['com.example.error.quota_exceeded', ['too big']]);
    // The caller had more chunks on the way: they are not new calls.
    caller.send(callMessage(r, 'com.prog.rejected', ['chunk 1'], undefined, { progress: true }));
    caller.send(callMessage(r, 'com.prog.rejected', ['chunk 2']));
    const next = caller.call('com.prog.rejected', ['a new call']);
    const inv2 = await callee.invocation();
    assert.deepEqual(inv2[4], ['a new call']);
    callee.yield(inv2[1] as number, ['ok']);
    assert.deepEqual((await caller.answer(next))[3], ['ok']);
    assert.equal(callee.log.filter((m) => m[0] === M.INVOCATION).length, 2);
    assert.equal(caller.log.filter((m) => m[0] === M.ERROR || m[0] === M.RESULT).length, 2);
    assert.deepEqual(pendingState(t), IDLE);
    await Promise.all([callee.goodbye(), caller.goodbye()]);
  });

  it('interrupts the callee (killnowait) when the caller of a progressive call leaves mid-stream', async () => {
    const callee = await RawPeer.connect(t.wsUrl);
    await callee.register('com.prog.abandoned');
    const caller = await RawPeer.connect(t.wsUrl);
    const r = caller.nextId();
    caller.send(callMessage(r, 'com.prog.abandoned', [0], undefined, { progress: true }));
    const inv = await callee.invocation();
    await caller.kill();
    const interrupt = await callee.next((m) => m[0] === M.INTERRUPT);
    assert.equal(interrupt[1], inv[1]);
    assert.equal((interrupt[2] as Record<string, unknown>).mode, 'killnowait');
    assert.deepEqual(pendingState(t), IDLE);
    await callee.goodbye();
  });

  it('aborts a session that reuses the request ID of a call in flight that is not progressive', async () => {
    const callee = await RawPeer.connect(t.wsUrl);
    await callee.register('com.prog.dup');
    const caller = await RawPeer.connect(t.wsUrl);
    const r = caller.call('com.prog.dup', [1]);
    const inv = await callee.invocation();
    caller.send(callMessage(r, 'com.prog.dup', [2]));
    const abort = await caller.next((m) => m[0] === M.ABORT);
    assert.equal(abort[2], 'wamp.error.protocol_violation');
    await caller.closed;
    // The callee is told the call is off, and nothing is left pending.
    const interrupt = await callee.next((m) => m[0] === M.INTERRUPT);
    assert.equal(interrupt[1], inv[1]);
    assert.deepEqual(pendingState(t), IDLE);
    await callee.goodbye();
  });
});
