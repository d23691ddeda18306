/**
 * Slow-consumer policy 'drop': two subscribers (one WebSocket, one RawSocket) stop reading; 1,000
 * healthy subscribers on the same topic receive every event in order; each slow connection counts
 * exactly the events it did not get, got a contiguous prefix of the rest, and stays connected; the
 * router's memory does not grow with the events.
 *
 * On loopback TCP the kernel takes megabytes for a peer that does not read before Node's buffer
 * grows (measured 3.8 MB with one write per event; more — about 6 MB — once a socket's writes of
 * a loop turn leave in one writev), so the slow subscribers are also subscribed to a fill topic
 * whose 256 KiB events only they receive: the mark is reached without gigabytes of traffic to the
 * healthy ones.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { Connection } from '../../../src/connection/connection.js';
import { type TestNode, startNode } from '../../helpers/node.js';
import { Code, type RawClient, RawSocketClient, RawWsClient } from '../../helpers/raw-wamp.js';
import { FanoutWorker, exposedGc, publishPaced } from './support.js';

const MAX_OUT_BUFFER = 256 * 1024;
const HEALTHY = 1000;
const EVENTS = 1000;
const PAYLOAD = 'x'.repeat(1000);
const FILL_EVENTS = 80;
const FILL_PAYLOAD = 'f'.repeat(256 * 1024);
/** How far the publisher may run ahead of the slowest healthy subscriber: 64 KiB, far under the mark. */
const WINDOW = 64;
const MEMORY_BOUND = 64 * 1024 * 1024;
const MARKER = -1;

let t: TestNode;
let subscribers: FanoutWorker | undefined;
const clients: RawClient[] = [];

before(async () => {
  // The byte bound alone (the time rule has its own test, slow-consumer-rules.test.ts).
  t = await startNode({ session: { maxOutBuffer: MAX_OUT_BUFFER, slowConsumer: 'drop', slowConsumerTimeout: 0 } });
});

after(async () => {
  await subscribers?.terminate();
  for (const c of clients) c.destroy();
  await t.stop();
});

const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** What a slow subscriber receives once it reads again. */
interface Tally { main: number[]; fill: number; markers: number }

function tally(c: RawClient): Tally {
  const got: Tally = { main: [], fill: 0, markers: 0 };
  c.keep = false;
  c.onRaw = (data) => {
    const m = JSON.parse(data.toString()) as unknown[];
    if (m[0] !== Code.EVENT) return false;
    const [seq, payload] = m[4] as [number, string];
    if (seq === MARKER) got.markers++;
    else if (payload === PAYLOAD) got.main.push(seq);
    else got.fill++;
    return true;
  };
  return got;
}

describe("slow consumer, policy 'drop'", () => {
  it(`delivers ${EVENTS} events in order to ${HEALTHY} healthy subscribers while two stop reading; the slow ones count their drops`, { timeout: 60_000 }, async (ctx) => {
    const gc = exposedGc();
    const started = Date.now();
    // The healthy subscribers run in a worker thread (the second core); this thread's heap is the router's.
    subscribers = await FanoutWorker.start(t.wsUrl, HEALTHY, 'fanout.topic', EVENTS);
    const slowOnes = [await RawWsClient.open(t.wsUrl), await RawSocketClient.open(t.rawPort)];
    const publisher = await RawWsClient.open(t.wsUrl);
    clients.push(...slowOnes, publisher);
    const realm = t.node.router.realm('realm1')!;
    const slowConns: Connection[] = [];
    for (const slow of slowOnes) {
      const id = await slow.hello();
      for (const topic of ['fanout.topic', 'fanout.fill', 'fanout.marker']) await slow.subscribe(topic);
      slowConns.push(realm.sessions.get(id)!.conn);
    }
    await publisher.hello();
    ctx.diagnostic(`${HEALTHY + 3} sessions up in ${Date.now() - started} ms`);

    gc();
    const before = process.memoryUsage();
    for (const slow of slowOnes) slow.pause();
    const t0 = Date.now();
    const elu0 = performance.eventLoopUtilization();
    await publishPaced(subscribers, publisher, 'fanout.topic', EVENTS, PAYLOAD, WINDOW, (seq) => {
      if (seq <= FILL_EVENTS) publisher.publish('fanout.fill', [seq, FILL_PAYLOAD]);
    });
    const elapsed = Date.now() - t0;
    const busy = performance.eventLoopUtilization(elu0).utilization;
    gc();
    const afterRun = process.memoryUsage();

    // Every healthy subscriber has 1..EVENTS (the worker checks the order of each), nobody was cut off.
    assert.equal(subscribers.delivered, EVENTS);
    assert.equal(t.node.router.connectionCount, HEALTHY + 3);
    // The slow ones reached the mark: most events were dropped for them, yet they are still connected.
    // Their buffers are bounded: at most the mark plus the one message admitted just under it.
    for (const [i, conn] of slowConns.entries()) {
      assert.ok(conn.dropped > EVENTS - FILL_EVENTS, `slow subscriber ${i}: only ${conn.dropped} drops`);
      assert.ok(!slowOnes[i]!.isEnded);
      const queued = conn.queuedBytes!;
      ctx.diagnostic(`slow subscriber ${i}: ${queued} bytes queued in the router`);
      assert.ok(queued > MAX_OUT_BUFFER && queued <= MAX_OUT_BUFFER + FILL_PAYLOAD.length + 64, `${queued} bytes queued`);
    }

    // Memory does not follow the events: the slow buffers are bounded, the rest flows.
    const growth = (k: 'heapUsed' | 'external' | 'rss') => afterRun[k] - before[k];
    ctx.diagnostic(`${EVENTS} events x ${HEALTHY + 2} subscribers in ${elapsed} ms (router thread ${(busy * 100).toFixed(0)}% busy); dropped: ${slowConns.map((c) => c.dropped).join(', ')}`);
    ctx.diagnostic(`heapUsed ${MiB(before.heapUsed)} -> ${MiB(afterRun.heapUsed)}; external (Buffers) ${MiB(before.external)} -> ${MiB(afterRun.external)}; rss (with the worker's clients) ${MiB(before.rss)} -> ${MiB(afterRun.rss)}`);
    assert.ok(growth('heapUsed') + growth('external') < MEMORY_BOUND, `heap + external grew by ${MiB(growth('heapUsed') + growth('external'))}`);

    // Now they read again. What each got is a contiguous prefix of the events, and each event it
    // did not get was counted; the first marker to arrive proves its buffer has drained.
    const tallies = slowOnes.map(tally);
    for (const slow of slowOnes) slow.resume();
    let markersSent = 0;
    while (tallies.some((x) => x.markers === 0)) {
      publisher.publish('fanout.marker', [MARKER, 'marker'], { acknowledge: true });
      markersSent++;
      await publisher.waitFor((m) => m[0] === Code.PUBLISHED);
      // Let the slow ones read what has arrived before the next marker.
      await new Promise((r) => setImmediate(r));
    }
    for (const [i, got] of tallies.entries()) {
      assert.deepEqual(got.main, Array.from({ length: got.main.length }, (_, k) => k + 1), `slow subscriber ${i}`);
      assert.equal(slowConns[i]!.dropped, EVENTS - got.main.length + (FILL_EVENTS - got.fill) + (markersSent - got.markers), `slow subscriber ${i}`);
      ctx.diagnostic(`slow subscriber ${i} got events 1..${got.main.length} and ${got.fill} of ${FILL_EVENTS} fill events before its buffer filled`);
    }

    const report = await subscribers.finish();
    assert.deepEqual(report.problems, []);
    assert.equal(report.delivered, EVENTS);
  });
});
