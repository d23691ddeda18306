/**
 * The slow-consumer rule beyond the byte bound (issue 11 item 5): the time rule
 * (`slow_consumer_timeout`: a queue that has not drained in time is the slow one's, whatever its
 * size, dropped for under 'drop' and closed under 'disconnect') and the node-wide budget of all
 * out-buffers (`limits.max_out_buffer_total`), each counted in /metrics, while a healthy
 * Autobahn|JS pair on the same node keeps every event.
 *
 * The paused subscribers are subscribed to a fill topic of 64 KiB events only they receive: the
 * kernel takes a few MiB for a peer that does not read before the router's queue grows.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { XbarNode } from '../../../src/node.js';
import { metricsRegistry } from '../../../src/web/metrics.js';
import { eventually } from '../../helpers/eventually.js';
import { testConfig, type TestNodeOptions } from '../../helpers/node.js';
import { type RawClient, RawSocketClient, RawWsClient } from '../../helpers/raw-wamp.js';
import { HealthyPair } from './support.js';

const MiB = 1024 * 1024;
const FILL = 'f'.repeat(64 * 1024);

const nodes: XbarNode[] = [];
const clients: RawClient[] = [];
const pairs: HealthyPair[] = [];

after(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(pairs.map((p) => p.close()));
  await Promise.all(nodes.map((n) => n.stop()));
});

async function start(o: TestNodeOptions, maxOutBufferTotal?: number): Promise<{ node: XbarNode; wsUrl: string; rawPort: number }> {
  const config = testConfig(o);
  const node = new XbarNode(
    maxOutBufferTotal === undefined ? config : { ...config, limits: { maxOutBufferTotal } },
    { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) },
  );
  await node.start();
  nodes.push(node);
  return { node, wsUrl: `ws://127.0.0.1:${node.port('web')}/ws`, rawPort: node.port('rawsocket') };
}

/** Paused subscribers of the fill topic (one WebSocket, one RawSocket unless `count` says otherwise). */
async function pausedSubscribers(wsUrl: string, rawPort: number, count = 2): Promise<{ client: RawClient; id: number }[]> {
  const out: { client: RawClient; id: number }[] = [];
  for (let i = 0; i < count; i++) {
    const client = i % 2 === 0 ? await RawWsClient.open(wsUrl) : await RawSocketClient.open(rawPort);
    clients.push(client);
    const id = await client.hello();
    await client.subscribe('fill');
    client.pause();
    out.push({ client, id });
  }
  return out;
}

async function publisher(wsUrl: string): Promise<RawClient> {
  const p = await RawWsClient.open(wsUrl);
  clients.push(p);
  await p.hello();
  return p;
}

/** The /metrics text of a node. */
async function metrics(node: XbarNode): Promise<string> {
  return metricsRegistry(() => node.stats.snapshot(), node.refusals, node.edgeRefusals).metrics();
}

function metric(text: string, line: RegExp): number {
  const m = line.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('slow consumer: the time rule (slow_consumer_timeout)', () => {
  it("'drop': a queue that has not drained in 300 ms gets drops long before its 64 MiB bound; the healthy pair keeps every event", { timeout: 60_000 }, async () => {
    const { node, wsUrl, rawPort } = await start({ session: { slowConsumerTimeout: 300, slowConsumer: 'drop' } });
    const realm = node.router.realm('realm1')!;
    const slow = await pausedSubscribers(wsUrl, rawPort);
    const pub = await publisher(wsUrl);
    const healthy = await HealthyPair.start(wsUrl);
    pairs.push(healthy);
    await eventually(async () => {
      pub.publish('fill', [0, FILL]);
      await healthy.probe();
      return slow.every((s) => realm.sessions.get(s.id)!.conn.dropped > 0);
    }, 'drops for both paused subscribers', 30_000);
    for (const s of slow) {
      const conn = realm.sessions.get(s.id)!.conn;
      assert.ok(conn.queuedBytes! < 64 * MiB / 4, `dropped by the time rule with ${conn.queuedBytes} bytes queued, not by the bound`);
      assert.ok(!s.client.isEnded, 'still connected');
    }
    healthy.assertComplete();
    const text = await metrics(node);
    assert.ok(metric(text, /^xbar_connection_limit_total\{limit="slow_consumer_timeout",action="drop"\} (\d+)$/m) > 0, text);
    assert.equal(metric(text, /^xbar_connection_limit_total\{limit="slow_consumer_timeout",action="disconnect"\} (\d+)$/m), 0);
    assert.ok(metric(text, /^xbar_out_buffer_bytes (\d+)$/m) > 0, 'the paused ones still hold their queues');
  });

  it("'disconnect': the paused subscribers are closed by the time rule, the healthy pair stays and keeps every event", { timeout: 60_000 }, async () => {
    const { node, wsUrl, rawPort } = await start({ session: { slowConsumerTimeout: 300, slowConsumer: 'disconnect' } });
    const realm = node.router.realm('realm1')!;
    const slow = await pausedSubscribers(wsUrl, rawPort);
    const pub = await publisher(wsUrl);
    const healthy = await HealthyPair.start(wsUrl);
    pairs.push(healthy);
    await eventually(async () => {
      pub.publish('fill', [0, FILL]);
      await healthy.probe();
      return slow.every((s) => !realm.sessions.has(s.id));
    }, 'both paused subscribers closed', 30_000);
    healthy.assertComplete();
    assert.ok(realm.sessions.size >= 3, 'publisher and healthy pair still joined');
    const text = await metrics(node);
    assert.equal(metric(text, /^xbar_connection_limit_total\{limit="slow_consumer_timeout",action="disconnect"\} (\d+)$/m), 2, text);
  });
});

describe('slow consumer: the node-wide budget (limits.max_out_buffer_total)', () => {
  it('four paused subscribers hold no more than the 8 MiB budget (plus a message) together; the healthy pair keeps every event', { timeout: 60_000 }, async () => {
    const BUDGET = 8 * MiB;
    // No time rule here: only the budget stops the paused queues from growing to their 64 MiB.
    const { node, wsUrl, rawPort } = await start({ session: { slowConsumerTimeout: 0 } }, BUDGET);
    const slow = await pausedSubscribers(wsUrl, rawPort, 4);
    const pub = await publisher(wsUrl);
    const healthy = await HealthyPair.start(wsUrl);
    pairs.push(healthy);
    const refusedByBudget = async () => metric(await metrics(node), /^xbar_connection_limit_total\{limit="max_out_buffer_total",action="drop"\} (\d+)$/m);
    await eventually(async () => {
      pub.publish('fill', [0, FILL]);
      await healthy.probe();
      return (await refusedByBudget()) >= 10;
    }, 'the budget to refuse', 30_000);
    // A few more publications against the full budget: the total does not grow.
    for (let i = 0; i < 20; i++) {
      pub.publish('fill', [0, FILL]);
      await healthy.probe();
    }
    const total = node.outBudget.sweep();
    assert.ok(total <= BUDGET + FILL.length + 4 * 64 * 1024 + 1024, `all out-buffers together: ${total} bytes`);
    const realm = node.router.realm('realm1')!;
    for (const s of slow) assert.ok(!s.client.isEnded && realm.sessions.has(s.id), 'drop policy: the paused ones stay');
    healthy.assertComplete();
    const text = await metrics(node);
    assert.ok(metric(text, /^xbar_out_buffer_bytes (\d+)$/m) <= BUDGET + FILL.length + 4 * 64 * 1024 + 1024);
  });
});
