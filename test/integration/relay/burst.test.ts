/**
 * A relay receiver that reads loses nothing in a burst (issue 11 item 5): 100 × 1 MiB sent as
 * fast as possible on a 1:1 stream (in/x → out/x) all reach the reading receiver, in order, under
 * the default queue bound. Sender and receiver run in worker threads (stream-peer.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.js';
import { report, type RelayNode, startRelay } from './support.js';
import { StreamPeer } from './stream-peer.js';

const MiB = 1024 * 1024;
let t: RelayNode;
const peers: StreamPeer[] = [];

before(async () => {
  t = await startRelay();
});

after(async () => {
  await Promise.all(peers.map((p) => p.terminate()));
  await t.stop();
});

describe('relay: a reading receiver loses nothing in a burst', () => {
  it('100 × 1 MiB on in/burst → out/burst: the reading receiver gets 100 of 100, in order', { timeout: 60_000 }, async (ctx) => {
    const receiver = await StreamPeer.start({ role: 'receive', url: `${t.base}/out/burst`, count: 100, size: MiB });
    const sender = await StreamPeer.start({ role: 'send', url: `${t.base}/in/burst`, count: 100, size: MiB });
    peers.push(receiver, sender);
    const dropped = () => report(t.relay, 'out/burst').reduce((n, r) => n + r.stats.rx.dropped, 0);
    sender.go();
    await eventually(() => receiver.received.at(-1) === 100 || receiver.received.length + dropped() >= 100, 'the last message', 40_000);
    ctx.diagnostic(`delivered ${receiver.received.length}/100, dropped ${dropped()}`);
    assert.deepEqual(receiver.received, Array.from({ length: 100 }, (_, i) => i + 1));
  });
});
