/**
 * Every PUBLISH option the broker announces: acknowledge, exclude_me, exclude / eligible (by
 * session id, authid and authrole) and disclose_me. Sessions with two different authroles come
 * from two WebSocket transports: the test node's own (role "anonymous") and a second one whose
 * anonymous auth hands out role "other".
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type autobahn from 'autobahn';
import type { Wampy } from 'wampy';
import type { TransportConfig } from '../../../src/config/types.js';
import { connectAutobahn, connectWampy, type AutobahnClient } from '../../helpers/clients.js';
import { ALLOW_ALL, realm, SESSION_DEFAULTS, startNode, type TestNode } from '../../helpers/node.js';
import { autobahnInbox, Inbox, LIMIT, RawWamp, type ReceivedEvent, W, wampyInbox } from './support.js';

const TOPIC = 'options.topic';

const OTHER_ROLE_TRANSPORT: TransportConfig = {
  type: 'web', id: 'web-other', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 },
  paths: new Map([['ws', {
    type: 'websocket', ...SESSION_DEFAULTS, autoPingInterval: 0, autoPingTimeout: 10_000,
    auth: { anonymous: { type: 'static', role: 'other' } },
  }]]),
};

/** A subscribed session under a short name. */
interface Party {
  readonly name: string;
  readonly id: number;
  readonly inbox: Inbox<ReceivedEvent>;
}

