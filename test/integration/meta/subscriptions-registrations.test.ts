/**
 * Subscription and registration meta API over real sockets with Autobahn|JS: every procedure and
 * every on_* event, pattern subscriptions in the lists, null for lookups that find nothing, match
 * "exact" in registration details, errors for unknown ids and bad arguments.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stableId } from '../../../src/backplane/stable-id.js';
import { callError, Clients, Events, LIMIT, type MetaNode, one, metaSuite } from './support.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('subscription meta API', LIMIT, () => {
  let t: MetaNode;
  let clients: Clients;
  metaSuite((node, c) => {
    t = node;
    clients = c;
  });

  it('lists exact, prefix and wildcard subscriptions; looks up, matches and gets them', async () => {
    const a = await clients.connect();
    const b = await clients.connect();
    const noop = () => undefined;
    const exact = await a.subscribe('com.example.news', noop);
    const prefix = await b.subscribe('com.example', noop, { match: 'prefix' });
    const wildcard = await b.subscribe('com..news', noop, { match: 'wildcard' });
    await b.subscribe('com.example.news', noop);
    // A subscription to the router's own topics is not shown to clients.
    await a.subscribe('wamp.session.on_join', noop);

    const lists = one(await a.call('wamp.subscription.list')) as Record<string, number[]>;
    assert.deepEqual(lists, { exact: [exact.id], prefix: [prefix.id], wildcard: [wildcard.id] });
    assert.equal(exact.id, stableId('realm1', 'exact', 'com.example.news'));

    assert.equal(one(await a.call('wamp.subscription.lookup', ['com.example.news'])), exact.id);
    assert.equal(one(await a.call('wamp.subscription.lookup', ['com.example', { match: 'prefix' }])), prefix.id);
    assert.equal(one(await a.call('wamp.subscription.lookup', ['com..news', { match: 'wildcard' }])), wildcard.id);
    assert.equal(one(await a.call('wamp.subscription.lookup', ['com.example'])), null);
    assert.equal(one(await a.call('wamp.subscription.lookup', ['wamp.session.on_join'])), null);

    assert.deepEqual((one(await a.call('wamp.subscription.match', ['com.example.news'])) as number[]).sort(), [exact.id, prefix.id, wildcard.id].sort());
    assert.deepEqual(one(await a.call('wamp.subscription.match', ['com.example.sport'])), [prefix.id]);
    assert.equal(one(await a.call('wamp.subscription.match', ['org.other'])), null);

    const details = one(await a.call('wamp.subscription.get', [wildcard.id])) as Record<string, unknown>;
    assert.match(String(details.created), ISO);
    assert.deepEqual({ ...details, created: 'x' }, { id: wildcard.id, created: 'x', uri: 'com..news', match: 'wildcard' });

    assert.deepEqual((one(await a.call('wamp.subscription.list_subscribers', [exact.id])) as number[]).sort(), [a.id, b.id].sort());
    assert.equal(one(await a.call('wamp.subscription.count_subscribers', [exact.id])), 2);
    assert.equal(one(await a.call('wamp.subscription.count_subscribers', [prefix.id])), 1);
    await clients.leave(a);
    await clients.leave(b);
  });

  it('answers unknown ids, protected topics and bad arguments with clear errors', async () => {
    const a = await clients.connect();
    const meta = await a.subscribe('wamp.subscription.on_create', () => undefined);
    for (const proc of ['wamp.subscription.get', 'wamp.subscription.list_subscribers', 'wamp.subscription.count_subscribers']) {
      assert.deepEqual(await callError(a.call(proc, [12345])), {
        error: 'wamp.error.no_such_subscription', message: 'no subscription with ID 12345 exists in realm "realm1"',
      });
    }
    assert.equal((await callError(a.call('wamp.subscription.get', [meta.id]))).error, 'wamp.error.not_authorized');
    assert.deepEqual(await callError(a.call('wamp.subscription.lookup', ['com.x', { match: 'fuzzy' }])), {
      error: 'wamp.error.invalid_argument', message: 'wamp.subscription.lookup: options.match must be "exact", "prefix" or "wildcard", got "fuzzy"',
    });
    assert.deepEqual(await callError(a.call('wamp.subscription.match', [42])), {
      error: 'wamp.error.invalid_argument', message: 'wamp.subscription.match: argument 1 (topic) must be a non-empty string, got 42',
    });
    assert.deepEqual(one(await a.call('wamp.subscription.list')), { exact: [], prefix: [], wildcard: [] });
    await clients.leave(a);
  });

  it('publishes on_create, on_subscribe, on_unsubscribe and on_delete in order', async () => {
    const watcher = await clients.connect();
    const events = new Events();
    for (const e of ['on_create', 'on_subscribe', 'on_unsubscribe', 'on_delete']) {
      await watcher.subscribe(`wamp.subscription.${e}`, (args, kwargs, details) => events.handler([e, ...args], kwargs, details));
    }
    const a = await clients.connect();
    const b = await clients.connect();
    const s1 = await a.subscribe('com.example.weather', () => undefined, { match: 'prefix' });
    const create = await events.next();
    assert.equal(create.args[0], 'on_create');
    assert.equal(create.args[1], a.id);
    const d = create.args[2] as Record<string, unknown>;
    assert.deepEqual({ ...d, created: 'x' }, { id: s1.id, created: 'x', uri: 'com.example.weather', match: 'prefix' });
    assert.deepEqual((await events.next()).args, ['on_subscribe', a.id, s1.id]);
    const s2 = await b.subscribe('com.example.weather', () => undefined, { match: 'prefix' });
    assert.equal(s2.id, s1.id);
    assert.deepEqual((await events.next()).args, ['on_subscribe', b.id, s1.id]);
    await a.unsubscribe(s1);
    assert.deepEqual((await events.next()).args, ['on_unsubscribe', a.id, s1.id]);
    const bId = b.id;
    // The last subscriber leaving (here: its session ends) deletes the subscription.
    await clients.leave(b);
    assert.deepEqual((await events.next()).args, ['on_unsubscribe', bId, s1.id]);
    assert.deepEqual((await events.next()).args, ['on_delete', bId, s1.id]);
    assert.equal(events.pending, 0, 'no meta events about subscriptions to wamp.* topics');
    await clients.leave(a);
    await clients.leave(watcher);
  });
});

describe('registration meta API', LIMIT, () => {
  let t: MetaNode;
  let clients: Clients;
  metaSuite((node, c) => {
    t = node;
    clients = c;
  });

  it('lists, looks up, matches and gets registrations, and lists and counts callees', async () => {
    const a = await clients.connect();
    const b = await clients.connect();
    const echo = (args: unknown[]) => args;
    const exact = await a.register('com.example.add', echo, { invoke: 'roundrobin' });
    await b.register('com.example.add', echo, { invoke: 'roundrobin' });
    const prefix = await a.register('com.example', echo, { match: 'prefix' });
    const wildcard = await b.register('com..get', echo, { match: 'wildcard' });

    assert.deepEqual(one(await a.call('wamp.registration.list')), { exact: [exact.id], prefix: [prefix.id], wildcard: [wildcard.id] });
    assert.equal(one(await a.call('wamp.registration.lookup', ['com.example.add'])), exact.id);
    assert.equal(one(await a.call('wamp.registration.lookup', ['com.example', { match: 'prefix' }])), prefix.id);
    assert.equal(one(await a.call('wamp.registration.lookup', ['com.example'])), null);
    assert.equal(one(await a.call('wamp.registration.match', ['com.example.add'])), exact.id);
    assert.equal(one(await a.call('wamp.registration.match', ['com.example.sub'])), prefix.id);
    assert.equal(one(await a.call('wamp.registration.match', ['com.x.get'])), wildcard.id);
    assert.equal(one(await a.call('wamp.registration.match', ['org.none'])), null);

    const got = one(await a.call('wamp.registration.get', [exact.id])) as Record<string, unknown>;
    assert.match(String(got.created), ISO);
    assert.deepEqual({ ...got, created: 'x' }, { id: exact.id, created: 'x', uri: 'com.example.add', match: 'exact', invoke: 'roundrobin' });
    assert.equal((one(await a.call('wamp.registration.get', [prefix.id])) as Record<string, unknown>).invoke, 'single');
    assert.deepEqual((one(await a.call('wamp.registration.list_callees', [exact.id])) as number[]).sort(), [a.id, b.id].sort());
    assert.equal(one(await a.call('wamp.registration.count_callees', [exact.id])), 2);
    assert.equal(one(await a.call('wamp.registration.count_callees', [wildcard.id])), 1);
    for (const proc of ['wamp.registration.get', 'wamp.registration.list_callees', 'wamp.registration.count_callees']) {
      assert.deepEqual(await callError(a.call(proc, [999])), {
        error: 'wamp.error.no_such_registration', message: 'no registration with ID 999 exists in realm "realm1"',
      });
    }
    assert.equal((await callError(a.call('wamp.registration.get', [-1]))).error, 'wamp.error.invalid_argument');
    await clients.leave(a);
    await clients.leave(b);
    assert.deepEqual(one(await (await clients.connect()).call('wamp.registration.list')), { exact: [], prefix: [], wildcard: [] });
  });

  it('publishes on_create, on_register, on_unregister and on_delete in order', async () => {
    const watcher = await clients.connect();
    const events = new Events();
    for (const e of ['on_create', 'on_register', 'on_unregister', 'on_delete']) {
      await watcher.subscribe(`wamp.registration.${e}`, (args, kwargs, details) => events.handler([e, ...args], kwargs, details));
    }
    const a = await clients.connect();
    const b = await clients.connect();
    const r1 = await a.register('com.example.job', () => 1, { invoke: 'first' });
    const create = await events.next();
    assert.equal(create.args[0], 'on_create');
    assert.equal(create.args[1], a.id);
    assert.deepEqual({ ...(create.args[2] as object), created: 'x' }, { id: r1.id, created: 'x', uri: 'com.example.job', match: 'exact', invoke: 'first' });
    assert.deepEqual((await events.next()).args, ['on_register', a.id, r1.id]);
    await b.register('com.example.job', () => 2, { invoke: 'first' });
    assert.deepEqual((await events.next()).args, ['on_register', b.id, r1.id]);
    await a.unregister(r1);
    assert.deepEqual((await events.next()).args, ['on_unregister', a.id, r1.id]);
    const bId = b.id;
    await clients.leave(b);
    assert.deepEqual((await events.next()).args, ['on_unregister', bId, r1.id]);
    assert.deepEqual((await events.next()).args, ['on_delete', bId, r1.id]);
    assert.equal(events.pending, 0);
    await clients.leave(a);
    await clients.leave(watcher);
  });
});
