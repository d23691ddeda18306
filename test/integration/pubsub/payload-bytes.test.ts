/**
 * A publication's Arguments and ArgumentsKw reach subscribers on the publisher's serializer as the
 * bytes they came in (JSON here: number forms and spacing a re-encoding would change arrive
 * unchanged, whatever the EVENT's details), and subscribers on other serializers as equal values.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { startNode, type TestNode } from '../../helpers/node.js';
import { Code, RawSocketClient, RawWsClient } from '../../helpers/raw-wamp.js';
import type { SerializerId } from '../../../src/serializers/serializer.js';

const PAYLOAD_TEXT = '[1.50, "a,]\\"b", "\\u0000AQID"] , {"z" : 2.0e0}';

describe('pub/sub payload bytes', () => {
  let t: TestNode;
  let url: string;
  before(async () => {
    t = await startNode();
    // One node even in a cluster run (across nodes: test/cluster/payload-passthrough.test.ts).
    url = `ws://127.0.0.1:${t.node.port('web')}/ws`;
  });
  after(() => t.stop());

  it('gives JSON subscribers the published payload bytes, exact and prefix subscriptions alike', async () => {
    const exact = await RawWsClient.open(url);
    await exact.hello();
    await exact.subscribe('com.bytes.topic');
    const prefix = await RawWsClient.open(url);
    await prefix.hello();
    await prefix.subscribe('com.bytes', { match: 'prefix' });
    const packed = await RawWsClient.open(url, { serializer: 'msgpack' });
    await packed.hello();
    await packed.subscribe('com.bytes.topic');
    const exactTexts = exact.recordTexts();
    const prefixTexts = prefix.recordTexts();
    const publisher = await RawWsClient.open(url);
    await publisher.hello();
    publisher.sendBytes(`[${Code.PUBLISH}, 1, {"disclose_me": true}, "com.bytes.topic", ${PAYLOAD_TEXT}]`, false);
    const values = [[1.5, 'a,]"b', Buffer.from([1, 2, 3])], { z: 2 }];
    assert.deepEqual((await exact.waitFor((m) => m[0] === Code.EVENT)).slice(4), values);
    assert.deepEqual((await prefix.waitFor((m) => m[0] === Code.EVENT)).slice(4), values);
    assert.deepEqual((await packed.waitFor((m) => m[0] === Code.EVENT)).slice(4), values);
    for (const text of [exactTexts.find((x) => x.startsWith('[36,')), prefixTexts.find((x) => x.startsWith('[36,'))]) {
      assert.ok(text?.endsWith(`},${PAYLOAD_TEXT}]`), text);
    }
    assert.match(prefixTexts.find((x) => x.startsWith('[36,'))!, /"topic":"com\.bytes\.topic"/);
    await Promise.all([exact.goodbye(), prefix.goodbye(), packed.goodbye(), publisher.goodbye()]);
  });

  // Above 64 KiB the payload is written as a view of the publisher's message (not copied).
  for (const id of ['msgpack', 'cbor', 'json'] as const satisfies readonly SerializerId[]) {
    it(`passes a 300 KiB binary payload published in ${id} to subscribers of every serializer and transport`, async () => {
      const bytes = Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => (i * 31 + 7) & 255));
      const subscribers = await Promise.all([
        ...(['msgpack', 'cbor', 'json'] as const).map((serializer) => RawWsClient.open(url, { serializer })),
        RawSocketClient.open(t.node.port('rawsocket'), { serializer: id }),
      ]);
      for (const c of subscribers) {
        await c.hello();
        await c.subscribe('com.bytes.large');
      }
      const sameTexts = subscribers[2]!.recordTexts();
      const publisher = await RawWsClient.open(url, { serializer: id });
      await publisher.hello();
      publisher.publish('com.bytes.large', [bytes, 'tail'], {});
      // One binary value alone: the form a JSON message of it is decoded the fast way (json-bulk.ts).
      publisher.publish('com.bytes.large', [bytes], {});
      publisher.publish('com.bytes.large', ['small'], {});
      for (const c of subscribers) {
        const event = await c.waitFor((m) => m[0] === Code.EVENT);
        assert.equal(event.length, 5, `${c.serializer.id}: EVENT with Arguments only`);
        assert.deepEqual(event[4], [bytes, 'tail'], `${c.serializer.id} subscriber`);
        assert.deepEqual((await c.waitFor((m) => m[0] === Code.EVENT))[4], [bytes], `${c.serializer.id} subscriber, one value`);
        assert.deepEqual((await c.waitFor((m) => m[0] === Code.EVENT))[4], ['small'], `${c.serializer.id}: the next event in order`);
      }
      if (id === 'json') {
        const text = sameTexts.find((x) => x.startsWith('[36,'));
        assert.ok(text?.endsWith(`,{},["\\u0000${bytes.toString('base64')}","tail"]]`), 'the JSON subscriber gets the published text');
        const alone = sameTexts.filter((x) => x.startsWith('[36,'))[1];
        assert.ok(alone?.endsWith(`,{},["\\u0000${bytes.toString('base64')}"]]`), 'and the one value as published');
      }
      await Promise.all([...subscribers, publisher].map((c) => c.goodbye()));
    });
  }
});