describe('PUBLISH options', () => {
  let node: TestNode;
  let otherUrl: string;
  // pub, a: role anonymous (Autobahn json, msgpack); b: role anonymous (wampy cbor);
  // c: role other (Autobahn cbor); d: role other (wampy json).
  let pubClient: AutobahnClient;
  let aClient: AutobahnClient;
  let bClient: Wampy;
  let cClient: AutobahnClient;
  let dClient: Wampy;
  let pub: Party, a: Party, b: Party, c: Party, d: Party;
  let all: Party[];
  let seq = 0;

  before(async () => {
    node = await startNode({
      realms: [realm('realm1', [{ name: 'anonymous', permissions: [ALLOW_ALL] }, { name: 'other', permissions: [ALLOW_ALL] }])],
      extraTransports: [OTHER_ROLE_TRANSPORT],
    });
    otherUrl = `ws://127.0.0.1:${node.node.addresses.find((x) => x.transport === 'web-other')!.port}/ws`;
    pubClient = await connectAutobahn(node.wsUrl, { serializer: 'json' });
    aClient = await connectAutobahn(node.wsUrl, { serializer: 'msgpack' });
    bClient = await connectWampy(node.wsUrl, 'cbor');
    cClient = await connectAutobahn(otherUrl, { serializer: 'cbor' });
    dClient = await connectWampy(otherUrl, 'json');
    const ab = async (name: string, x: AutobahnClient): Promise<Party> =>
      ({ name, id: x.session.id, inbox: (await autobahnInbox(x.session, TOPIC)).inbox });
    const wy = async (name: string, x: Wampy): Promise<Party> =>
      ({ name, id: x.getSessionId()!, inbox: (await wampyInbox(x, TOPIC)).inbox });
    pub = await ab('pub', pubClient);
    a = await ab('a', aClient);
    b = await wy('b', bClient);
    c = await ab('c', cClient);
    d = await wy('d', dClient);
    all = [pub, a, b, c, d];
  }, LIMIT);

  after(async () => {
    await Promise.all([pubClient, aClient, cClient].map((x) => x?.close()));
    await Promise.all([bClient, dClient].map((x) => x?.disconnect()));
    await node?.stop();
  }, LIMIT);

  const authid = (x: AutobahnClient): string => x.details.authid as string;

  /**
   * Publishes a probe with `options` from `pub`, then a marker that reaches everyone (pub
   * included), and returns who saw the probe before the marker.
   */
  async function whoGets(options: autobahn.PublishOptions): Promise<string[]> {
    const n = ++seq;
    void pubClient.session.publish(TOPIC, ['probe', n], {}, options);
    await pubClient.session.publish(TOPIC, ['marker', n], {}, { exclude_me: false, acknowledge: true });
    return receivedProbe(all, n);
  }

  async function receivedProbe(among: Party[], n: number): Promise<string[]> {
    const got: string[] = [];
    for (const p of among) {
      let ev = await p.inbox.next(5000, `event at ${p.name}`);
      if (ev.args[0] === 'probe') {
        assert.equal(ev.args[1], n, `${p.name} got a probe from another test`);
        got.push(p.name);
        ev = await p.inbox.next(5000, `marker at ${p.name}`);
      }
      assert.deepEqual(ev.args, ['marker', n], `${p.name}: expected the marker`);
    }
    return got;
  }

  describe('acknowledge', () => {
    it('answers an acknowledged publish with PUBLISHED whose publication id subscribers see in EVENT', LIMIT, async () => {
      const publication = await pubClient.session.publish(TOPIC, ['acked'], {}, { acknowledge: true });
      assert.ok(publication, 'PUBLISHED');
      assert.ok(Number.isInteger(publication.id) && publication.id >= 1 && publication.id <= 2 ** 53, `publication id ${publication.id}`);
      for (const p of [a, b, c, d]) {
        const ev = await p.inbox.next();
        assert.deepEqual(ev.args, ['acked']);
        // wampy does not pass EVENT.Publication to its handlers.
        if (p === a || p === c) assert.equal(ev.details.publication, publication.id, `publication id seen by ${p.name}`);
      }
    });

    it('sends no PUBLISHED for a publish without acknowledge', LIMIT, async () => {
      const raw = await RawWamp.join(node.wsUrl);
      try {
        raw.send([W.PUBLISH, 1, {}, 'options.raw']);
        raw.send([W.PUBLISH, 2, { acknowledge: false }, 'options.raw', ['x']]);
        raw.send([W.PUBLISH, 3, { acknowledge: true }, 'options.raw']);
        const reply = await raw.next();
        assert.equal(reply[0], W.PUBLISHED);
        assert.equal(reply[1], 3, 'the first reply answers the acknowledged publish');
        assert.ok(Number.isInteger(reply[2]) && (reply[2] as number) >= 1, 'publication id');
        assert.equal(raw.inbox.pending.length, 0);
        // The id in PUBLISHED is the one the event carries, here to the publisher itself.
        const sub = await raw.subscribed('options.raw');
        raw.send([W.PUBLISH, 4, { acknowledge: true, exclude_me: false }, 'options.raw', ['self']]);
        const both = [await raw.next(), await raw.next()];
        const event = both.find((m) => m[0] === W.EVENT)!;
        const published = both.find((m) => m[0] === W.PUBLISHED)!;
        assert.deepEqual(event, [W.EVENT, sub, published[2], {}, ['self']]);
        assert.equal(published[1], 4);
      } finally {
        await raw.close();
      }
    });
  });

  describe('exclude_me', () => {
    it('does not send an event back to its subscribed publisher by default', LIMIT, async () => {
      assert.deepEqual(await whoGets({}), ['a', 'b', 'c', 'd']);
    });

    it('sends the event back to the publisher with exclude_me: false', LIMIT, async () => {
      assert.deepEqual(await whoGets({ exclude_me: false }), ['pub', 'a', 'b', 'c', 'd']);
    });

    it('does not send the event back with exclude_me: true', LIMIT, async () => {
      assert.deepEqual(await whoGets({ exclude_me: true }), ['a', 'b', 'c', 'd']);
    });
  });

  describe('exclude and eligible by session id', () => {
    it('skips the sessions listed in exclude', LIMIT, async () => {
      assert.deepEqual(await whoGets({ exclude: [a.id, d.id] }), ['b', 'c']);
    });

    it('delivers only to the sessions listed in eligible', LIMIT, async () => {
      assert.deepEqual(await whoGets({ eligible: [a.id, c.id] }), ['a', 'c']);
    });

    it('lets exclude win over eligible', LIMIT, async () => {
      assert.deepEqual(await whoGets({ eligible: [a.id, b.id], exclude: [b.id] }), ['a']);
    });

    it('delivers to the publisher when it is eligible and exclude_me is false', LIMIT, async () => {
      assert.deepEqual(await whoGets({ eligible: [pub.id], exclude_me: false }), ['pub']);
    });

    it('delivers to nobody when no subscriber is eligible', LIMIT, async () => {
      assert.deepEqual(await whoGets({ eligible: [2 ** 53] }), []);
    });
  });

  describe('exclude and eligible by authid and authrole', () => {
    it('skips the sessions whose authid is listed in exclude_authid', LIMIT, async () => {
      assert.deepEqual(await whoGets({ exclude_authid: [authid(aClient), authid(cClient)] }), ['b', 'd']);
    });

    it('skips the sessions whose authrole is listed in exclude_authrole', LIMIT, async () => {
      assert.deepEqual(await whoGets({ exclude_authrole: ['other'] }), ['a', 'b']);
    });

    it('delivers only to the sessions whose authid is listed in eligible_authid', LIMIT, async () => {
      assert.deepEqual(await whoGets({ eligible_authid: [authid(aClient), authid(cClient)] }), ['a', 'c']);
    });

    it('delivers only to the sessions whose authrole is listed in eligible_authrole', LIMIT, async () => {
      assert.deepEqual(await whoGets({ eligible_authrole: ['other'] }), ['c', 'd']);
    });

    it('delivers only to receivers that every given filter admits', LIMIT, async () => {
      const got = await whoGets({ exclude_me: false, eligible_authrole: ['anonymous'], exclude_authid: [authid(aClient)] });
      assert.deepEqual(got, ['pub', 'b']);
      assert.deepEqual(await whoGets({ eligible: [a.id, c.id, d.id], exclude_authrole: ['anonymous'], exclude: [d.id] }), ['c']);
    });

    it('applies the filters a wampy publisher sends over CBOR', LIMIT, async () => {
      const n = ++seq;
      void bClient.publish(TOPIC, ['probe', n], { eligible_authrole: 'other', exclude: [d.id] });
      await bClient.publish(TOPIC, ['marker', n]);
      // wampy cannot send exclude_me: false, so b hears neither its probe nor its marker.
      assert.deepEqual(await receivedProbe([pub, a, c, d], n), ['c']);
    });
  });

  describe('disclose_me', () => {
    it('discloses the publisher session id, authid and authrole in EVENT.Details with disclose_me', LIMIT, async () => {
      await pubClient.session.publish(TOPIC, ['disclosed'], {}, { disclose_me: true, acknowledge: true });
      for (const p of [a, b, c, d]) {
        const ev = await p.inbox.next();
        assert.deepEqual(ev.args, ['disclosed']);
        assert.equal(ev.details.publisher, pub.id, `publisher at ${p.name}`);
        assert.equal(ev.details.publisher_authid, authid(pubClient), `publisher_authid at ${p.name}`);
        assert.equal(ev.details.publisher_authrole, 'anonymous', `publisher_authrole at ${p.name}`);
      }
      await cClient.session.publish(TOPIC, ['disclosed by other'], {}, { disclose_me: true, exclude_me: false, acknowledge: true });
      for (const p of all) {
        const ev = await p.inbox.next();
        assert.deepEqual(ev.args, ['disclosed by other']);
        assert.equal(ev.details.publisher, c.id, `publisher at ${p.name}`);
        assert.equal(ev.details.publisher_authid, authid(cClient), `publisher_authid at ${p.name}`);
        assert.equal(ev.details.publisher_authrole, 'other', `publisher_authrole at ${p.name}`);
      }
    });

    it('leaves the publisher out of EVENT.Details without disclose_me', LIMIT, async () => {
      await pubClient.session.publish(TOPIC, ['anonymous'], {}, { acknowledge: true });
      await pubClient.session.publish(TOPIC, ['not disclosed'], {}, { disclose_me: false, acknowledge: true });
      for (const p of [a, b, c, d]) {
        for (const text of ['anonymous', 'not disclosed']) {
          const ev = await p.inbox.next();
          assert.deepEqual(ev.args, [text]);
          // wampy hands over the wire's Details; Autobahn sets the fields to undefined when absent.
          for (const key of ['publisher', 'publisher_authid', 'publisher_authrole']) {
            assert.equal(ev.details[key], undefined, `${key} at ${p.name} (${text})`);
            if (p === b || p === d) assert.ok(!(key in ev.details), `${key} on the wire at ${p.name} (${text})`);
          }
        }
      }
    });
  });
});
