/**
 * Session lifecycle as a pub/sub client sees it: joining an unknown realm (ABORT
 * wamp.error.no_such_realm), leaving (GOODBYE answered by GOODBYE wamp.close.goodbye_and_out,
 * subscriptions dropped), and the protocol violations that end a session during the handshake.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { startNode, type TestNode } from '../../helpers/node.js';
import { autobahnInbox, LIMIT, RawWamp, W } from './support.js';

describe('session lifecycle around publish/subscribe', () => {
  let node: TestNode;
  let pub: AutobahnClient;

  before(async () => {
    node = await startNode();
    pub = await connectAutobahn(node.wsUrl, { serializer: 'json' });
  }, LIMIT);

  after(async () => {
    await pub?.close();
    await node?.stop();
  }, LIMIT);

  /** Distinct subscriptions on every node (a cluster run spreads sessions over nodes; ids are cluster-wide). */
  const subscriptionCount = () => new Set(node.nodes.flatMap((x) => [...x.router.realm('realm1')!.broker.subscriptions()].map((s) => s.id))).size;

  describe('joining', () => {
    it('answers HELLO for an unknown realm with ABORT wamp.error.no_such_realm and closes', LIMIT, async () => {
      const raw = await RawWamp.connect(node.wsUrl);
      const abort = await raw.hello('no.such.realm');
      assert.equal(abort[0], W.ABORT);
      assert.equal(abort[2], 'wamp.error.no_such_realm');
      assert.equal(typeof (abort[1] as { message?: unknown }).message, 'string', 'ABORT.Details.message');
      await raw.closed;
    });

    it('reports wamp.error.no_such_realm to Autobahn|JS as the close reason', LIMIT, async () => {
      for (const serializer of ['json', 'cbor'] as const) {
        await assert.rejects(connectAutobahn(node.wsUrl, { serializer, realm: 'no.such.realm' }), (e: { details?: { reason?: unknown } }) => {
          assert.equal(e.details?.reason, 'wamp.error.no_such_realm');
          return true;
        });
      }
      await assert.rejects(connectAutobahn(node.wsUrl, { rawsocketPort: node.rawPort, realm: 'no.such.realm' }), (e: { details?: { reason?: unknown } }) => {
        assert.equal(e.details?.reason, 'wamp.error.no_such_realm');
        return true;
      });
    });

    it('aborts a session that publishes before HELLO with wamp.error.protocol_violation', LIMIT, async () => {
      const raw = await RawWamp.connect(node.wsUrl);
      raw.send([W.PUBLISH, 1, { acknowledge: true }, 'life.early']);
      const abort = await raw.next();
      assert.deepEqual([abort[0], abort[2]], [W.ABORT, 'wamp.error.protocol_violation']);
      await raw.closed;
    });

    it('aborts a session that sends a second HELLO with wamp.error.protocol_violation', LIMIT, async () => {
      const raw = await RawWamp.join(node.wsUrl);
      const abort = await raw.hello('realm1');
      assert.deepEqual([abort[0], abort[2]], [W.ABORT, 'wamp.error.protocol_violation']);
      await raw.closed;
    });
  });

  describe('leaving', () => {
    it('answers GOODBYE with GOODBYE wamp.close.goodbye_and_out, then closes the connection', LIMIT, async () => {
      const raw = await RawWamp.join(node.wsUrl);
      raw.send([W.GOODBYE, {}, 'wamp.close.close_realm']);
      assert.deepEqual(await raw.next(), [W.GOODBYE, {}, 'wamp.close.goodbye_and_out']);
      const closed = await raw.closed;
      assert.equal(closed.code, 1000);
      assert.equal(raw.inbox.pending.length, 0);
    });

    it('tells Autobahn|JS wamp.close.goodbye_and_out when it leaves', LIMIT, async () => {
      for (const o of [{ serializer: 'msgpack' as const }, { rawsocketPort: node.rawPort }]) {
        const client = await connectAutobahn(node.wsUrl, o);
        const closeDetails = new Promise<Record<string, unknown>>((resolve) => {
          const helperOnclose = client.connection.onclose;
          client.connection.onclose = (reason, details) => {
            resolve(details);
            return helperOnclose(reason, details);
          };
        });
        await client.close();
        assert.equal((await closeDetails).reason, 'wamp.close.goodbye_and_out');
      }
    });

    it('drops the subscriptions of a session that leaves, and only those', LIMIT, async () => {
      const before = subscriptionCount();
      const leaving = await RawWamp.join(node.wsUrl);
      const staying = await connectAutobahn(node.wsUrl, { serializer: 'cbor' });
      try {
        const shared = await leaving.subscribed('life.shared');
        await leaving.subscribed('life.only.leaving', { match: 'prefix' });
        const { inbox, subscription } = await autobahnInbox(staying.session, 'life.shared');
        assert.equal(subscription.id, shared);
        assert.equal(subscriptionCount(), before + 2);
        leaving.send([W.GOODBYE, {}, 'wamp.close.close_realm']);
        assert.equal((await leaving.next())[0], W.GOODBYE);
        // The router left the realm before it answered GOODBYE.
        assert.equal(subscriptionCount(), before + 1, 'only the shared subscription remains');
        await pub.session.publish('life.shared', ['after leave'], {}, { acknowledge: true });
        assert.deepEqual((await inbox.next()).args, ['after leave']);
        await leaving.closed;
      } finally {
        await leaving.close();
        await staying.close();
      }
    });
  });
});
