/**
 * Authorization with Crossbar.io's semantics (docs/Authorization.rst): a role matrix × the four
 * actions × URIs with exact, prefix, wildcard and starred rules that overlap; the most specific
 * rule wins (exact, then the longest prefix, then wildcard); no rule → denied; disclose. Then
 * dynamic authorizers: a procedure registered by an Autobahn|JS component allows, denies, fails,
 * and its cached answers are reused per role, URI and action.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import autobahn from 'autobahn';
import { collector, connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { realm, startDoc, tcp, wampyJoin, type AuthNode } from './support.js';

const allow = (...actions: ('call' | 'register' | 'publish' | 'subscribe')[]) =>
  Object.fromEntries(['call', 'register', 'publish', 'subscribe'].map((a) => [a, actions.includes(a as never)]));

/** The roles of the table. */
const ROLES = {
  // Crossbar.io's documentation example: "*" for everything, a longer pattern wins.
  role1: [
    { uri: '*', allow: allow('call', 'subscribe') },
    { uri: 'com.example.frontend.*', allow: allow('call', 'subscribe', 'publish') },
  ],
  overlap: [
    { uri: 'com.example.exact', match: 'exact', allow: allow('call', 'register', 'publish', 'subscribe') },
    { uri: 'com.example.', match: 'prefix', allow: allow('subscribe') },
    { uri: 'com.example.deep.', match: 'prefix', allow: allow('publish') },
    { uri: 'com..update', match: 'wildcard', allow: allow('call') },
  ],
  starred: [
    { uri: 'app.*', allow: allow('call') },
    { uri: 'com.*.ping', allow: allow('call', 'register') },
  ],
  nothing: [],
};

type Action = 'call' | 'register' | 'publish' | 'subscribe';
const ACTIONS: Action[] = ['call', 'register', 'publish', 'subscribe'];

/** [role, uri, the actions allowed]; every other action on that URI is denied. */
const TABLE: [keyof typeof ROLES, string, Action[]][] = [
  ['role1', 'com.example.frontend.action1', ['call', 'subscribe', 'publish']],
  ['role1', 'com.example.backend.action1', ['call', 'subscribe']],
  ['role1', 'anything.at.all', ['call', 'subscribe']],
  ['overlap', 'com.example.exact', ['call', 'register', 'publish', 'subscribe']],
  ['overlap', 'com.example.exact.below', ['subscribe']],
  ['overlap', 'com.example.deep.x', ['publish']],
  ['overlap', 'com.example.update', ['subscribe']], // the prefix rule beats the wildcard
  ['overlap', 'com.other.update', ['call']],
  ['overlap', 'org.example.update', []],
  ['starred', 'app.start', ['call']],
  ['starred', 'app', []],
  ['starred', 'com.x.ping', ['call', 'register']],
  ['starred', 'com.x.y.ping', []],
  ['nothing', 'com.example.exact', []],
];

