/**
 * Caps on what one session or one address may hold (`limits.*`): subscriptions, registrations,
 * calls in flight per session, sessions per client address. Over a cap the request gets ERROR
 * `xbar.error.limit_exceeded` naming the config key (kwargs `{limit, max}`), the session goes on,
 * others are untouched, and /metrics counts the refusal. Defaults hold without any config.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, connectWampy, type AutobahnClient } from '../../helpers/clients.js';
import { CLIENT_ROLES, RawWsClient } from '../../helpers/raw-wamp.js';
import type { AuthNode } from '../auth/support.js';
import { LIMIT, limitedNode, overLimit, refusals } from './support.js';
import { eventually } from '../../helpers/eventually.js';

describe('per-session caps', () => {
  let n: AuthNode;
  let url: string;
  const open: AutobahnClient[] = [];
  const client = async (): Promise<AutobahnClient> => {
    const c = await connectAutobahn(url);
    open.push(c);
    return c;
  };

  before(async () => {
    n = await limitedNode({ max_subscriptions_per_session: 3, max_registrations_per_session: 2, max_calls_per_session: 2 });
    url = `ws://127.0.0.1:${n.ports[0]}/ws`;
  });

  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await n.stop();
  });

  it('refuses a subscription beyond max_subscriptions_per_session; a repeated one or one after UNSUBSCRIBE is fine', async () => {
    const c = await client();
    const subs = [];
    for (const t of ['a.one', 'a.two', 'a.three']) subs.push(await c.session.subscribe(t, () => undefined));
    await assert.rejects(c.session.subscribe('a.four', () => undefined), overLimit('max_subscriptions_per_session', 3));
    // The same topic again is the same subscription.
    await c.session.subscribe('a.one', () => undefined);
    await c.session.unsubscribe(subs[1]!);
    await c.session.subscribe('a.four', () => undefined);
    // Another session has its own count, and events still flow.
    const other = await client();
    let heard!: (v: unknown) => void;
    const got = new Promise((resolve) => (heard = resolve));
    await other.session.subscribe('a.four', (args) => heard(args[0]));
    await other.session.publish('a.four', ['hi'], {}, { acknowledge: true, exclude_me: false });
    assert.equal(await got, 'hi');
    assert.equal(await refusals(n, 'max_subscriptions_per_session'), 1);
  });

  it('refuses a registration beyond max_registrations_per_session (wampy)', async () => {
    const w = await connectWampy(url);
    await w.register('b.one', () => ({ argsList: [1] }));
    await w.register('b.two', () => ({ argsList: [2] }));
    await assert.rejects(w.register('b.three', () => ({ argsList: [3] })), (e: { errorUri: string; argsList: unknown[]; argsDict: unknown }) => {
      assert.equal(e.errorUri, LIMIT);
      assert.deepEqual(e.argsDict, { limit: 'max_registrations_per_session', max: 2 });
      return true;
    });
    const c = await client();
    assert.equal(await c.session.call('b.two'), 2);
    await w.disconnect();
    assert.equal(await refusals(n, 'max_registrations_per_session'), 1);
  });

  it('refuses a call beyond max_calls_per_session in flight; answered calls free their places', async () => {
    const callee = await client();
    const waiting: (() => void)[] = [];
    await callee.session.register('c.slow', () => new Promise<string>((resolve) => waiting.push(() => resolve('done'))));
    const caller = await client();
    const first = [caller.session.call('c.slow'), caller.session.call('c.slow')];
    await assert.rejects(caller.session.call('c.slow'), overLimit('max_calls_per_session', 2));
    // Another caller is not affected.
    const other = await client();
    const third = other.session.call('c.slow');
    await eventually(() => waiting.length >= 3, 'three calls at the callee');
    for (const w of waiting.splice(0)) w();
    assert.deepEqual(await Promise.all([...first, third]), ['done', 'done', 'done']);
    const again = caller.session.call('c.slow');
    await eventually(() => waiting.length >= 1, 'the call at the callee');
    waiting.pop()!();
    assert.equal(await again, 'done');
    assert.equal(await refusals(n, 'max_calls_per_session'), 1);
  });
});

describe('sessions per address', () => {
  let n: AuthNode;
  let url: string;

  before(async () => {
    n = await limitedNode({ max_sessions_per_address: 4 });
    url = `ws://127.0.0.1:${n.ports[0]}/ws`;
  });

  after(() => n.stop());

  /** A raw client from `localAddress`: its WELCOME session id, or the ABORT [reason, message]. */
  async function join(localAddress: string): Promise<{ c: RawWsClient; answer: unknown[] }> {
    const c = await RawWsClient.open(url, { localAddress });
    c.send([1, 'realm1', { roles: CLIENT_ROLES }]);
    return { c, answer: await c.waitFor((m) => m[0] === 2 || m[0] === 3) };
  }

  it('aborts the HELLO of a session beyond max_sessions_per_address; another address, or a freed place, joins', async () => {
    const joined = await Promise.all([1, 2, 3, 4].map(() => join('127.0.0.21')));
    assert.deepEqual(joined.map((j) => j.answer[0]), [2, 2, 2, 2]);
    const fifth = await join('127.0.0.21');
    assert.deepEqual([fifth.answer[0], fifth.answer[2]], [3, LIMIT]);
    assert.equal((fifth.answer[1] as { message: string }).message, 'too many sessions from this address (at most 4, limits.max_sessions_per_address)');
    assert.equal((await join('127.0.0.22')).answer[0], 2);
    assert.equal(await refusals(n, 'max_sessions_per_address'), 1);
    joined[0]!.c.destroy();
    // (The router sees the close an instant after the client: poll.)
    let admitted = false;
    for (let i = 0; i < 100 && !admitted; i++) {
      const j = await join('127.0.0.21');
      admitted = j.answer[0] === 2;
      if (!admitted) j.c.destroy();
    }
    assert.ok(admitted, 'the place of a closed session was not freed');
  });
});

describe('caps by default', () => {
  it('refuses the 10,001st subscription of a session with no limits configured', async () => {
    const n = await limitedNode();
    try {
      const c = await RawWsClient.open(`ws://127.0.0.1:${n.ports[0]}/ws`);
      await c.hello();
      c.sendTogether(Array.from({ length: 10_001 }, (_, i) => [32, i + 1, {}, `d.topic${i}`]));
      const error = await c.waitFor((m) => m[0] === 8, 30_000);
      assert.deepEqual([error[1], error[4], error[6]], [32, LIMIT, { limit: 'max_subscriptions_per_session', max: 10_000 }]);
      // SUBSCRIBED may follow the ERROR (it is sent once the backplane has the interest): poll.
      await eventually(() => c.received.filter((m) => m[0] === 33).length >= 10_000, 'every SUBSCRIBED', 5000, 10);
      await c.subscribe('d.topic0');
      assert.equal(c.received.filter((m) => m[0] === 8).length, 1);
      c.destroy();
    } finally {
      await n.stop();
    }
  });
});
