/**
 * A subscriber that keeps reading never loses an event (issue 11 item 5), under the default
 * slow-consumer rule: a burst far larger than a few MiB, published as fast as the publisher's socket takes it,
 * reaches a reading Autobahn|JS subscriber whole — also with a paused subscriber on the same
 * topic, whose own queue takes the burst and delays nobody. The clients run in worker threads,
 * so the router (this thread) can outrun the subscriber as it does with remote clients.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type TestNode, startNode } from '../../helpers/node.js';
import { eventually } from '../../helpers/eventually.js';
import { RawWsClient } from '../../helpers/raw-wamp.js';
import { BurstPeer } from './burst-peer.js';

const MiB = 1024 * 1024;

let t: TestNode;
const peers: BurstPeer[] = [];

before(async () => {
  t = await startNode();
});

after(async () => {
  await Promise.all(peers.map((p) => p.terminate()));
  await t.stop();
});

/** What a burst did: the events the subscriber got, and the most the router held for it. */
interface Outcome { readonly received: number[]; readonly maxQueued: number }

/** Publishes `count` events of `size` bytes as fast as possible; resolves with what the subscriber got. */
async function burst(serializer: 'json' | 'msgpack', topic: string, count: number, size: number, paused?: number): Promise<Outcome> {
  const job = { url: t.wsUrl, serializer, topic, count, size };
  const subscriber = await BurstPeer.start({ ...job, role: 'subscribe' });
  const publisher = await BurstPeer.start({ ...job, role: 'publish' });
  peers.push(subscriber, publisher);
  const realm = t.node.router.realm('realm1')!;
  const dropped = () => [...realm.sessions.values()].reduce((n, s) => n + (s.id === paused ? 0 : s.conn.dropped), 0);
  const droppedBefore = dropped();
  // Sampled every millisecond (when the router's loop gets to it): the reader's queue in the router.
  let maxQueued = 0;
  const sampler = setInterval(() => {
    for (const s of realm.sessions.values()) if (s.id !== paused) maxQueued = Math.max(maxQueued, s.conn.queuedBytes ?? 0);
  }, 1);
  publisher.go();
  // Done when the last event arrived, or when every event is accounted for (received or dropped).
  await eventually(
    () => subscriber.received.at(-1) === count || subscriber.received.length + dropped() - droppedBefore >= count,
    `the last of ${count} events`, 40_000,
  );
  clearInterval(sampler);
  return { received: subscriber.received, maxQueued };
}

describe('a subscriber that reads loses nothing in a burst', () => {
  for (const serializer of ['json', 'msgpack'] as const) {
    it(`100 × 1 MiB published as fast as possible reach one reading Autobahn|JS subscriber (${serializer}): 100 of 100`, { timeout: 60_000 }, async (ctx) => {
      const { received: got, maxQueued } = await burst(serializer, `burst.mib.${serializer}`, 100, MiB);
      ctx.diagnostic(`delivered ${got.length}/100; the router held up to ${(maxQueued / MiB).toFixed(1)} MiB for the subscriber`);
      assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i + 1));
    });
  }

  it('a 16 MiB burst (256 × 64 KiB) with a paused subscriber present: the reading Autobahn|JS subscriber gets all 256', { timeout: 60_000 }, async (ctx) => {
    const topic = 'burst.paused';
    const paused = await RawWsClient.open(t.wsUrl);
    const pausedId = await paused.hello();
    await paused.subscribe(topic);
    paused.pause();
    const { received: got, maxQueued } = await burst('json', topic, 256, 64 * 1024, pausedId);
    ctx.diagnostic(`delivered ${got.length}/256 to the reading subscriber; the router held up to ${(maxQueued / MiB).toFixed(1)} MiB for it`);
    assert.deepEqual(got, Array.from({ length: 256 }, (_, i) => i + 1));
    paused.destroy();
  });
});
