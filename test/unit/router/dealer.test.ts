/**
 * The dealer over in-process peers (no sockets): routed calls, shared registrations and their
 * invoke policies, concurrency and its queue, cancel modes, the call timeout on a fake clock,
 * callers and callees that leave, revocation, and invocations from another node for a callee
 * whose REGISTER is still in progress (they wait for it, on a promise, not a poll).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { ClusterCallee, RegisterOutcome, RemoteInvocation, ReplyPort } from '../../../src/backplane/backplane.js';
import { LocalBackplane } from '../../../src/backplane/local/local-backplane.js';
import { decodeInbox, FrameKind } from '../../../src/backplane/nats/frame.js';
import { serializerById } from '../../../src/serializers/index.js';
import { MessageType as M } from '../../../src/wamp/codes.js';
import { ErrorUri } from '../../../src/wamp/errors.js';
import type { Dict, InvokePolicy } from '../../../src/wamp/messages.js';
import type { MatchPolicy } from '../../../src/wamp/uri.js';
import { type LocalPeer, type LocalRouter, localRouter, settle } from '../../helpers/local-router.js';

const IDLE = { invocations: 0, callers: 0, callees: 0, queued: 0, remote: 0 };

describe('dealer', () => {
  let r: LocalRouter;
  beforeEach(async () => {
    r = await localRouter();
  });
  afterEach(() => r.stop());
  const dealer = () => r.router.realm('realm1')!.dealer;

  /** The callee's next INVOCATION: [request, registration, details, args, kwargs]. */
  const invocation = async (callee: LocalPeer) => (await callee.nextOf(M.INVOCATION)).slice(1);

  it('routes CALL → INVOCATION → YIELD → RESULT with arguments unchanged', async () => {
    const callee = await r.peer();
    const caller = await r.peer();
    const reg = await callee.register('com.math.add');
    const req = caller.call('com.math.add', [2, 3], {}, { round: true });
    const [inv, regId, details, args, kwargs] = await invocation(callee);
    assert.equal(regId, reg);
    assert.deepEqual([details, args, kwargs], [{}, [2, 3], { round: true }]);
    callee.send(M.YIELD, inv, {}, [5], { exact: true });
    assert.deepEqual(await caller.nextOf(M.RESULT, req), [M.RESULT, req, {}, [5], { exact: true }]);
    assert.deepEqual(dealer().pendingState(), IDLE);
  });

  it('answers no_such_procedure, procedure_already_exists and invalid_uri', async () => {
    const a = await r.peer();
    const b = await r.peer();
    const req = a.call('com.nobody');
    assert.equal((await a.nextOf(M.ERROR, req))[4], ErrorUri.noSuchProcedure);
    await a.register('com.once');
    await assert.rejects(b.register('com.once'), new RegExp(ErrorUri.procedureAlreadyExists));
    await assert.rejects(b.register('wamp.session.get'), new RegExp(ErrorUri.invalidUri));
  });

  for (const [invoke, expected] of [['roundrobin', ['a', 'b', 'a', 'b']], ['first', ['a', 'a', 'a', 'a']], ['last', ['b', 'b', 'b', 'b']]] as const) {
    it(`picks callees of a shared registration by invoke "${invoke}"`, async () => {
      const callees = { a: await r.peer(), b: await r.peer() };
      for (const c of Object.values(callees)) await c.register('com.shared', { invoke });
      const caller = await r.peer();
      const picked: string[] = [];
      for (let i = 0; i < 4; i++) {
        const req = caller.call('com.shared');
        await settle();
        const [name, peer] = Object.entries(callees).find(([, p]) => p.unread.some((m) => m[0] === M.INVOCATION))!;
        picked.push(name);
        peer.send(M.YIELD, (await invocation(peer))[0], {});
        await caller.nextOf(M.RESULT, req);
      }
      assert.deepEqual(picked, expected);
    });
  }

  it('queues calls beyond a callee\'s concurrency and sends them, in order, as it answers', async () => {
    const callee = await r.peer();
    await callee.register('com.slow', { concurrency: 1 });
    const caller = await r.peer();
    const reqs = [1, 2, 3].map((n) => caller.call('com.slow', [n]));
    const first = await invocation(callee);
    await settle();
    assert.equal(callee.unread.filter((m) => m[0] === M.INVOCATION).length, 0, 'one invocation at a time');
    assert.equal(dealer().pendingState().queued, 2);
    const seen = [first[3]];
    callee.send(M.YIELD, first[0], {});
    for (let i = 0; i < 2; i++) {
      const inv = await invocation(callee);
      seen.push(inv[3]);
      callee.send(M.YIELD, inv[0], {});
    }
    for (const req of reqs) await caller.nextOf(M.RESULT, req);
    assert.deepEqual(seen, [[1], [2], [3]]);
    assert.deepEqual(dealer().pendingState(), IDLE);
  });

  it('cancels: skip answers without INTERRUPT, killnowait answers and interrupts, kill waits for the callee', async () => {
    const callee = await r.peer();
    await callee.register('com.long');
    const caller = await r.peer();
    for (const mode of ['skip', 'killnowait', 'kill'] as const) {
      const req = caller.call('com.long');
      const [inv] = await invocation(callee);
      caller.send(M.CANCEL, req, { mode });
      if (mode === 'kill') {
        assert.deepEqual(await callee.nextOf(M.INTERRUPT, inv), [M.INTERRUPT, inv, { mode: 'kill', reason: ErrorUri.canceled }]);
        await settle();
        assert.equal(caller.unread.length, 0, 'kill: no answer before the callee\'s');
        callee.send(M.ERROR, M.INVOCATION, inv, {}, ErrorUri.canceled);
        assert.equal((await caller.nextOf(M.ERROR, req))[4], ErrorUri.canceled);
        continue;
      }
      assert.equal((await caller.nextOf(M.ERROR, req))[4], ErrorUri.canceled);
      await settle();
      const interrupts = callee.unread.filter((m) => m[0] === M.INTERRUPT && m[1] === inv);
      assert.equal(interrupts.length, mode === 'skip' ? 0 : 1, mode);
      callee.send(M.YIELD, inv, {}, ['late']); // dropped
    }
    await settle();
    assert.equal(caller.unread.length, 0, 'late answers are dropped');
    assert.deepEqual(dealer().pendingState(), IDLE);
  });

  it('fails a call whose callee leaves, and interrupts the callee of a caller that leaves', async () => {
    const callee = await r.peer();
    await callee.register('com.x');
    const caller = await r.peer();
    const req = caller.call('com.x');
    await invocation(callee);
    callee.close();
    const e = await caller.nextOf(M.ERROR, req);
    assert.deepEqual([e[4], e[5]], [ErrorUri.canceled, ['callee left before answering']]);

    const callee2 = await r.peer();
    await callee2.register('com.y');
    const caller2 = await r.peer();
    caller2.call('com.y');
    const [inv] = await invocation(callee2);
    caller2.close();
    assert.deepEqual(await callee2.nextOf(M.INTERRUPT, inv), [M.INTERRUPT, inv, { mode: 'killnowait', reason: ErrorUri.canceled }]);
    await settle();
    assert.deepEqual(dealer().pendingState(), IDLE);
    assert.equal(dealer().sessionTables, 2, 'only the live sessions keep tables');
  });

  it('tells a callee of a revoked registration, and ends the calls that waited for it', async () => {
    const callee = await r.peer();
    const regId = await callee.register('com.revoked', { concurrency: 1 });
    const caller = await r.peer();
    caller.call('com.revoked');
    await invocation(callee);
    const waiting = caller.call('com.revoked');
    await settle();
    dealer().revoke(dealer().registration(regId)!, 'removed by the operator');
    assert.deepEqual(await callee.nextOf(M.UNREGISTERED, 0), [M.UNREGISTERED, 0, { registration: regId, reason: 'removed by the operator' }]);
    assert.equal((await caller.nextOf(M.ERROR, waiting))[4], ErrorUri.canceled);
    assert.equal(dealer().registration(regId), undefined);
  });

  it('passes progressive results to a caller that asked for them', async () => {
    const callee = await r.peer();
    await callee.register('com.stream');
    const caller = await r.peer();
    const req = caller.call('com.stream', [], { receive_progress: true });
    const [inv, , details] = await invocation(callee);
    assert.deepEqual(details, { receive_progress: true });
    callee.send(M.YIELD, inv, { progress: true }, [1]);
    callee.send(M.YIELD, inv, {}, [2]);
    assert.deepEqual(await caller.nextOf(M.RESULT, req), [M.RESULT, req, { progress: true }, [1]]);
    assert.deepEqual(await caller.nextOf(M.RESULT, req), [M.RESULT, req, {}, [2]]);
  });

  describe('call timeout, on a fake clock', () => {
    afterEach(() => mock.timers.reset());

    it('answers wamp.error.timeout at the timeout, not before, and interrupts the callee', async () => {
      const callee = await r.peer();
      await callee.register('com.never');
      const caller = await r.peer();
      mock.timers.enable({ apis: ['setTimeout'] });
      const req = caller.call('com.never', [], { timeout: 500 });
      const [inv] = await invocation(callee);
      mock.timers.tick(499);
      await settle();
      assert.equal(caller.unread.length, 0, 'nothing at 499 ms');
      mock.timers.tick(1);
      const e = await caller.nextOf(M.ERROR, req);
      assert.deepEqual([e[4], e[5]], [ErrorUri.timeout, ['call timed out after 500 ms']]);
      assert.deepEqual(await callee.nextOf(M.INTERRUPT, inv), [M.INTERRUPT, inv, { mode: 'killnowait', reason: ErrorUri.timeout }]);
      assert.deepEqual(dealer().pendingState(), IDLE);
    });
  });
});

