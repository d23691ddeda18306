/**
 * Graceful shutdown in-process: node.stop() sends every connected session GOODBYE
 * wamp.close.system_shutdown, closes the connections and resolves, also when a client never
 * answers the GOODBYE. This file's node is stopped by the test itself.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { startNode, type TestNode } from '../../helpers/node.js';
import { LIMIT, RawWamp, W } from './support.js';

/** Resolves with the details Autobahn|JS hands to onclose. */
function closeDetails(client: AutobahnClient): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const helperOnclose = client.connection.onclose;
    client.connection.onclose = (reason, details) => {
      resolve(details);
      return helperOnclose(reason, details);
    };
  });
}

describe('graceful shutdown', () => {
  let node: TestNode;
  let stopped = false;
  const clients: AutobahnClient[] = [];
  const raws: RawWamp[] = [];

  before(async () => {
    node = await startNode();
  }, LIMIT);

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(raws.map((r) => r.close()));
    if (!stopped) await node?.stop();
  }, LIMIT);

  it('sends every session GOODBYE wamp.close.system_shutdown, closes every connection and resolves', LIMIT, async () => {
    for (const o of [{ serializer: 'json' as const }, { serializer: 'msgpack' as const }, { serializer: 'cbor' as const }, { rawsocketPort: node.rawPort }]) {
      clients.push(await connectAutobahn(node.wsUrl, o));
    }
    await clients[0]!.session.subscribe('shutdown.topic', () => {});
    const autobahnClosed = clients.map(closeDetails);
    const polite = await RawWamp.join(node.wsUrl);
    const silent = await RawWamp.join(node.wsUrl);
    raws.push(polite, silent);
    const handshaking = await RawWamp.connect(node.wsUrl);
    raws.push(handshaking);

    const stopping = node.stop().then(() => {
      stopped = true;
    });
    const goodbye = await polite.next();
    assert.equal(goodbye[0], W.GOODBYE);
    assert.equal(goodbye[2], 'wamp.close.system_shutdown');
    polite.send([W.GOODBYE, {}, 'wamp.close.goodbye_and_out']);
    await polite.closed;
    // `silent` never answers; the router closes it after a short wait.
    const unanswered = await silent.next();
    assert.deepEqual([unanswered[0], unanswered[2]], [W.GOODBYE, 'wamp.close.system_shutdown']);

    await stopping;
    for (const [i, details] of (await Promise.all(autobahnClosed)).entries()) {
      assert.equal(details.reason, 'wamp.close.system_shutdown', `Autobahn|JS client ${i}`);
    }
    await silent.closed;
    await handshaking.closed;
    assert.equal(node.node.router.connectionCount, 0);
  });

  it('accepts no connections once stopped', LIMIT, async () => {
    assert.ok(stopped);
    const port = node.rawPort;
    await assert.rejects(new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(undefined);
      });
      s.once('error', reject);
    }), { code: 'ECONNREFUSED' });
    await assert.rejects(RawWamp.connect(node.wsUrl), { code: 'ECONNREFUSED' });
  });
});
