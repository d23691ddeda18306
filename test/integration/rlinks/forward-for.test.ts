/**
 * The router's side of forward_for (Crossbar.io's broker.py and dealer.py): a PUBLISH or CALL
 * with Options.forward_for is disclosed as coming from its first hop, with the forwarding session
 * appended; an ill-formed or over-long forward_for is refused with wamp.error.invalid_argument and
 * the session carries on. Raw WAMP clients, so the test sees the exact messages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawWsClient } from '../../helpers/raw-wamp.js';
import { startNode, type TestNode } from '../../helpers/node.js';

const T = { ERROR: 8, PUBLISH: 16, PUBLISHED: 17, SUBSCRIBE: 32, SUBSCRIBED: 33, EVENT: 36, CALL: 48, RESULT: 50, REGISTER: 64, REGISTERED: 65, INVOCATION: 68, YIELD: 70 };
const HOP = { session: 123, authid: 'origin', authrole: 'user' };

describe('forward_for on PUBLISH and CALL', () => {
  let n: TestNode;
  let a: RawWsClient;
  let b: RawWsClient;
  let aId: number;

  before(async () => {
    n = await startNode();
    a = await RawWsClient.open(n.wsUrl);
    b = await RawWsClient.open(n.wsUrl);
    aId = await a.hello();
    await b.hello();
  });

  after(async () => {
    a.destroy();
    b.destroy();
    await n.stop();
  });

  it('an EVENT of a disclosed forwarded publication names the first hop and appends the publisher', async () => {
    b.send([T.SUBSCRIBE, 1, {}, 'ff.topic']);
    await b.waitFor((m) => m[0] === T.SUBSCRIBED);
    a.send([T.PUBLISH, 2, { acknowledge: true, disclose_me: true, forward_for: [HOP] }, 'ff.topic', ['x']]);
    const ev = await b.waitFor((m) => m[0] === T.EVENT);
    const d = ev[3] as Record<string, unknown>;
    assert.equal(d.publisher, 123);
    assert.equal(d.publisher_authid, 'origin');
    assert.equal(d.publisher_authrole, 'user');
    assert.deepEqual((d.forward_for as unknown[])[0], HOP);
    assert.equal((d.forward_for as { session: number }[])[1]!.session, aId);
  });

  it('an undisclosed forwarded publication shows neither publisher nor forward_for', async () => {
    a.send([T.PUBLISH, 3, { acknowledge: true, forward_for: [HOP] }, 'ff.topic', ['y']]);
    const ev = await b.waitFor((m) => m[0] === T.EVENT && (m[4] as unknown[])[0] === 'y');
    assert.deepEqual(ev[3], {});
  });

  it('an INVOCATION of a disclosed forwarded call names the first hop as caller and lists the hops', async () => {
    b.send([T.REGISTER, 4, {}, 'ff.proc']);
    await b.waitFor((m) => m[0] === T.REGISTERED);
    a.send([T.CALL, 5, { disclose_me: true, forward_for: [HOP, { session: 7, authid: 'link', authrole: 'trusted' }] }, 'ff.proc', [1]]);
    const inv = await b.waitFor((m) => m[0] === T.INVOCATION);
    const d = inv[3] as Record<string, unknown>;
    assert.equal(d.caller, 123);
    assert.equal(d.caller_authid, 'origin');
    const ff = d.forward_for as { session: number }[];
    assert.deepEqual(ff.map((h) => h.session), [123, 7, aId]);
    b.send([T.YIELD, inv[1], {}, ['ok']]);
    const res = await a.waitFor((m) => m[0] === T.RESULT && m[1] === 5);
    assert.deepEqual(res[3], ['ok']);
  });

  for (const [what, ff] of [
    ['not a list', { session: 1 }],
    ['an empty list', []],
    ['a hop without an integer session', [{ session: 'x', authid: 'a', authrole: 'r' }]],
    ['a hop without authid', [{ session: 1, authrole: 'r' }]],
    ['17 hops', Array.from({ length: 17 }, (_, i) => ({ session: i + 1, authid: 'a', authrole: 'r' }))],
  ] as const) {
    it(`refuses forward_for that is ${what}, on PUBLISH and CALL, and the session carries on`, async () => {
      const pubReq = a.nextRequest();
      a.send([T.PUBLISH, pubReq, { acknowledge: true, forward_for: ff }, 'ff.topic', []]);
      const perr = await a.waitFor((m) => m[0] === T.ERROR && m[2] === pubReq);
      assert.equal(perr[4], 'wamp.error.invalid_argument');
      const callReq = a.nextRequest();
      a.send([T.CALL, callReq, { forward_for: ff }, 'ff.proc', []]);
      const cerr = await a.waitFor((m) => m[0] === T.ERROR && m[2] === callReq);
      assert.equal(cerr[4], 'wamp.error.invalid_argument');
      const ok = a.nextRequest();
      a.send([T.PUBLISH, ok, { acknowledge: true }, 'ff.topic', []]);
      await a.waitFor((m) => m[0] === T.PUBLISHED && m[1] === ok);
    });
  }
});