/** A backplane whose registry answers a REGISTER only when the test says so. */
class GatedBackplane extends LocalBackplane {
  private opened: (() => void) | undefined;
  private gate: Promise<void> | undefined;

  hold(): void {
    this.gate = new Promise((r) => (this.opened = r));
  }

  open(): void {
    this.opened?.();
    this.gate = undefined;
  }

  override async register(realm: string, uri: string, match: MatchPolicy, invoke: InvokePolicy, callee: ClusterCallee, force: boolean): Promise<RegisterOutcome> {
    await this.gate;
    return super.register(realm, uri, match, invoke, callee, force);
  }
}

describe('dealer: an invocation from another node for a callee still registering', () => {
  let r: LocalRouter;
  let bp: GatedBackplane;
  beforeEach(async () => {
    bp = new GatedBackplane();
    r = await localRouter(undefined, {}, bp);
  });
  afterEach(async () => {
    mock.timers.reset();
    await r.stop();
  });

  function port(): ReplyPort & { got: unknown[] } {
    const got: unknown[] = [];
    return {
      got,
      progress: () => undefined,
      result: (answer) => void got.push(['result', ...(answer.args ?? [])]),
      error: (uri) => void got.push(['error', uri]),
      reject: (why) => void got.push(['reject', why]),
    };
  }
  const inv = (callee: number, regId: number): RemoteInvocation => ({ realm: 'realm1', procedure: 'com.joining', regId, callee, details: {}, args: [7], kwargs: undefined });

  it('waits for the REGISTER, then is invoked after REGISTERED', async () => {
    const callee = await r.peer();
    bp.hold();
    const request = callee.nextRequest();
    callee.send(M.REGISTER, request, {}, 'com.joining');
    await settle();
    const dealer = r.router.realm('realm1')!.dealer;
    const answers = port();
    // The id is stable (a hash of realm, match, URI): the other node knows it from the registry.
    const { stableId } = await import('../../../src/backplane/stable-id.js');
    dealer.remoteInvocation(inv(callee.session, stableId('realm1', 'exact', 'com.joining')), answers);
    await settle();
    assert.equal(callee.log.length, 1, 'only WELCOME so far: nothing overtakes REGISTERED');
    bp.open();
    const registered = await callee.nextOf(M.REGISTERED, request);
    const invoked = await callee.nextOf(M.INVOCATION);
    assert.ok(callee.log.indexOf(registered) < callee.log.indexOf(invoked));
    assert.deepEqual(invoked[4], [7]);
    callee.send(M.YIELD, invoked[1], {}, ['done']);
    await settle();
    assert.deepEqual(answers.got, [['result', 'done']]);
  });

  it('fails an invocation whose bytes from another node do not decode for the callee, and only that call', async () => {
    const callee = await r.peer();
    const request = callee.nextRequest();
    callee.send(M.REGISTER, request, {}, 'com.joining');
    const regId = (await callee.nextOf(M.REGISTERED, request))[2] as number;
    const dealer = r.router.realm('realm1')!.dealer;
    // JSON bytes that are not JSON, for a MessagePack callee: read only when its INVOCATION is encoded.
    const frame = decodeInbox(serializerById('msgpack')!.encode([2, {
      o: 'n2', c: 1, r: 'realm1', u: 'com.joining', g: regId, cs: callee.session, d: {}, ps: 'json', pc: 1,
    }, Buffer.from('[1, nope')]));
    assert.ok(frame.kind === FrameKind.invoke);
    const bad = port();
    dealer.remoteInvocation(frame.inv, bad);
    await settle();
    assert.deepEqual(bad.got, [['error', ErrorUri.invalidArgument]]);
    assert.equal(callee.log.filter((m) => m[0] === M.INVOCATION).length, 0, 'the callee never heard of it');
    assert.deepEqual(dealer.pendingState(), IDLE);
    const good = port();
    dealer.remoteInvocation(inv(callee.session, regId), good);
    const invoked = await callee.nextOf(M.INVOCATION);
    callee.send(M.YIELD, invoked[1], {}, ['done']);
    await settle();
    assert.deepEqual(good.got, [['result', 'done']]);
  });

  it('gives up after 1 s, on a fake clock, with "gone" (safe to reroute)', async () => {
    const callee = await r.peer();
    bp.hold();
    callee.send(M.REGISTER, callee.nextRequest(), {}, 'com.joining');
    await settle();
    mock.timers.enable({ apis: ['setTimeout'] });
    const answers = port();
    r.router.realm('realm1')!.dealer.remoteInvocation(inv(callee.session, 1), answers);
    mock.timers.tick(999);
    await settle();
    assert.deepEqual(answers.got, []);
    mock.timers.tick(1);
    await settle();
    assert.deepEqual(answers.got, [['reject', 'gone']]);
    bp.open();
  });

  it('stops waiting at once when the caller cancels', async () => {
    const callee = await r.peer();
    bp.hold();
    callee.send(M.REGISTER, callee.nextRequest(), {}, 'com.joining');
    await settle();
    const answers = port();
    const handle = r.router.realm('realm1')!.dealer.remoteInvocation(inv(callee.session, 1), answers);
    handle.cancel('killnowait');
    await settle();
    assert.deepEqual(answers.got, [['reject', 'gone']]);
    bp.open();
  });

  it('is refused as gone at once when the callee is neither registered nor registering', async () => {
    const callee = await r.peer();
    const answers = port();
    r.router.realm('realm1')!.dealer.remoteInvocation(inv(callee.session, 1), answers);
    assert.deepEqual(answers.got, [['reject', 'gone']]);
  });
});

