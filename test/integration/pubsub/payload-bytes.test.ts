/**
 * A publication's Arguments and ArgumentsKw reach subscribers on the publisher's serializer as the
 * bytes they came in (JSON here: number forms and spacing a re-encoding would change arrive
 * unchanged, whatever the EVENT's details), and subscribers on other serializers as equal values.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { startNode, type TestNode } from '../../helpers/node.js';
import { Code, RawWsClient } from '../../helpers/raw-wamp.js';

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
});