describe('authorization', () => {
  let n: AuthNode;
  let url: string;
  const sessions = new Map<string, AutobahnClient>();
  let authorizer: AutobahnClient;
  const asked: { session: Record<string, unknown>; uri: string; action: string; options: Record<string, unknown> }[] = [];

  before(async () => {
    n = await startDoc({
      realms: [
        realm('realm1', {
          ...ROLES,
          discloser: [{ uri: 'disclosed.', match: 'prefix', allow: allow('call', 'publish'), disclose: { caller: true, publisher: true } }],
          backend: [{ uri: '', match: 'prefix', allow: allow('call', 'register', 'publish', 'subscribe') }],
          approver: [{ uri: 'com.example.authorize', allow: allow('register') }],
          dynamic: 'com.example.authorize',
        }),
      ],
      transports: [
        {
          type: 'web',
          endpoint: tcp(),
          paths: {
            ws: {
              type: 'websocket',
              auth: {
                ticket: {
                  type: 'static',
                  principals: Object.fromEntries(
                    [...Object.keys(ROLES), 'discloser', 'backend', 'approver', 'dynamic'].map((r) => [r, { ticket: `t-${r}`, role: r }]),
                  ),
                },
              },
            },
          },
        },
      ],
    });
    url = `ws://127.0.0.1:${n.ports[0]}/ws`;
    for (const role of [...Object.keys(ROLES), 'discloser', 'backend']) {
      sessions.set(role, await connectAutobahn(url, { authmethods: ['ticket'], authid: role, onchallenge: () => `t-${role}` }));
    }
    authorizer = await connectAutobahn(url, { authmethods: ['ticket'], authid: 'approver', onchallenge: () => 't-approver' });
    await authorizer.session.register('com.example.authorize', async (args) => {
      const [session, uri, action, options] = args as [Record<string, unknown>, string, string, Record<string, unknown>];
      asked.push({ session, uri, action, options });
      if (uri.startsWith('slow.')) await new Promise((r) => setTimeout(r, 150));
      if (uri.startsWith('broken.')) throw new autobahn.Error('com.example.oops', ['authorizer crashed']);
      if (uri.startsWith('weird.')) return 'yes please';
      if (uri.startsWith('public.cached.')) return { allow: true, cache: true };
      if (uri.startsWith('disclosed.')) return { allow: true, disclose: true };
      return uri.startsWith('public.') || uri.startsWith('slow.');
    });
  });

  after(async () => {
    await Promise.all([...sessions.values(), authorizer].map((c) => c.close()));
    await n.stop();
  });

  /** Tries `action` on `uri`; 'allowed' or the error URI. An allowed call finds no callee. */
  async function attempt(s: autobahn.Session, action: Action, uri: string): Promise<string> {
    try {
      switch (action) {
        case 'call':
          await s.call(uri);
          return 'allowed';
        case 'register':
          await s.unregister(await s.register(uri, () => null));
          return 'allowed';
        case 'publish':
          await s.publish(uri, [], {}, { acknowledge: true });
          return 'allowed';
        case 'subscribe':
          await s.unsubscribe(await s.subscribe(uri, () => undefined));
          return 'allowed';
      }
    } catch (e) {
      const uriOf = (e as { error?: string }).error ?? String(e);
      return action === 'call' && uriOf === 'wamp.error.no_such_procedure' ? 'allowed' : uriOf;
    }
  }

  it('decides the role × action × URI table as Crossbar.io documents it', async () => {
    const wrong: string[] = [];
    for (const [role, uri, allowed] of TABLE) {
      for (const action of ACTIONS) {
        const got = await attempt(sessions.get(role)!.session, action, uri);
        const want = allowed.includes(action) ? 'allowed' : 'wamp.error.not_authorized';
        if (got !== want) wrong.push(`${role} ${action} ${uri}: got ${got}, want ${want}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('a denial answers that request only: the session goes on', async () => {
    const s = sessions.get('overlap')!.session;
    await assert.rejects(s.call('org.example.update'), (e: { error: string; args: unknown[] }) =>
      e.error === 'wamp.error.not_authorized' && /call procedure "org.example.update"/.test(String(e.args[0])));
    const sub = await s.subscribe('com.example.anything', () => undefined);
    assert.ok(sub.id > 0);
  });

  it('discloses caller and publisher where the permission says so', async () => {
    const backend = sessions.get('backend')!.session;
    const discloser = sessions.get('discloser')!;
    const callers: unknown[] = [];
    const reg = await backend.register('disclosed.proc', (_a, _k, details) => void callers.push(details.caller));
    const events = collector<unknown>(1);
    const sub = await backend.subscribe('disclosed.topic', (_a, _k, details) => events.push(details.publisher));
    await discloser.session.call('disclosed.proc');
    await discloser.session.publish('disclosed.topic', [], {}, { acknowledge: true });
    assert.deepEqual(callers, [discloser.session.id]);
    assert.deepEqual(await events.done, [discloser.session.id]);
    await Promise.all([backend.unregister(reg), backend.unsubscribe(sub)]);
  });

  describe('dynamic authorizer', () => {
    let dynamic: AutobahnClient;
    before(async () => {
      dynamic = await connectAutobahn(url, { authmethods: ['ticket'], authid: 'dynamic', onchallenge: () => 't-dynamic' });
    });
    after(() => dynamic.close());

    it('is asked with (session, uri, action, options) and its answer decides', async () => {
      const s = dynamic.session;
      assert.equal(await attempt(s, 'subscribe', 'public.news'), 'allowed');
      const q = asked.findLast((x) => x.uri === 'public.news')!;
      assert.equal(q.action, 'subscribe');
      assert.deepEqual([q.session.session, q.session.authid, q.session.authrole, q.session.authmethod], [s.id, 'dynamic', 'dynamic', 'ticket']);
      for (const action of ACTIONS) {
        assert.equal(await attempt(s, action, 'public.x'), 'allowed', action);
        assert.equal(await attempt(s, action, 'secret.x'), 'wamp.error.not_authorized', action);
      }
      await s.unsubscribe(await s.subscribe('public.', () => undefined, { match: 'prefix' }));
      assert.equal(asked.findLast((x) => x.uri === 'public.')?.options.match, 'prefix');
    });

    it('answers authorization_failed when the authorizer raises or returns garbage', async () => {
      assert.equal(await attempt(dynamic.session, 'call', 'broken.x'), 'wamp.error.authorization_failed');
      assert.equal(await attempt(dynamic.session, 'publish', 'weird.x'), 'wamp.error.authorization_failed');
      assert.equal(await attempt(dynamic.session, 'call', 'public.x'), 'allowed');
    });

    it('reuses a cached decision per role, URI and action, also for later sessions', async () => {
      const count = (uri: string) => asked.filter((x) => x.uri === uri).length;
      for (let i = 0; i < 3; i++) assert.equal(await attempt(dynamic.session, 'publish', 'public.cached.t'), 'allowed');
      for (let i = 0; i < 3; i++) assert.equal(await attempt(dynamic.session, 'publish', 'public.t'), 'allowed');
      assert.deepEqual([count('public.cached.t'), count('public.t')], [1, 3]);
      const { client } = await wampyJoin(url, { authmethods: ['ticket'], authid: 'dynamic', onChallenge: () => 't-dynamic' });
      await client.publish('public.cached.t', [], { acknowledge: true });
      assert.equal(count('public.cached.t'), 1);
      await client.subscribe('public.cached.t', () => undefined);
      assert.equal(count('public.cached.t'), 2, 'another action is another decision');
      await client.disconnect();
    });

    it('keeps the session\'s order while a decision is pending', async () => {
      const backend = sessions.get('backend')!.session;
      const got = collector<string>(3);
      const subs = await Promise.all(['slow.a', 'public.b', 'public.cached.c'].map((t) => backend.subscribe(t, () => got.push(t))));
      for (const t of ['slow.a', 'public.b', 'public.cached.c']) void dynamic.session.publish(t, []);
      assert.deepEqual(await got.done, ['slow.a', 'public.b', 'public.cached.c']);
      await Promise.all(subs.map((x) => backend.unsubscribe(x)));
    });

    it('discloses when the authorizer says so', async () => {
      const backend = sessions.get('backend')!.session;
      const callers: unknown[] = [];
      const reg = await backend.register('disclosed.dyn', (_a, _k, details) => void callers.push(details.caller));
      await dynamic.session.call('disclosed.dyn');
      assert.deepEqual(callers, [dynamic.session.id]);
      await backend.unregister(reg);
    });
  });
});