/**
 * A backplane whose mirror hears of a REGISTER only when the test lets it: as on a node that has
 * not yet heard of another node's REGISTER, a CALL meets no registration and the dealer asks the
 * registry (`refresh`), which answers once the test calls `catchUp`.
 */
class LaggingMirrorBackplane extends LocalBackplane {
  refreshes = 0;
  private caughtUp: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;

  lag(): void {
    this.caughtUp = new Promise((r) => (this.release = r));
  }

  catchUp(): void {
    this.release?.();
  }

  override async register(realm: string, uri: string, match: MatchPolicy, invoke: InvokePolicy, callee: ClusterCallee, force: boolean): Promise<RegisterOutcome> {
    await this.caughtUp;
    return super.register(realm, uri, match, invoke, callee, force);
  }

  override async refresh(): Promise<void> {
    this.refreshes++;
    await this.caughtUp;
    await settle(); // after the REGISTER's answer, as a remote callee is ready when the registry has it
  }
}

describe('dealer: a call while this node\'s mirror lags the registry', () => {
  let r: LocalRouter;
  let bp: LaggingMirrorBackplane;
  beforeEach(async () => {
    bp = new LaggingMirrorBackplane();
    r = await localRouter(undefined, {}, bp);
  });
  afterEach(() => r.stop());

  /** Sends the CALLs of one progressive call invocation under one request. */
  function stream(caller: LocalPeer, procedure: string, chunks: string[]): number {
    const request = caller.nextRequest();
    chunks.forEach((c, i) => caller.send(M.CALL, request, i < chunks.length - 1 ? { progress: true } : {}, procedure, [c]));
    return request;
  }

  it('holds the chunks of a progressive call behind its first CALL and streams them, in order, to one INVOCATION', async () => {
    const callee = await r.peer();
    const caller = await r.peer();
    bp.lag();
    callee.send(M.REGISTER, callee.nextRequest(), {}, 'com.upload');
    const request = stream(caller, 'com.upload', ['a', 'b', 'c', 'd']);
    await settle();
    assert.equal(bp.refreshes, 1, 'one lookup for the call, not one per chunk');
    bp.catchUp();
    const invs = [];
    for (let i = 0; i < 4; i++) invs.push(await callee.nextOf(M.INVOCATION));
    assert.equal(new Set(invs.map((m) => m[1])).size, 1, 'every chunk goes to the same INVOCATION request');
    assert.deepEqual(invs.map((m) => [(m[3] as Dict).progress ?? false, (m[4] as string[])[0]]), [[true, 'a'], [true, 'b'], [true, 'c'], [false, 'd']]);
    callee.send(M.YIELD, invs[0]![1], {}, ['abcd']);
    assert.deepEqual(await caller.nextOf(M.RESULT, request), [M.RESULT, request, {}, ['abcd']]);
    assert.deepEqual(r.router.realm('realm1')!.dealer.pendingState(), IDLE);
  });

  it('answers a progressive call to a procedure nobody registered once, and takes its chunks with it', async () => {
    const caller = await r.peer();
    bp.lag();
    const request = stream(caller, 'com.nobody', ['a', 'b', 'c']);
    await settle();
    bp.catchUp();
    assert.equal((await caller.nextOf(M.ERROR, request))[4], ErrorUri.noSuchProcedure);
    const next = caller.call('com.nobody');
    await caller.nextOf(M.ERROR, next);
    assert.equal(caller.log.filter((m) => m[0] === M.ERROR).length, 2, 'one ERROR per call, none per chunk');
  });

  it('refuses a call canceled while it waited, without invoking the callee', async () => {
    const callee = await r.peer();
    const caller = await r.peer();
    bp.lag();
    callee.send(M.REGISTER, callee.nextRequest(), {}, 'com.slowly');
    const request = caller.call('com.slowly');
    await settle();
    caller.send(M.CANCEL, request, {});
    bp.catchUp();
    assert.equal((await caller.nextOf(M.ERROR, request))[4], ErrorUri.canceled);
    await callee.nextOf(M.REGISTERED);
    await settle();
    assert.equal(callee.log.filter((m) => m[0] === M.INVOCATION).length, 0);
  });
});
