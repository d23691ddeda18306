/**
 * Slow-consumer policy 'disconnect': subscribers that stop reading (one WebSocket, one RawSocket)
 * are cut off once their outgoing buffer passes the mark; the healthy subscribers on the same
 * topic receive every event in order, during and after, and stay connected; the router keeps
 * nothing of the slow sessions.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type TestNode, startNode } from '../../helpers/node.js';
import { Code, type RawClient, RawSocketClient, RawWsClient } from '../../helpers/raw-wamp.js';
import { FanoutWorker, publishPaced } from './support.js';

const MAX_OUT_BUFFER = 256 * 1024;
const HEALTHY = 200;
const EVENTS = 1000;
const PAYLOAD = 'x'.repeat(1000);
/** 64 KiB events only the slow ones receive: ~4 MB fill the kernel's buffers, the rest the mark. */
const FILL_EVENTS = 100;
const FILL_PAYLOAD = 'f'.repeat(64 * 1024);
const WINDOW = 64;

let t: TestNode;
let subscribers: FanoutWorker | undefined;
const clients: RawClient[] = [];

before(async () => {
  t = await startNode({ session: { maxOutBuffer: MAX_OUT_BUFFER, slowConsumer: 'disconnect' } });
});

after(async () => {
  await subscribers?.terminate();
  for (const c of clients) c.destroy();
  await t.stop();
});

describe("slow consumer, policy 'disconnect'", () => {
  it(`cuts off the subscribers that stop reading; ${HEALTHY} healthy ones get all ${EVENTS} events in order`, { timeout: 60_000 }, async (ctx) => {
    subscribers = await FanoutWorker.start(t.wsUrl, HEALTHY, 'fanout.topic', EVENTS);
    const slowOnes = [await RawWsClient.open(t.wsUrl), await RawSocketClient.open(t.rawPort)];
    const publisher = await RawWsClient.open(t.wsUrl);
    clients.push(...slowOnes, publisher);
    const realm = t.node.router.realm('realm1')!;
    const slowIds: number[] = [];
    for (const slow of slowOnes) {
      slowIds.push(await slow.hello());
      await slow.subscribe('fanout.topic');
      await slow.subscribe('fanout.fill');
    }
    await publisher.hello();
    assert.equal(realm.broker.subscriptionCount, 2);

    for (const slow of slowOnes) slow.pause();
    let cutOffAt = 0;
    await publishPaced(subscribers, publisher, 'fanout.topic', EVENTS, PAYLOAD, WINDOW, (seq) => {
      if (seq <= FILL_EVENTS) publisher.publish('fanout.fill', [seq, FILL_PAYLOAD]);
      if (cutOffAt === 0 && slowIds.every((id) => !realm.sessions.has(id))) cutOffAt = seq;
    });
    ctx.diagnostic(`both slow subscribers were cut off by event ${cutOffAt}`);

    // The slow sessions are gone from the router, the healthy ones all there and complete.
    assert.ok(cutOffAt > 0 && cutOffAt < EVENTS, `slow sessions still there at the end: ${slowIds.filter((id) => realm.sessions.has(id))}`);
    assert.equal(subscribers.delivered, EVENTS);
    assert.equal(t.node.router.connectionCount, HEALTHY + 1);
    assert.equal(realm.sessions.size, HEALTHY + 1);
    // Only the healthy subscribers' topic is left: the fill subscriptions went with the slow sessions.
    assert.equal(realm.broker.subscriptionCount, 1);

    // Reading again, each slow one finds a contiguous prefix of the events, then the end of the
    // connection: a slow consumer is cut off without a closing handshake.
    for (const [i, slow] of slowOnes.entries()) {
      const main: number[] = [];
      slow.keep = false;
      slow.onRaw = (data) => {
        const m = JSON.parse(data.toString()) as unknown[];
        if (m[0] === Code.EVENT && (m[4] as unknown[])[1] === PAYLOAD) main.push((m[4] as number[])[0]!);
        return m[0] === Code.EVENT;
      };
      slow.resume();
      await slow.ended;
      assert.ok(main.length < cutOffAt, `got ${main.length} events`);
      assert.deepEqual(main, Array.from({ length: main.length }, (_, k) => k + 1));
      ctx.diagnostic(`slow subscriber ${i} had received events 1..${main.length}`);
    }

    const report = await subscribers.finish();
    assert.deepEqual(report.problems, []);
    assert.equal(report.delivered, EVENTS);
  });
});
