/**
 * Session meta API over real sockets with Autobahn|JS (one node): count, list, get, kill,
 * kill_by_authid, kill_by_authrole, kill_all, on_join and on_leave; bad arguments answer a clear
 * error and the session goes on; meta procedures obey authorization.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LocalClient } from '../../../src/client/local-client.js';
import { RawWsClient } from '../../helpers/raw-wamp.js';
import { ALLOW_ALL } from '../../helpers/node.js';
import { callError, Clients, Events, LIMIT, type MetaNode, one, startMetaNode, metaSuite } from './support.js';

describe('session meta API', LIMIT, () => {
  let t: MetaNode;
  let clients: Clients;
  metaSuite((node, c) => {
    t = node;
    clients = c;
  });

  it('counts and lists the sessions of the realm, with the authrole filter, leaving out the router\'s own', async () => {
    const a = await clients.connect();
    const b = await clients.connect();
    // An in-process router component (role "trusted") is not a client: not counted, as in Crossbar.io.
    const internal = await LocalClient.join(t.node.router, 'realm1', { authid: 'bridge', authrole: 'trusted' });
    try {
      const ids = (one(await a.call('wamp.session.list')) as number[]).sort();
      assert.deepEqual(ids, [a.id, b.id].sort());
      assert.equal(one(await a.call('wamp.session.count')), 2);
      assert.equal(one(await a.call('wamp.session.count', [['anonymous']])), 2);
      assert.equal(one(await a.call('wamp.session.count', [['admin']])), 0);
      assert.deepEqual(one(await a.call('wamp.session.list', [['admin', 'anonymous']])), ids.length === 2 ? one(await a.call('wamp.session.list', [['anonymous']])) : []);
      assert.deepEqual(one(await a.call('wamp.session.list', [['admin']])), []);
      assert.deepEqual(await callError(a.call('wamp.session.get', [internal.sessionId])), {
        error: 'wamp.error.no_such_session', message: `no session with ID ${internal.sessionId} exists in realm "realm1"`,
      });
    } finally {
      internal.close();
      await clients.leave(a);
      await clients.leave(b);
    }
  });

  it('gets the details of a session: identity and transport', async () => {
    const a = await clients.connect({ serializer: 'msgpack' });
    const b = await clients.connect({ rawsocketPort: t.rawPort });
    const d = one(await b.call('wamp.session.get', [a.id])) as Record<string, any>;
    assert.equal(d.session, a.id);
    assert.equal(d.authrole, 'anonymous');
    assert.equal(d.authmethod, 'anonymous');
    assert.equal(typeof d.authid, 'string');
    assert.equal(d.transport.type, 'websocket');
    assert.equal(d.transport.serializer, 'msgpack');
    assert.match(d.transport.peer, /^tcp4:127\.0\.0\.1:\d+$/);
    assert.equal(d.transport.node, t.node.backplane.nodeId);
    const raw = one(await a.call('wamp.session.get', [b.id])) as Record<string, any>;
    assert.equal(raw.transport.type, 'rawsocket');
    await clients.leave(a);
    await clients.leave(b);
  });

  it('answers bad arguments with wamp.error.invalid_argument and a message, and the session carries on', async () => {
    const a = await clients.connect();
    assert.deepEqual(await callError(a.call('wamp.session.get', ['x'])), {
      error: 'wamp.error.invalid_argument', message: 'wamp.session.get: argument 1 (session) must be an id, an integer from 1 to 2^53, got "x"',
    });
    assert.deepEqual(await callError(a.call('wamp.session.get')), {
      error: 'wamp.error.invalid_argument', message: 'wamp.session.get: argument 1 (session) must be an id, an integer from 1 to 2^53, got nothing',
    });
    assert.deepEqual(await callError(a.call('wamp.session.count', ['anonymous'])), {
      error: 'wamp.error.invalid_argument', message: 'wamp.session.count: argument 1 (filter_authroles) must be a list of strings, got "anonymous"',
    });
    assert.deepEqual(await callError(a.call('wamp.session.get', [2 ** 53 + 2])), {
      error: 'wamp.error.invalid_argument', message: `wamp.session.get: argument 1 (session) must be an id, an integer from 1 to 2^53, got ${2 ** 53 + 2}`,
    });
    assert.equal((await callError(a.call('wamp.session.no_such_thing'))).error, 'wamp.error.no_such_procedure');
    assert.equal(one(await a.call('wamp.session.count')), 1);
    await clients.leave(a);
  });

  it('publishes wamp.session.on_join and wamp.session.on_leave (the session id alone, as Crossbar.io)', async () => {
    const watcher = await clients.connect();
    const joins = new Events();
    const leaves = new Events();
    await watcher.subscribe('wamp.session.on_join', joins.handler);
    await watcher.subscribe('wamp.session.on_leave', leaves.handler);
    const c = await clients.connect({ serializer: 'cbor' });
    const join = await joins.next(5000, 'on_join');
    const details = join.args[0] as Record<string, any>;
    assert.equal(details.session, c.id);
    assert.equal(details.authrole, 'anonymous');
    assert.equal(details.transport.serializer, 'cbor');
    const id = c.id;
    await clients.leave(c);
    assert.deepEqual((await leaves.next(5000, 'on_leave')).args, [id]);
    // A dropped connection (no GOODBYE) is a leave too.
    const raw = await RawWsClient.open(t.wsUrl);
    const rawId = await raw.hello();
    assert.equal(((await joins.next()).args[0] as Record<string, unknown>).session, rawId);
    raw.destroy();
    assert.equal((await leaves.next(5000, 'on_leave after a dropped connection')).args[0], rawId);
    await clients.leave(watcher);
  });

  it('kills a session with GOODBYE, with the given reason and message; never the caller itself', async () => {
    const killer = await clients.connect();
    const victim = await RawWsClient.open(t.wsUrl);
    const id = await victim.hello();
    assert.equal(one(await killer.call('wamp.session.kill', [id], { reason: 'com.example.maintenance', message: 'back soon' })) ?? null, null);
    const bye = await victim.waitFor((m) => m[0] === 6);
    assert.deepEqual(bye, [6, { message: 'back soon' }, 'com.example.maintenance']);
    assert.deepEqual(await callError(killer.call('wamp.session.kill', [killer.id])), {
      error: 'wamp.error.no_such_session', message: `no other session with ID ${killer.id} exists in realm "realm1"`,
    });
    assert.deepEqual(await callError(killer.call('wamp.session.kill', [id])), {
      error: 'wamp.error.no_such_session', message: `no other session with ID ${id} exists in realm "realm1"`,
    });
    const other = await RawWsClient.open(t.wsUrl);
    const otherId = await other.hello();
    assert.deepEqual(await callError(killer.call('wamp.session.kill', [otherId], { reason: 'not a uri!' })), {
      error: 'wamp.error.invalid_uri', message: 'wamp.session.kill: reason "not a uri!" is not a valid URI',
    });
    // Without a reason: wamp.close.normal, no message.
    await killer.call('wamp.session.kill', [otherId]);
    assert.deepEqual(await other.waitFor((m) => m[0] === 6), [6, {}, 'wamp.close.normal']);
    assert.equal(one(await killer.call('wamp.session.count')), 1);
    await clients.leave(killer);
  });

  it('kills by authid (returns the ids) and by authrole (returns the count), sparing the caller', async () => {
    const killer = await clients.connect();
    const victims = await Promise.all([1, 2, 3].map(() => RawWsClient.open(t.wsUrl)));
    const ids = await Promise.all(victims.map((v) => v.hello()));
    const d = one(await killer.call('wamp.session.get', [ids[0]])) as Record<string, string>;
    assert.deepEqual(one(await killer.call('wamp.session.kill_by_authid', [d.authid], { reason: 'wamp.close.killed' })), [ids[0]]);
    assert.deepEqual(await victims[0]!.waitFor((m) => m[0] === 6), [6, {}, 'wamp.close.killed']);
    assert.deepEqual(one(await killer.call('wamp.session.kill_by_authid', ['nobody'])), []);
    assert.equal(one(await killer.call('wamp.session.kill_by_authrole', ['anonymous'])), 2);
    for (const v of victims.slice(1)) assert.equal((await v.waitFor((m) => m[0] === 6))[0], 6);
    assert.deepEqual(one(await killer.call('wamp.session.list')), [killer.id]);
    assert.deepEqual(await callError(killer.call('wamp.session.kill_by_authrole', [''])), {
      error: 'wamp.error.invalid_argument', message: 'wamp.session.kill_by_authrole: argument 1 (authrole) must be a non-empty string, got ""',
    });
    await clients.leave(killer);
  });

  it('kill_all closes every other session without on_leave events (as the spec says)', async () => {
    const killer = await clients.connect();
    const leaves = new Events();
    await killer.subscribe('wamp.session.on_leave', leaves.handler);
    const victims = await Promise.all([1, 2].map(() => RawWsClient.open(t.wsUrl)));
    await Promise.all(victims.map((v) => v.hello()));
    assert.equal(one(await killer.call('wamp.session.kill_all')), 2);
    await Promise.all(victims.map((v) => v.ended));
    assert.equal(one(await killer.call('wamp.session.count')), 1);
    assert.equal(leaves.pending, 0);
    await clients.leave(killer);
  });
});

describe('meta procedures obey authorization', LIMIT, () => {
  let t: MetaNode;
  let clients: Clients;
  before(async () => {
    const noSessionMeta = { uri: 'wamp.session.', match: 'prefix' as const, allow: { call: false, register: false, publish: false, subscribe: true }, disclose: { caller: false, publisher: false }, cache: true };
    t = await startMetaNode({ roles: [{ name: 'anonymous', permissions: [ALLOW_ALL, noSessionMeta] }] });
    clients = new Clients(t.wsUrl);
  });
  after(async () => {
    await clients.closeAll();
    await t.stop();
  });

  it('refuses wamp.session.* to a role without call permission there, and allows the rest', async () => {
    const a = await clients.connect();
    assert.deepEqual(await callError(a.call('wamp.session.count')), {
      error: 'wamp.error.not_authorized', message: 'session is not authorized to call procedure "wamp.session.count"',
    });
    assert.equal((await callError(a.call('wamp.session.kill_all'))).error, 'wamp.error.not_authorized');
    assert.deepEqual(one(await a.call('wamp.registration.list')), { exact: [], prefix: [], wildcard: [] });
  });
});
