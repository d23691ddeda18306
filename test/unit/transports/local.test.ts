/**
 * The in-process connection pair: what the router sends reaches the client as its MessagePack
 * round trip decodes it; a control message of plain values (PUBLISHED per HTTP bridge request)
 * gets there without being encoded, anything else through the round trip.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Outgoing } from '../../../src/connection/outgoing.js';
import { serializerById } from '../../../src/serializers/index.js';
import { localConnectionPair } from '../../../src/transports/local.js';

const msgpack = serializerById('msgpack')!;

function received(messages: readonly unknown[][]): Promise<{ got: unknown[]; encodes: number }> {
  let encodes = 0;
  const counting = { ...msgpack, encode: (m: readonly unknown[]) => (encodes++, msgpack.encode(m)) } as typeof msgpack;
  const { router, client } = localConnectionPair('test');
  const got: unknown[] = [];
  return new Promise((resolve) => {
    client.onMessage((m) => {
      got.push(m);
      if (got.length === messages.length) resolve({ got, encodes });
    });
    for (const m of messages) router.send(Outgoing.encodedOnDemand(counting, m), false);
  });
}

describe('in-process connection', () => {
  it('hands a message of integers, booleans, null and strings over as a copy, never encoded', async () => {
    const published = [17, 7, 2 ** 53 - 1];
    const welcome = [2, 123, 'x', true, null];
    const { got, encodes } = await received([published, welcome]);
    assert.equal(encodes, 0);
    assert.deepEqual(got, [published, welcome]);
    assert.notEqual(got[0], published, 'a copy');
  });

  it('sends anything else through the MessagePack round trip', async () => {
    const messages = [[36, 1, 2, { a: undefined }, [new Uint8Array([1])]], [17, 7, 2 ** 53], [17, 7, -0], [50, 1, {}, [[1]]]];
    const { got, encodes } = await received(messages);
    assert.equal(encodes, messages.length);
    assert.deepEqual(got, messages.map((m) => msgpack.decode(msgpack.encode(m))));
  });
});
