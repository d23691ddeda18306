import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { Client, type RelayNode, startRelay } from './support.js';
import { eventually } from '../../helpers/eventually.js';

/** Resolves with the first `n` events of `topic` as [args, kwargs, details]. */
async function subscribe(c: AutobahnClient, topic: string, n: number, options: Record<string, unknown> = {}) {
  const events: [unknown[], unknown, Record<string, unknown>][] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  await c.session.subscribe(topic, (args, kwargs, details) => {
    events.push([args, kwargs, details as unknown as Record<string, unknown>]);
    if (events.length === n) done();
  }, options);
  return { events, all };
}

describe('relay ↔ WAMP bridge (Autobahn|JS on the WAMP side)', () => {
  let t: RelayNode;
  before(async () => {
    t = await startRelay({ bridge: { realm: 'realm1', prefix: 'xbar.relay' } });
  });
  after(() => t.stop());

  for (const serializer of ['json', 'msgpack', 'cbor'] as const) {
    it(`relay → WAMP (${serializer}): text arrives as a string argument, binary as bytes`, async () => {
      const wamp = await connectAutobahn(t.wampUrl, { serializer });
      const sub = await subscribe(wamp, `xbar.relay.demo-${serializer}`, 2);
      const a = await Client.open(`${t.base}/demo-${serializer}`);
      const b = await Client.open(`${t.base}/demo-${serializer}`);
      const bytes = randomBytes(5000);
      await a.send('{"temperature": 21.5}');
      await a.send(bytes, true);
      await sub.all;
      assert.deepEqual(sub.events[0]![0], ['{"temperature": 21.5}']);
      const got = sub.events[1]![0][0];
      if (serializer === 'json') {
        // Autobahn|JS hands JSON's binary form through undecoded: "\0" + base64 (WAMP spec, binary in JSON).
        assert.equal(got, `\0${bytes.toString('base64')}`);
      } else {
        assert.ok(got instanceof Uint8Array, `bytes, got ${typeof got}`);
        assert.equal(Buffer.from(got).toString('hex'), bytes.toString('hex'));
      }
      // The relay side is unchanged by the bridge.
      await b.waitFor(2);
      await Promise.all([a.close(), b.close(), wamp.close()]);
    });
  }

  it('WAMP → relay: a string becomes a text message, bytes a binary message, other values JSON text', async () => {
    const wamp = await connectAutobahn(t.wampUrl, { serializer: 'msgpack' });
    const viewers = await Promise.all([1, 2].map(() => Client.open(`${t.base}/from-wamp`)));
    await wamp.session.publish('xbar.relay.from-wamp', ['hello relay'], {}, { acknowledge: true });
    await wamp.session.publish('xbar.relay.from-wamp', [new Uint8Array([1, 2, 3, 255])], {}, { acknowledge: true });
    await wamp.session.publish('xbar.relay.from-wamp', [{ cmd: 'start', n: 3 }], {}, { acknowledge: true });
    await wamp.session.publish('xbar.relay.from-wamp', [], { only: 'kwargs' }, { acknowledge: true });
    for (const v of viewers) {
      await v.waitFor(4);
      assert.deepEqual(v.messages.map((m) => [m.data.toString('hex'), m.binary]), [
        [Buffer.from('hello relay').toString('hex'), false],
        ['010203ff', true],
        [Buffer.from('{"cmd":"start","n":3}').toString('hex'), false],
        [Buffer.from('{"only":"kwargs"}').toString('hex'), false],
      ]);
    }
    await Promise.all([...viewers.map((v) => v.close()), wamp.close()]);
  });

  it('maps 1:N: /in senders publish to <prefix>.out.x; WAMP publishes to <prefix>.in.x reach /out viewers; <prefix>.out.x reaches nobody', async () => {
    const wamp = await connectAutobahn(t.wampUrl, { serializer: 'cbor' });
    const sub = await subscribe(wamp, 'xbar.relay.out.cam', 1);
    const cam = await Client.open(`${t.base}/in/cam`);
    const viewer = await Client.open(`${t.base}/out/cam`);
    await cam.send(Buffer.from([9, 9, 9]), true);
    await sub.all;
    assert.deepEqual([...(sub.events[0]![0][0] as Uint8Array)], [9, 9, 9]);
    await viewer.send('viewers cannot write, not to WAMP either');

    await wamp.session.publish('xbar.relay.out.cam', ['as if an /out client wrote'], {}, { acknowledge: true });
    await wamp.session.publish('xbar.relay.in.cam', ['as if an /in client wrote'], {}, { acknowledge: true });
    await viewer.waitFor(2);
    assert.deepEqual(viewer.texts().slice(1), ['as if an /in client wrote']);
    assert.equal(sub.events.length, 1, 'the /out write was not bridged');
    await Promise.all([cam.close(), viewer.close(), wamp.close()]);
  });

  it('has no echo loops: a relay message is published once, and a WAMP message is not sent back to WAMP', async () => {
    const wamp = await connectAutobahn(t.wampUrl);
    // A second WAMP session watches everything under the prefix.
    const watcher = await connectAutobahn(t.wampUrl);
    const seen: string[] = [];
    await watcher.session.subscribe('xbar.relay.', (args, _kw, details) => void seen.push(`${details.topic}:${String(args[0])}`), { match: 'prefix' });
    const a = await Client.open(`${t.base}/loop`);
    const b = await Client.open(`${t.base}/loop`);
    await a.send('from relay');
    await b.waitFor(1);
    await wamp.session.publish('xbar.relay.loop', ['from wamp'], {}, { acknowledge: true, exclude_me: false });
    await Promise.all([a.waitFor(1), b.waitFor(2)]);
    // Marker: once it is seen, every earlier publication has been delivered to the watcher.
    await wamp.session.publish('xbar.relay.marker', ['end'], {}, { acknowledge: true });
    await eventually(() => seen.includes('xbar.relay.marker:end'), 'the marker');
    assert.deepEqual(seen, ['xbar.relay.loop:from relay', 'xbar.relay.loop:from wamp', 'xbar.relay.marker:end']);
    assert.deepEqual(a.texts(), ['from wamp'], 'the sender gets no echo through WAMP either');
    assert.deepEqual(b.texts(), ['from relay', 'from wamp']);
    await Promise.all([a.close(), b.close(), wamp.close(), watcher.close()]);
  });

  it('relays 1 MiB binary messages across the bridge intact', async () => {
    const wamp = await connectAutobahn(t.wampUrl, { serializer: 'msgpack' });
    const sub = await subscribe(wamp, 'xbar.relay.bulk', 1);
    const src = await Client.open(`${t.base}/bulk`);
    const blob = randomBytes(1024 * 1024);
    await src.send(blob, true);
    await sub.all;
    assert.ok(Buffer.from(sub.events[0]![0][0] as Uint8Array).equals(blob));
    const viewer = await Client.open(`${t.base}/bulk`);
    await wamp.session.publish('xbar.relay.bulk', [new Uint8Array(blob)], {}, { acknowledge: true });
    assert.ok((await viewer.waitFor(1))[0]!.data.equals(blob));
    await Promise.all([src.close(), viewer.close(), wamp.close()]);
  });
});
