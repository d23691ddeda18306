/**
 * Payload passthrough across nodes (issue 17 point 6): a publication's Arguments and ArgumentsKw
 * cross NATS as the publisher's serializer encoded them; subscribers on another node with the
 * same serializer get those bytes (JSON number forms and spacing a re-encoding would change
 * arrive unchanged), subscribers there on another serializer get equal values.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, before, describe, it } from 'node:test';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { Code, RawWsClient } from '../helpers/raw-wamp.js';

const JSON_PAYLOAD = '[1.50, "a,]\\"b", "\\u0000AQID"] , {"z" : 2.0e0}';
const VALUES = [[1.5, 'a,]"b', Buffer.from([1, 2, 3])], { z: 2 }];

describe('payload bytes across nodes', { timeout: 60_000 }, () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster(2);
  }, { timeout: 30_000 });
  after(() => c.stop());

  async function subscriber(url: string, serializer: 'json' | 'msgpack' | 'cbor', topic: string): Promise<RawWsClient> {
    const s = await RawWsClient.open(url, { serializer });
    await s.hello();
    await s.subscribe(topic);
    return s;
  }

  it('gives JSON subscribers on another node the JSON publisher\'s bytes, and msgpack and CBOR ones equal values', async () => {
    const json = await subscriber(c.urls[1]!, 'json', 'com.pass.json');
    const packed = await subscriber(c.urls[1]!, 'msgpack', 'com.pass.json');
    const cbor = await subscriber(c.urls[1]!, 'cbor', 'com.pass.json');
    const texts = json.recordTexts();
    const publisher = await RawWsClient.open(c.urls[0]!);
    await publisher.hello();
    publisher.sendBytes(`[${Code.PUBLISH}, 1, {"acknowledge": true}, "com.pass.json", ${JSON_PAYLOAD}]`, false);
    await publisher.waitFor((m) => m[0] === Code.PUBLISHED);
    for (const s of [json, packed, cbor]) assert.deepEqual((await s.waitFor((m) => m[0] === Code.EVENT)).slice(4), VALUES);
    const event = texts.find((x) => x.startsWith('[36,'));
    assert.ok(event?.endsWith(`},${JSON_PAYLOAD}]`), `the publisher's bytes, not a re-encoding: ${event}`);
    await Promise.all([json, packed, cbor, publisher].map((x) => x.goodbye()));
  });

  it('passes a msgpack publication with Arguments only, and one with neither, to every serializer', async () => {
    const json = await subscriber(c.urls[1]!, 'json', 'com.pass.packed');
    const packed = await subscriber(c.urls[1]!, 'msgpack', 'com.pass.packed');
    const publisher = await RawWsClient.open(c.urls[0]!, { serializer: 'msgpack' });
    await publisher.hello();
    publisher.send([Code.PUBLISH, 1, { acknowledge: true }, 'com.pass.packed', [1, 'two', { three: 3 }]]);
    publisher.send([Code.PUBLISH, 2, { acknowledge: true }, 'com.pass.packed']);
    await publisher.waitFor((m) => m[0] === Code.PUBLISHED && m[1] === 2);
    for (const s of [json, packed]) {
      const first = await s.waitFor((m) => m[0] === Code.EVENT);
      assert.deepEqual(first.slice(4), [[1, 'two', { three: 3 }]]);
      const second = await s.waitFor((m) => m[0] === Code.EVENT);
      assert.equal(second.length, 4, 'no Arguments element when none was published');
    }
    await Promise.all([json, packed, publisher].map((x) => x.goodbye()));
  });
});
