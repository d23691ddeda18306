/**
 * Text passes through unchanged or not at all. A message with a string no serializer may emit —
 * a lone surrogate from JSON ("\ud800x"), a MessagePack or CBOR string that is not UTF-8 — is
 * refused with ERROR `wamp.error.invalid_argument` to its sender (a callee's answer: to the
 * caller), and Autobahn|Python subscribers on MessagePack and CBOR never see it and stay
 * connected. A `__proto__` key reaches them as `__proto__`, and nothing pollutes a prototype.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import autobahn from 'autobahn';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { startNode, type TestNode } from '../../helpers/node.js';
import { PythonSubscriber } from '../../helpers/python-subscriber.js';
import { RawWsClient } from '../../helpers/raw-wamp.js';
import { serializerById } from '../../../src/serializers/index.js';

const INVALID = 'wamp.error.invalid_argument';
const PROTO_KWARGS = '{"__proto__": {"polluted": "yes"}, "__proto_": 2, "k": 3}';

/** `message` encoded with `serializer`, its 4-byte string "XXXX" replaced by bytes that are not UTF-8. */
function withInvalidUtf8(serializer: 'msgpack' | 'cbor', message: unknown[]): Buffer {
  const bytes = Buffer.from(serializerById(serializer)!.encode(message));
  const at = bytes.indexOf('XXXX');
  Buffer.from([0xed, 0xa0, 0x80, 0x78]).copy(bytes, at); // a UTF-16 surrogate written as UTF-8
  return bytes;
}

describe('text fidelity', () => {
  let t: TestNode;
  let subs: PythonSubscriber[];
  let json: AutobahnClient;

  before(async () => {
    t = await startNode();
    subs = await Promise.all([
      PythonSubscriber.start(t.wsUrl, 'msgpack', 'com.text.t'),
      PythonSubscriber.start(t.wsUrl, 'cbor', 'com.text.t'),
      PythonSubscriber.start(t.wsUrl, 'msgpack', 'com.text.proto'),
      PythonSubscriber.start(t.wsUrl, 'cbor', 'com.text.proto'),
    ]);
    json = await connectAutobahn(t.wsUrl, { serializer: 'json' });
  });

  after(async () => {
    await json.close();
    await Promise.all(subs.map((s) => s.stop()));
    await t.stop();
  });

  /** Publishes a valid event and waits for both text subscribers to get it: they are alive and got nothing else. */
  async function stillFine(marker: string): Promise<void> {
    await json.session.publish('com.text.t', [marker, '\u{1F600}'], {}, { acknowledge: true });
    for (const s of subs.slice(0, 2)) {
      await s.until(() => s.events.some((e) => e.args[0] === marker), `the event "${marker}"`);
      assert.equal(s.ended, undefined);
    }
    // Nothing but the markers reached them: no refused event, no replacement of its text.
    for (const s of subs.slice(0, 2)) assert.ok(s.events.every((e) => /^(after|ok)-/.test(String(e.args[0]))), JSON.stringify(s.events));
  }

  it('refuses a JSON publication with a lone surrogate (Autobahn|JS); binary subscribers stay connected', async () => {
    await assert.rejects(json.session.publish('com.text.t', ['\ud800x'], {}, { acknowledge: true })!, (e: autobahn.Error) => {
      assert.equal(e.error, INVALID);
      assert.match(String(e.args[0]), /lone UTF-16 surrogate/);
      return true;
    });
    await assert.rejects(json.session.publish('com.text.t', [], { '\udc00': 1 }, { acknowledge: true })!, (e: autobahn.Error) => e.error === INVALID);
    // Unacknowledged: refused without an answer (an ERROR would end an Autobahn|JS session).
    json.session.publish('com.text.t', ['\ud800x']);
    await stillFine('after-json');
    for (const s of subs.slice(0, 2)) assert.deepEqual(s.events.map((e) => e.args), [['after-json', '\u{1F600}']]);
  });

  for (const serializer of ['msgpack', 'cbor'] as const) {
    it(`refuses a ${serializer} publication whose string is not UTF-8, naming it`, async () => {
      const c = await RawWsClient.open(t.wsUrl, { serializer });
      await c.hello();
      c.sendBytes(withInvalidUtf8(serializer, [16, 7, { acknowledge: true }, 'com.text.t', ['XXXX']]));
      const error = await c.waitFor((m) => m[0] === 8);
      assert.deepEqual(error.slice(0, 2).concat(error.slice(4, 5)), [8, 16, INVALID]);
      assert.equal(error[2], 7);
      assert.match(String((error[5] as unknown[])[0]), new RegExp(`${serializer === 'cbor' ? 'CBOR' : 'MessagePack'} message has a string that is not valid UTF-8`));
      // The session goes on.
      c.send([16, 8, { acknowledge: true }, 'com.text.t', [`after-${serializer}`]]);
      assert.equal((await c.waitFor((m) => m[0] === 17))[1], 8);
      c.destroy();
      await stillFine(`ok-${serializer}`);
    });
  }

  it('ends a call whose callee answers with a lone surrogate with ERROR to the caller; the callee stays', async () => {
    const callee = await connectAutobahn(t.wsUrl, { serializer: 'json' });
    await callee.session.register('com.text.echo', (args) => args![0] as string);
    // Half of a surrogate pair: what cutting a string at a fixed length can leave.
    await callee.session.register('com.text.cut', (args) => (args![0] as string).slice(0, 1));
    const caller = await connectAutobahn(t.wsUrl, { serializer: 'msgpack' });
    await assert.rejects(caller.session.call('com.text.cut', ['\u{1F600}']), (e: autobahn.Error) => {
      assert.equal(e.error, INVALID);
      assert.match(String(e.args[0]), /^the callee's answer could not be passed on: JSON message has a string with a lone UTF-16 surrogate/);
      return true;
    });
    // The caller's CALL itself may not carry one either.
    await assert.rejects(json.session.call('com.text.echo', ['\udfff']), (e: autobahn.Error) => e.error === INVALID);
    assert.equal(await caller.session.call('com.text.echo', ['fine']), 'fine');
    await Promise.all([callee.close(), caller.close()]);
  });

  it('passes a "__proto__" key to MessagePack and CBOR subscribers unchanged, from every serializer', async () => {
    await json.session.publish('com.text.proto', [], JSON.parse(PROTO_KWARGS) as Record<string, unknown>, { acknowledge: true });
    for (const serializer of ['msgpack', 'cbor'] as const) {
      const c = await RawWsClient.open(t.wsUrl, { serializer });
      await c.hello();
      c.send([16, 3, { acknowledge: true }, 'com.text.proto', [], JSON.parse(PROTO_KWARGS)]);
      await c.waitFor((m) => m[0] === 17);
      c.destroy();
    }
    for (const s of subs.slice(2)) {
      await s.until(() => s.events.length === 3, 'three events');
      for (const e of s.events) assert.deepEqual(e.kwargs, JSON.parse(PROTO_KWARGS));
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });
});
