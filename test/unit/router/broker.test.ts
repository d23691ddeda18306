/**
 * The broker over in-process peers (no sockets): subscriptions by exact, prefix and wildcard
 * match, EVENT details, publisher exclusion and disclosure, the exclude/eligible lists,
 * acknowledgement, unsubscription, and what a refused PUBLISH is answered with.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MessageType as M } from '../../../src/wamp/codes.js';
import { ErrorUri } from '../../../src/wamp/errors.js';
import type { Dict } from '../../../src/wamp/messages.js';
import { type LocalPeer, type LocalRouter, localRouter, settle } from '../../helpers/local-router.js';


describe('broker', () => {
  let r: LocalRouter;
  beforeEach(async () => {
    r = await localRouter();
  });
  afterEach(() => r.stop());

  const publish = (p: LocalPeer, topic: string, args: unknown[] = [], options: Dict = {}) => {
    const request = p.nextRequest();
    p.send(M.PUBLISH, request, options, topic, args);
    return request;
  };
  const events = (p: LocalPeer) => p.unread.filter((m) => m[0] === M.EVENT);

  it('delivers EVENT [36, subscription, publication, details, args] to every subscriber but the publisher', async () => {
    const [a, b, pub] = [await r.peer(), await r.peer(), await r.peer()];
    const sa = await a.subscribe('com.news');
    const sb = await b.subscribe('com.news');
    assert.equal(sa, sb, 'one subscription, one id');
    await pub.subscribe('com.news');
    publish(pub, 'com.news', ['hello']);
    const ea = await a.nextOf(M.EVENT);
    const eb = await b.nextOf(M.EVENT);
    assert.deepEqual([ea[1], ea[3], ea[4]], [sa, {}, ['hello']]);
    assert.equal(ea[2], eb[2], 'the same publication id');
    await settle();
    assert.equal(events(pub).length, 0, 'exclude_me defaults to true');
    publish(pub, 'com.news', ['me too'], { exclude_me: false });
    assert.deepEqual((await pub.nextOf(M.EVENT))[4], ['me too']);
  });

  it('matches prefix and wildcard subscriptions, naming the topic in the details', async () => {
    const s = await r.peer();
    const prefix = await s.subscribe('com.a', { match: 'prefix' });
    const wild = await s.subscribe('com..x', { match: 'wildcard' });
    const exact = await s.subscribe('com.a.x');
    const pub = await r.peer();
    publish(pub, 'com.a.x', [1]);
    await settle();
    const got = new Map(events(s).map((e) => [e[1], e[3]]));
    assert.deepEqual(got, new Map<unknown, unknown>([[prefix, { topic: 'com.a.x' }], [wild, { topic: 'com.a.x' }], [exact, {}]]));
    publish(pub, 'com.abc', [2]); // prefix matching compares strings: com.a is a prefix of com.abc
    publish(pub, 'com.b.y', [3]);
    await settle();
    assert.deepEqual(events(s).slice(3).map((e) => [e[1], e[4]]), [[prefix, [2]]]);
  });

  it('filters receivers by exclude/eligible session ids, authids and authroles', async () => {
    const subs = [await r.peer(), await r.peer(), await r.peer()];
    for (const p of subs) await p.subscribe('com.f');
    const pub = await r.peer();
    const [x, y, z] = subs.map((p) => p.session);
    publish(pub, 'com.f', ['not x'], { exclude: [x] });
    publish(pub, 'com.f', ['only y'], { eligible: [y] });
    publish(pub, 'com.f', ['y or z but not z'], { eligible: [y, z], exclude: [z] });
    publish(pub, 'com.f', ['nobody by role'], { exclude_authrole: ['anonymous'] });
    await settle();
    assert.deepEqual(subs.map((p) => events(p).map((e) => (e[4] as string[])[0])), [
      [],
      ['not x', 'only y', 'y or z but not z'],
      ['not x'],
    ]);
  });

  it('discloses the publisher when it asks (disclose_me)', async () => {
    const s = await r.peer();
    await s.subscribe('com.who');
    const pub = await r.peer();
    publish(pub, 'com.who', [], { disclose_me: true });
    const e = await s.nextOf(M.EVENT);
    assert.deepEqual(e[3], { publisher: pub.session, publisher_authid: (await pubAuthid(r, pub)), publisher_authrole: 'anonymous' });
  });

  it('acknowledges with PUBLISHED only when asked, and answers a refused acknowledged PUBLISH', async () => {
    const pub = await r.peer();
    const acked = publish(pub, 'com.ack', [], { acknowledge: true });
    const published = await pub.nextOf(M.PUBLISHED, acked);
    assert.equal(typeof published[2], 'number');
    publish(pub, 'com.quiet');
    const refused = publish(pub, 'wamp.reserved', [], { acknowledge: true });
    assert.equal((await pub.nextOf(M.ERROR, refused))[4], ErrorUri.invalidUri);
    publish(pub, 'wamp.reserved.quiet');
    await settle();
    assert.deepEqual(pub.unread, [], 'no answer to an unacknowledged PUBLISH, refused or not');
  });

  it('stops delivering after UNSUBSCRIBE, and answers no_such_subscription for one it does not hold', async () => {
    const s = await r.peer();
    const sub = await s.subscribe('com.u');
    const req = s.nextRequest();
    s.send(M.UNSUBSCRIBE, req, sub);
    await s.nextOf(M.UNSUBSCRIBED, req);
    const again = s.nextRequest();
    s.send(M.UNSUBSCRIBE, again, sub);
    assert.equal((await s.nextOf(M.ERROR, again))[4], ErrorUri.noSuchSubscription);
    const pub = await r.peer();
    publish(pub, 'com.u', [1]);
    await settle();
    assert.equal(events(s).length, 0);
    assert.equal(r.router.realm('realm1')!.broker.subscriptionCount, 0, 'the subscription is gone with its last subscriber');
  });

  it('forgets a leaving session\'s subscriptions', async () => {
    const s = await r.peer();
    await s.subscribe('com.gone');
    s.close();
    await settle();
    assert.equal(r.router.realm('realm1')!.broker.subscriptionCount, 0);
  });
});

async function pubAuthid(r: LocalRouter, p: LocalPeer): Promise<string> {
  return r.router.realm('realm1')!.sessions.get(p.session)!.authid;
}
