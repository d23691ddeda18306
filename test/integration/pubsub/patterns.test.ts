/**
 * Pattern-based subscriptions (advanced/pattern-based-subscription.md): prefix and wildcard
 * matching, EVENT.Details.topic carrying the concrete topic for pattern matches only, and one
 * EVENT per matching subscription. The spec's own example URIs are used where it gives them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Wampy } from 'wampy';
import { connectAutobahn, connectWampy, type AutobahnClient } from '../../helpers/clients.js';
import { startNode, type TestNode } from '../../helpers/node.js';
import { autobahnInbox, LIMIT, RawWamp, W, wampyInbox } from './support.js';

describe('pattern-based subscriptions', () => {
  let node: TestNode;
  let pub: AutobahnClient;
  let raw: RawWamp;
  let autobahnSub: AutobahnClient;
  let wampySub: Wampy;

  before(async () => {
    node = await startNode();
    pub = await connectAutobahn(node.wsUrl, { serializer: 'msgpack' });
    raw = await RawWamp.join(node.wsUrl);
    autobahnSub = await connectAutobahn(node.wsUrl, { serializer: 'cbor' });
    wampySub = await connectWampy(node.wsUrl, 'json');
  }, LIMIT);

  after(async () => {
    await raw?.close();
    await Promise.all([pub?.close(), autobahnSub?.close(), wampySub?.disconnect()]);
    await node?.stop();
  }, LIMIT);

  /** Publishes each topic with its index as the only argument, then a marker the raw client sees exactly. */
  async function publishAll(topics: string[], marker: string): Promise<void> {
    for (const [i, t] of topics.entries()) void pub.session.publish(t, [i]);
    await pub.session.publish(marker, ['marker'], {}, { acknowledge: true });
  }

  /** The raw client's EVENTs up to (and without) the marker's. */
  async function eventsUntil(markerSub: number): Promise<unknown[][]> {
    const events: unknown[][] = [];
    for (;;) {
      const m = await raw.next();
      assert.equal(m[0], W.EVENT, `expected EVENT, got ${JSON.stringify(m)}`);
      if (m[1] === markerSub) return events;
      events.push(m);
    }
  }

  it('delivers to a prefix subscription every topic that starts with the prefix, with Details.topic', LIMIT, async () => {
    const sub = await raw.subscribed('com.myapp.topic.emergency', { match: 'prefix' });
    const marker = await raw.subscribed('patterns.marker.prefix');
    const topics = [
      'com.myapp.topic.emergency.11', // matches
      'com.myapp.topic.emergency-low', // matches: prefix matching is on the string
      'com.myapp.topic.emergency.category.severe', // matches
      'com.myapp.topic.emergency', // matches: the prefix itself
      'com.myapp.topic.emerge', // no
      'com.myapp.topic.other', // no
    ];
    await publishAll(topics, 'patterns.marker.prefix');
    const events = await eventsUntil(marker);
    assert.deepEqual(events.map((e) => [e[1], e[3], e[4]]), [0, 1, 2, 3].map((i) => [sub, { topic: topics[i] }, [i]]));
    await raw.unsubscribe(sub);
    await raw.unsubscribe(marker);
  });

  it('delivers to a wildcard subscription the topics whose other components match, with Details.topic', LIMIT, async () => {
    const sub = await raw.subscribed('com.myapp..userevent', { match: 'wildcard' });
    const marker = await raw.subscribed('patterns.marker.wildcard');
    const topics = [
      'com.myapp.foo.userevent', // matches
      'com.myapp.bar.userevent', // matches
      'com.myapp.a12.userevent', // matches
      'com.myapp.foo.userevent.bar', // no: one component too many
      'com.myapp.foo.user', // no
      'com.myapp2.foo.userevent', // no
      'com.myapp.userevent', // no: one component too few
    ];
    await publishAll(topics, 'patterns.marker.wildcard');
    const events = await eventsUntil(marker);
    assert.deepEqual(events.map((e) => [e[1], e[3], e[4]]), [0, 1, 2].map((i) => [sub, { topic: topics[i] }, [i]]));
    await raw.unsubscribe(sub);
    await raw.unsubscribe(marker);
  });

  it('leaves Details.topic out for an exact subscription', LIMIT, async () => {
    const sub = await raw.subscribed('patterns.exact.topic');
    await pub.session.publish('patterns.exact.topic', ['exact'], {}, { acknowledge: true });
    const ev = await raw.next();
    assert.equal(ev[0], W.EVENT);
    assert.equal(ev[1], sub);
    assert.deepEqual(ev[3], {}, 'EVENT.Details of an exact match');
    assert.deepEqual(ev[4], ['exact']);
    await raw.unsubscribe(sub);
  });

  it('sends one event per matching subscription when exact, prefix and wildcard subscriptions of one session match', LIMIT, async () => {
    const exact = await raw.subscribed('patterns.multi.a.b');
    const prefix = await raw.subscribed('patterns.multi', { match: 'prefix' });
    const wildcard = await raw.subscribed('patterns..a.', { match: 'wildcard' });
    const wildcard2 = await raw.subscribed('.multi..b', { match: 'wildcard' });
    assert.equal(new Set([exact, prefix, wildcard, wildcard2]).size, 4, 'four distinct subscriptions');
    const marker = await raw.subscribed('patterns.marker.multi');
    await publishAll(['patterns.multi.a.b'], 'patterns.marker.multi');
    const events = await eventsUntil(marker);
    const bySub = new Map(events.map((e) => [e[1], e]));
    assert.equal(events.length, 4, `one event per subscription, got ${JSON.stringify(events)}`);
    assert.equal(bySub.size, 4);
    assert.deepEqual(bySub.get(exact)?.[3], {});
    for (const id of [prefix, wildcard, wildcard2]) assert.deepEqual(bySub.get(id)?.[3], { topic: 'patterns.multi.a.b' });
    assert.equal(new Set(events.map((e) => e[2])).size, 1, 'all four carry the same publication id');
    for (const id of [exact, prefix, wildcard, wildcard2, marker]) await raw.unsubscribe(id);
  });

  it('gives Autobahn|JS and wampy subscribers the concrete topic of a pattern match', LIMIT, async () => {
    const { inbox: abPrefix } = await autobahnInbox(autobahnSub.session, 'patterns.clients', { match: 'prefix' });
    const { inbox: abWild } = await autobahnInbox(autobahnSub.session, 'patterns..x', { match: 'wildcard' });
    const { inbox: wyPrefix } = await wampyInbox(wampySub, 'patterns.clients', { match: 'prefix' });
    const { inbox: wyWild } = await wampyInbox(wampySub, 'patterns..x', { match: 'wildcard' });
    await pub.session.publish('patterns.clients.deep.topic', ['p'], { k: 1 }, { acknowledge: true });
    await pub.session.publish('patterns.clients.x', ['w'], {}, { acknowledge: true });
    // 'patterns.clients.x' matches both patterns; the first publication only the prefix.
    const first = await abPrefix.next();
    assert.deepEqual([first.args, first.kwargs, first.details.topic], [['p'], { k: 1 }, 'patterns.clients.deep.topic']);
    const second = await abPrefix.next();
    assert.equal(second.details.topic, 'patterns.clients.x');
    assert.equal((await abWild.next()).details.topic, 'patterns.clients.x');
    const wy1 = await wyPrefix.next();
    assert.deepEqual([wy1.args, wy1.kwargs, wy1.details.topic], [['p'], { k: 1 }, 'patterns.clients.deep.topic']);
    assert.equal((await wyPrefix.next()).details.topic, 'patterns.clients.x');
    assert.equal((await wyWild.next()).details.topic, 'patterns.clients.x');
  });
});
