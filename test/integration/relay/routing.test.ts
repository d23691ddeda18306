import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, report, type RelayNode, startRelay } from './support.js';
import { eventually } from '../../helpers/eventually.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('relay routing (practable crossbar behaviour)', () => {
  let t: RelayNode;
  before(async () => {
    t = await startRelay();
  });
  after(() => t.stop());

  it('N:N: every message reaches every other client of the topic, and never its sender', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => Client.open(`${t.base}/expt`)));
    await a!.send('from a');
    await Promise.all([b!.waitFor(1), c!.waitFor(1)]);
    await b!.send('from b');
    await Promise.all([a!.waitFor(1), c!.waitFor(2)]);
    // An echo to a would have been written to a's socket before "from b"; a's first message proves none came.
    assert.deepEqual(a!.texts(), ['from b']);
    assert.deepEqual(b!.texts(), ['from a']);
    assert.deepEqual(c!.texts(), ['from a', 'from b']);
    await Promise.all([a!.close(), b!.close(), c!.close()]);
  });

  it('1:N: an /in sender reaches every /out client; what /out clients send is dropped and counted', async () => {
    const viewers = await Promise.all([1, 2, 3].map(() => Client.open(`${t.base}/out/demo`)));
    const source = await Client.open(`${t.base}/in/demo`);
    await viewers[0]!.send('viewer talking');
    await viewers[0]!.send(Buffer.from([1, 2, 3]), true);
    await eventually(() => report(t.relay, 'out/demo').some((r) => r.stats.tx.dropped === 2), 'the relay to drop both /out messages');
    await source.send('frame 1');
    await source.send(Buffer.from([0xff, 0x00]), true);
    for (const v of viewers) {
      await v.waitFor(2);
      assert.deepEqual(v.texts().slice(0, 1), ['frame 1'], 'the /out writes never reach other viewers');
      assert.deepEqual(v.messages[1], { data: Buffer.from([0xff, 0x00]), binary: true });
    }
    // The viewer's writes did not reach the source either: the source's first message would be one.
    await viewers[1]!.send('late viewer talk');
    await eventually(() => report(t.relay, 'out/demo').reduce((n, r) => n + r.stats.tx.dropped, 0) === 3, 'the third drop');
    assert.equal(source.messages.length, 0);
    const counts = report(t.relay, 'out/demo').map((r) => [r.canRead, r.canWrite, r.stats.tx.count, r.stats.tx.dropped]);
    assert.deepEqual(counts.sort(), [[true, false, 0, 0], [true, false, 1, 1], [true, false, 2, 2]]);
    assert.deepEqual(report(t.relay, 'in/demo').map((r) => [r.canRead, r.canWrite, r.stats.tx.count, r.stats.tx.dropped]), [[true, true, 2, 0]]);
    await Promise.all([...viewers, source].map((c) => c.close()));
  });

  it('topics are independent: nothing crosses from one topic to another, or between N:N and 1:N', async () => {
    const x1 = await Client.open(`${t.base}/topic-x`);
    const x2 = await Client.open(`${t.base}/topic-x`);
    const y = await Client.open(`${t.base}/topic-y`);
    const xOut = await Client.open(`${t.base}/out/topic-x`);
    const nested = await Client.open(`${t.base}/topic-x/sub`);
    await x1.send('only for x');
    await x2.waitFor(1);
    await y.send('only for y');
    await nested.send('only for x/sub');
    await x2.send('second for x');
    await x1.waitFor(1);
    assert.deepEqual(x1.texts(), ['second for x']);
    assert.deepEqual(x2.texts(), ['only for x']);
    assert.deepEqual([y.messages.length, xOut.messages.length, nested.messages.length], [0, 0, 0]);
    await Promise.all([x1, x2, y, xOut, nested].map((c) => c.close()));
  });

  it('keeps text as text and binary as binary, byte for byte, including empty and non-ASCII messages', async () => {
    const a = await Client.open(`${t.base}/types`);
    const b = await Client.open(`${t.base}/types`);
    const sent: [Buffer, boolean][] = [
      [Buffer.from('héllo ✓ \u{1F600}'), false],
      [Buffer.from([0, 1, 2, 253, 254, 255]), true],
      [Buffer.alloc(0), false],
      [Buffer.alloc(0), true],
      [Buffer.from('{"json": [1, 2, 3]}'), false],
      [randomBytes(70_000), true],
      [Buffer.from('x'.repeat(125)), false],
      [Buffer.from('y'.repeat(126)), false],
      [Buffer.from('z'.repeat(65_536)), false],
    ];
    for (const [data, binary] of sent) await a.send(data, binary);
    await b.waitFor(sent.length);
    assert.deepEqual(b.messages.map((m) => [m.data.toString('hex'), m.binary]), sent.map(([d, bin]) => [d.toString('hex'), bin]));
    await Promise.all([a.close(), b.close()]);
  });

  it('relays 1 MiB messages intact, in order, to several receivers', async () => {
    const src = await Client.open(`${t.base}/in/big`);
    const rx = await Promise.all([1, 2, 3].map(() => Client.open(`${t.base}/out/big`)));
    const blobs = [randomBytes(1024 * 1024), randomBytes(1024 * 1024), randomBytes(1024 * 1024)];
    for (const b of blobs) await src.send(b, true);
    for (const r of rx) {
      await r.waitFor(3, 15_000);
      assert.deepEqual(r.messages.map((m) => [m.data.length, sha(m.data), m.binary]), blobs.map((b) => [b.length, sha(b), true]));
    }
    await Promise.all([src, ...rx].map((c) => c.close()));
  });

  it('keeps the order of a burst of 5,000 messages from one sender', async () => {
    const a = await Client.open(`${t.base}/burst`);
    const b = await Client.open(`${t.base}/burst`);
    for (let i = 0; i < 5000; i++) a.ws.send(String(i));
    await b.waitFor(5000);
    assert.deepEqual(b.texts(), Array.from({ length: 5000 }, (_, i) => String(i)));
    await Promise.all([a.close(), b.close()]);
  });

  it('forgets a topic when its last client leaves', async () => {
    const before = t.relay.channelCount;
    const a = await Client.open(`${t.base}/ephemeral`);
    assert.equal(t.relay.channelCount, before + 1);
    await a.close();
    await eventually(() => t.relay.channelCount === before, 'the topic to be removed');
  });
});

describe('relay mounted at the root (xbar relay)', () => {
  let t: RelayNode;
  before(async () => {
    t = await startRelay({}, '');
  });
  after(() => t.stop());

  it('serves /<topic>, /in/<topic> and /out/<topic> at the root, beside WAMP on /ws', async () => {
    assert.equal(t.base.endsWith('/'), false);
    const a = await Client.open(`${t.base}/expt`);
    const b = await Client.open(`${t.base}/expt`);
    const out = await Client.open(`${t.base}/out/demo`);
    const inn = await Client.open(`${t.base}/in/demo`);
    await a.send('hi');
    await inn.send('video');
    assert.deepEqual((await b.waitFor(1)).map((m) => m.data.toString()), ['hi']);
    assert.deepEqual((await out.waitFor(1)).map((m) => m.data.toString()), ['video']);
    await Promise.all([a, b, out, inn].map((c) => c.close()));
  });
});
