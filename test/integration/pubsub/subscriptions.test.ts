/**
 * Subscription identity and lifetime: a subscription is shared by every session that subscribes
 * to the same (topic, match); SUBSCRIBE again returns the same id; UNSUBSCRIBE affects only the
 * session that sends it; an id the session does not hold is wamp.error.no_such_subscription.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { startNode, type TestNode } from '../../helpers/node.js';
import { autobahnInbox, LIMIT, RawWamp, W } from './support.js';

describe('subscription ids and unsubscribe', () => {
  let node: TestNode;
  let a: RawWamp;
  let b: RawWamp;
  let pub: RawWamp;
  let autobahnClient: AutobahnClient;

  before(async () => {
    node = await startNode();
    a = await RawWamp.join(node.wsUrl);
    b = await RawWamp.join(node.wsUrl);
    pub = await RawWamp.join(node.wsUrl);
    autobahnClient = await connectAutobahn(node.wsUrl, { serializer: 'cbor' });
  }, LIMIT);

  after(async () => {
    await Promise.all([a?.close(), b?.close(), pub?.close(), autobahnClient?.close()]);
    await node?.stop();
  }, LIMIT);

  it('gives two sessions subscribing to the same topic and match the same subscription id', LIMIT, async () => {
    const idA = await a.subscribed('subs.shared');
    const idB = await b.subscribed('subs.shared');
    assert.equal(idB, idA);
    const { subscription } = await autobahnInbox(autobahnClient.session, 'subs.shared');
    assert.equal(subscription.id, idA, 'an Autobahn|JS/CBOR session gets the same id');
    const prefixA = await a.subscribed('subs.shared', { match: 'prefix' });
    const prefixB = await b.subscribed('subs.shared', { match: 'prefix' });
    assert.equal(prefixB, prefixA);
    for (const id of [idA, prefixA]) {
      assert.equal((await a.unsubscribe(id))[0], W.UNSUBSCRIBED);
      assert.equal((await b.unsubscribe(id))[0], W.UNSUBSCRIBED);
    }
  });

  it('gives a different subscription id for each match policy on the same topic', LIMIT, async () => {
    const exact = await a.subscribed('subs.policy');
    const prefix = await b.subscribed('subs.policy', { match: 'prefix' });
    const wildcard = await a.subscribed('subs.policy', { match: 'wildcard' });
    assert.equal(new Set([exact, prefix, wildcard]).size, 3, `ids ${exact}, ${prefix}, ${wildcard}`);
    for (const id of [exact, prefix, wildcard]) assert.ok(Number.isInteger(id) && id >= 1 && id <= 2 ** 53, `id ${id}`);
    await a.unsubscribe(exact);
    await b.unsubscribe(prefix);
    await a.unsubscribe(wildcard);
  });

  it('returns the same id when a session subscribes to a topic again, and delivers each event once', LIMIT, async () => {
    const first = await a.subscribed('subs.again');
    const second = await a.subscribed('subs.again');
    assert.equal(second, first);
    await pub.publish('subs.again', {}, ['once']);
    await pub.publish('subs.again', { acknowledge: true }, ['marker']);
    const ev1 = await a.next();
    const ev2 = await a.next();
    assert.deepEqual([ev1[0], ev1[1], ev1[4]], [W.EVENT, first, ['once']]);
    assert.deepEqual([ev2[0], ev2[1], ev2[4]], [W.EVENT, first, ['marker']], 'the second event is the marker, not a duplicate');
    // One UNSUBSCRIBE ends it, however many times it was subscribed.
    assert.equal((await a.unsubscribe(first))[0], W.UNSUBSCRIBED);
    const again = await a.unsubscribe(first);
    assert.equal(again[0], W.ERROR);
    assert.equal(again[4], 'wamp.error.no_such_subscription');
  });

  it('stops delivery to the unsubscribing session only', LIMIT, async () => {
    const id = await a.subscribed('subs.leave');
    assert.equal(await b.subscribed('subs.leave'), id);
    const markerA = await a.subscribed('subs.leave.marker');
    const unsubscribed = await a.unsubscribe(id);
    assert.deepEqual(unsubscribed, [W.UNSUBSCRIBED, unsubscribed[1]]);
    await pub.publish('subs.leave', {}, ['after unsubscribe']);
    await pub.publish('subs.leave.marker', { acknowledge: true }, ['marker']);
    const atB = await b.next();
    assert.deepEqual([atB[0], atB[1], atB[4]], [W.EVENT, id, ['after unsubscribe']], 'b still subscribed');
    const atA = await a.next();
    assert.deepEqual([atA[0], atA[1], atA[4]], [W.EVENT, markerA, ['marker']], 'a got nothing before the marker');
    await b.unsubscribe(id);
    await a.unsubscribe(markerA);
  });

  it('answers UNSUBSCRIBE for an id the session does not hold with ERROR wamp.error.no_such_subscription', LIMIT, async () => {
    const request = a.request();
    a.send([W.UNSUBSCRIBE, request, 123456789]);
    const reply = await a.next();
    assert.equal(reply.length, 6, `ERROR with a message: ${JSON.stringify(reply)}`);
    assert.deepEqual(reply.slice(0, 5), [W.ERROR, W.UNSUBSCRIBE, request, {}, 'wamp.error.no_such_subscription']);
    assert.equal(typeof (reply[5] as unknown[])[0], 'string');
    // b holds a subscription whose id a does not: still not a's to end.
    const id = await b.subscribed('subs.owned');
    const other = await a.unsubscribe(id);
    assert.deepEqual(other.slice(0, 5), [W.ERROR, W.UNSUBSCRIBE, other[2], {}, 'wamp.error.no_such_subscription']);
    // The error ends neither session, nor b's subscription.
    await pub.publish('subs.owned', { acknowledge: true }, ['still there']);
    const ev = await b.next();
    assert.deepEqual([ev[0], ev[1], ev[4]], [W.EVENT, id, ['still there']]);
    assert.equal((await a.subscribed('subs.after.error')) > 0, true);
  });
});
