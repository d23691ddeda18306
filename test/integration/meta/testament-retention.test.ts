/**
 * Testaments (clean leave, dropped TCP connection, flush, scopes, bad input), retained events
 * (get_retained, pattern subscriptions, eligibility) and event history catch-up
 * (wamp.subscription.get_events) over real sockets with Autobahn|JS and raw clients.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stableId } from '../../../src/backplane/stable-id.js';
import { RawSocketClient, RawWsClient } from '../../helpers/raw-wamp.js';
import { callError, Clients, Events, LIMIT, type MetaNode, one, metaSuite } from './support.js';

describe('testaments', LIMIT, () => {
  let t: MetaNode;
  let clients: Clients;
  metaSuite((node, c) => {
    t = node;
    clients = c;
  });

  it('publishes a session\'s testaments when it leaves cleanly, detached before destroyed, in order', async () => {
    const watcher = await clients.connect();
    const events = new Events();
    await watcher.subscribe('com.example.presence', events.handler);
    const device = await clients.connect();
    await device.call('wamp.session.add_testament', ['com.example.presence', ['gone', 1], { id: 'dev1' }]);
    await device.call('wamp.session.add_testament', ['com.example.presence', ['gone', 2], {}], { scope: 'destroyed' });
    await device.call('wamp.session.add_testament', ['com.example.presence', ['detached'], {}], { scope: 'detached' });
    assert.equal(events.pending, 0, 'nothing is published while the session lives');
    await clients.leave(device);
    assert.deepEqual((await events.next()).args, ['detached']);
    const first = await events.next();
    assert.deepEqual([first.args, first.kwargs], [['gone', 1], { id: 'dev1' }]);
    assert.deepEqual((await events.next()).args, ['gone', 2]);
    await clients.leave(watcher);
  });

  it('publishes the testament when the TCP connection just drops (RawSocket, no GOODBYE)', async () => {
    const watcher = await clients.connect();
    const events = new Events();
    await watcher.subscribe('com.example.presence', events.handler);
    const device = await RawSocketClient.open(t.rawPort);
    const id = await device.hello();
    device.send([48, 1, {}, 'wamp.session.add_testament', ['com.example.presence', [{ offline: id }], {}]]);
    assert.equal((await device.waitFor((m) => m[0] === 50 && m[1] === 1))[0], 50);
    device.destroy();
    assert.deepEqual((await events.next(5000, 'testament after the drop')).args, [{ offline: id }]);
    await clients.leave(watcher);
  });

  it('flushes testaments by scope and answers how many were dropped', async () => {
    const watcher = await clients.connect();
    const events = new Events();
    await watcher.subscribe('com.example.presence', events.handler);
    const device = await RawWsClient.open(t.wsUrl);
    await device.hello();
    const call = async (request: number, procedure: string, args: unknown[], kwargs: Record<string, unknown> = {}) => {
      device.send([48, request, {}, procedure, args, kwargs]);
      return device.waitFor((m) => (m[0] === 50 || m[0] === 8) && (m[0] === 50 ? m[1] : m[2]) === request);
    };
    await call(1, 'wamp.session.add_testament', ['com.example.presence', ['a'], {}]);
    await call(2, 'wamp.session.add_testament', ['com.example.presence', ['b'], {}], { scope: 'detached' });
    assert.deepEqual(await call(3, 'wamp.session.flush_testaments', []), [50, 3, {}, [1]]);
    assert.deepEqual(await call(4, 'wamp.session.flush_testaments', [], { scope: 'destroyed' }), [50, 4, {}, [0]]);
    await call(5, 'wamp.session.add_testament', ['com.example.presence', ['c'], {}]);
    await device.goodbye();
    assert.deepEqual((await events.next()).args, ['b']);
    assert.deepEqual((await events.next()).args, ['c']);
    assert.equal(events.pending, 0);
    await clients.leave(watcher);
  });

  it('refuses bad testaments with a clear error and keeps the session', async () => {
    const s = await clients.connect();
    assert.deepEqual(await callError(s.call('wamp.session.add_testament', ['wamp.session.on_leave', [], {}])), {
      error: 'wamp.error.invalid_uri', message: 'wamp.session.add_testament: "wamp.session.on_leave" is not a topic a session may publish to',
    });
    assert.deepEqual(await callError(s.call('wamp.session.add_testament', ['com.x', [], {}], { scope: 'later' })), {
      error: 'wamp.error.testament_error', message: 'wamp.session.add_testament: scope must be "destroyed" or "detached", got "later"',
    });
    assert.deepEqual(await callError(s.call('wamp.session.add_testament', ['com.x', 'no', {}])), {
      error: 'wamp.error.invalid_argument', message: 'wamp.session.add_testament: argument 2 (args) must be a list, got "no"',
    });
    assert.deepEqual(await callError(s.call('wamp.session.add_testament', ['com.x', [], {}], { publish_options: { eligible: 'me' } })), {
      error: 'wamp.error.invalid_argument', message: 'wamp.session.add_testament: publish_options.eligible must be a list, got "me"',
    });
    for (let i = 0; i < 100; i++) await s.call('wamp.session.add_testament', ['com.x', [i], {}]);
    assert.deepEqual(await callError(s.call('wamp.session.add_testament', ['com.x', [], {}])), {
      error: 'wamp.error.testament_error', message: 'wamp.session.add_testament: a session may hold at most 100 testaments per scope',
    });
    assert.equal(one(await s.call('wamp.session.flush_testaments')), 100);
    assert.equal(one(await s.call('wamp.session.count')), 1);
    await clients.leave(s);
  });
});

describe('event retention', LIMIT, () => {
  let t: MetaNode;
  let clients: Clients;
  metaSuite((node, c) => {
    t = node;
    clients = c;
  });

  it('delivers the last retained event at once to a subscriber that asks, with retained: true', async () => {
    const sensor = await clients.connect();
    await sensor.publish('com.example.temp', [20], {}, { retain: true, acknowledge: true });
    await sensor.publish('com.example.temp', [21], {}, { retain: true, acknowledge: true });
    await sensor.publish('com.example.temp', [99], {}, { acknowledge: true }); // not retained
    const late = await clients.connect();
    const events = new Events();
    await late.subscribe('com.example.temp', events.handler, { get_retained: true });
    const e = await events.next(5000, 'retained event');
    assert.deepEqual(e.args, [21]);
    assert.equal(e.details.retained, true);
    // Without get_retained: nothing.
    const other = new Events();
    await (await clients.connect()).subscribe('com.example.temp', other.handler);
    // A live event after the retained one arrives normally, without the flag.
    await sensor.publish('com.example.temp', [22], {}, { acknowledge: true });
    const live = await events.next();
    assert.deepEqual([live.args, live.details.retained === true], [[22], false]);
    assert.deepEqual((await other.next()).args, [22], 'the plain subscriber saw only the live event');
  });

  it('gives a pattern subscription the retained event of every matching topic, minding eligibility', async () => {
    const pub = await clients.connect();
    await pub.publish('com.lab.room1.temp', [1], {}, { retain: true, acknowledge: true });
    await pub.publish('com.lab.room2.temp', [2], {}, { retain: true, acknowledge: true });
    await pub.publish('com.lab.room3.temp', [3], {}, { retain: true, acknowledge: true, eligible_authrole: ['admin'] });
    const s = await clients.connect();
    const events = new Events();
    await s.subscribe('com.lab', events.handler, { match: 'prefix', get_retained: true });
    const got = [await events.next(), await events.next()].map((e) => [e.details.topic, e.args[0], e.details.retained]).sort();
    assert.deepEqual(got, [['com.lab.room1.temp', 1, true], ['com.lab.room2.temp', 2, true]]);
    const w = new Events();
    await s.subscribe('com..room2.temp', w.handler, { match: 'wildcard', get_retained: true });
    assert.deepEqual((await w.next()).args, [2]);
    assert.equal(events.pending + w.pending, 0);
  });
});

describe('event history', LIMIT, () => {
  let t: MetaNode;
  let clients: Clients;
  metaSuite((node, c) => {
    t = node;
    clients = c;
  }, {
      store: {
        type: 'memory',
        maxRetained: 100,
        eventHistory: [
          { uri: 'com.example.log', match: 'exact', limit: 5 },
          { uri: 'com.example.', match: 'prefix', limit: 3 },
        ],
      },
    });

  it('lets a client that reconnects catch up on what it missed (Crossbar.io form: newest first)', async () => {
    const pub = await clients.connect();
    // Nobody subscribes: history is kept anyway for configured topics.
    for (let i = 1; i <= 7; i++) await pub.publish('com.example.log', [i], { n: i }, { acknowledge: true });
    const late = await clients.connect();
    const sub = await late.subscribe('com.example.log', () => undefined);
    assert.equal(sub.id, stableId('realm1', 'exact', 'com.example.log'));
    const events = one(await late.call('wamp.subscription.get_events', [sub.id, 3])) as Record<string, any>[];
    assert.deepEqual(events.map((e) => e.args[0]), [7, 6, 5]);
    assert.deepEqual(events[0]!.kwargs, { n: 7 });
    assert.equal(events[0]!.subscription, sub.id);
    assert.equal(events[0]!.topic, 'com.example.log');
    assert.match(events[0]!.timestamp, /^\d{4}-\d\d-\d\dT/);
    // The limit of the rule (5) bounds what is kept.
    assert.deepEqual((one(await late.call('wamp.subscription.get_events', [sub.id, 100])) as Record<string, any>[]).map((e) => e.args[0]), [7, 6, 5, 4, 3]);
  });

  it('answers the spec\'s keyword form in order of occurrence, with paging and topic filters', async () => {
    const pub = await clients.connect();
    const pubs: number[] = [];
    for (const topic of ['com.example.a', 'com.example.b', 'com.example.a', 'com.example.b']) {
      pubs.push((await pub.publish(topic, [topic], {}, { acknowledge: true }))!.id);
    }
    const id = stableId('realm1', 'prefix', 'com.example.');
    const s = await clients.connect();
    const all = one(await s.call('wamp.subscription.get_events', [id], { limit: 10 })) as Record<string, any>[];
    assert.deepEqual(all.map((e) => e.publication), pubs.slice(1), 'the rule keeps 3');
    assert.equal(all[0]!.details.topic, 'com.example.b');
    const after1 = one(await s.call('wamp.subscription.get_events', [id], { after_publication: pubs[1] })) as Record<string, any>[];
    assert.deepEqual(after1.map((e) => e.publication), pubs.slice(2));
    const onlyA = one(await s.call('wamp.subscription.get_events', [id], { topic: 'com.example.a', reverse: true })) as Record<string, any>[];
    assert.deepEqual(onlyA.map((e) => e.publication), [pubs[2]]);
    assert.deepEqual(await callError(s.call('wamp.subscription.get_events', [id], { limit: 0 })), {
      error: 'wamp.error.invalid_argument', message: 'wamp.subscription.get_events: limit must be a positive integer, got 0',
    });
    assert.deepEqual(await callError(s.call('wamp.subscription.get_events', [id], { from_time: 'yesterday' })), {
      error: 'wamp.error.invalid_argument', message: 'wamp.subscription.get_events: from_time must be an RFC 3339 timestamp string, got "yesterday"',
    });
  });

  it('says when no history is kept for a subscription, or the subscription does not exist', async () => {
    const s = await clients.connect();
    const sub = await s.subscribe('org.other', () => undefined);
    assert.deepEqual(await callError(s.call('wamp.subscription.get_events', [sub.id, 5])), {
      error: 'wamp.error.history_unavailable', message: `no event history is kept for subscription ${sub.id}; configure it in the realm's "store"`,
    });
    assert.equal((await callError(s.call('wamp.subscription.get_events', [777, 5]))).error, 'wamp.error.no_such_subscription');
  });
});
