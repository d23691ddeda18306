/**
 * Backplane outages lose no acknowledged publication (issue 17, point 4). Two xbar nodes; an
 * Autobahn|JS publisher on node A publishes 100 events/s with `acknowledge: true`, an Autobahn|JS
 * subscriber on node B records what arrives. Then the NATS backplane fails under them:
 * - the one nats-server is killed and started again 3 s later (both nodes lose NATS, longer than
 *   `dead_after`: neither may take the other for dead for a silence that was its own outage);
 * - in a three-server NATS cluster, the subscriber's server is killed.
 * Every publication the router acknowledged reaches the subscriber once, in publication order.
 * What the origin cannot keep for the outage (`replay_buffer` bytes, `replay_window` ms) is
 * refused with an ERROR rather than acknowledged, counted in /metrics and logged.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { metricsRegistry } from '../../src/web/metrics.js';
import type { NatsBackplane } from '../../src/backplane/nats/nats-backplane.js';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';

interface Run {
  acked: number[];
  failed: number;
  seen: number[];
  stop(): Promise<void>;
}

/** Publishes 1, 2, 3, … every 10 ms with acknowledge, without waiting for each acknowledgement. */
function publishEvery10ms(pub: AutobahnClient, topic: string, seen: number[]): Run {
  const run: Run = { acked: [], failed: 0, seen, stop: async () => undefined };
  const pending: Promise<unknown>[] = [];
  let n = 0;
  const timer = setInterval(() => {
    const k = ++n;
    pending.push(pub.session.publish(topic, [k], {}, { acknowledge: true })!.then(
      () => void run.acked.push(k),
      () => void run.failed++,
    ));
  }, 10);
  run.stop = async () => {
    clearInterval(timer);
    await Promise.all(pending);
  };
  return run;
}

/** Lost: acknowledged, never delivered. Duplicates and out-of-order deliveries, from what arrived. */
function tally(run: Run): { lost: number; duplicates: number; outOfOrder: number } {
  const got = new Set(run.seen);
  let outOfOrder = 0;
  for (let i = 1; i < run.seen.length; i++) if (run.seen[i]! <= run.seen[i - 1]!) outOfOrder++;
  return { lost: run.acked.filter((k) => !got.has(k)).length, duplicates: run.seen.length - got.size, outOfOrder };
}

describe('acknowledged publications across a NATS outage', { timeout: 120_000 }, () => {
  const started: { c: TestCluster; clients: AutobahnClient[] }[] = [];
  after(async () => {
    for (const s of started) {
      await Promise.all(s.clients.map((x) => x.close().catch(() => undefined)));
      await s.c.stop();
    }
  });

  async function pubSub(c: TestCluster, topic: string): Promise<{ pub: AutobahnClient; seen: number[] }> {
    const [pub, sub] = await Promise.all([connectAutobahn(c.urls[0]!), connectAutobahn(c.urls[1]!)]);
    started.at(-1)!.clients.push(pub, sub);
    const seen: number[] = [];
    await sub.session.subscribe(topic, (args) => void seen.push(args[0] as number));
    // The subscription has reached node A through NATS.
    await eventually(async () => {
      await pub.session.publish(`${topic}.probe`, [], {}, { acknowledge: true });
      return c.nodes.every((n) => n.backplane.members().size === 2);
    }, 'both nodes to see each other');
    return { pub, seen };
  }

  it('loses none when the one nats-server is killed and restarted 3 s later', async () => {
    const c = await startCluster(2, { natsServers: 1 });
    started.push({ c, clients: [] });
    const { pub, seen } = await pubSub(c, 'com.outage.one');
    const run = publishEvery10ms(pub, 'com.outage.one', seen);
    await eventually(() => seen.length >= 200, 'the first 200 events');
    await c.nats[0]!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 3000));
    await c.nats[0]!.restart();
    await eventually(() => c.nodes.every((n) => n.backplane.health() === 'ready'), 'both nodes back on NATS', 20_000);
    const back = seen.length;
    await eventually(() => seen.length >= back + 300, '300 events after the restart', 20_000);
    await run.stop();
    await eventually(() => tally(run).lost === 0, 'every acknowledged publication', 5000).catch(() => undefined);
    const t = tally(run);
    console.log(`# nats-server killed, restarted 3 s later: ${t.lost} of ${run.acked.length} acknowledged publications lost; ${run.failed} refused; ${t.duplicates} duplicates, ${t.outOfOrder} out of order`);
    assert.equal(t.lost, 0, 'acknowledged publications lost');
    assert.equal(t.duplicates, 0, 'duplicates');
    assert.equal(t.outOfOrder, 0, 'out of order');
    assert.equal(run.failed, 0, 'publications refused');
  });

  it('loses none when the subscriber\'s server of a three-server NATS cluster is killed', async () => {
    // A on the first server, B on one of the other two: killing B's leaves A connected.
    const c = await startCluster(2, { natsServers: 3, serversOf: (i, nats) => (i === 0 ? [nats[0]!] : [nats[1]!, nats[2]!]) });
    started.push({ c, clients: [] });
    const serverOf = (i: number) => (c.nodes[i]!.backplane as NatsBackplane).server();
    const victim = c.nats.slice(1).find((s) => serverOf(1)?.endsWith(`:${s.port}`));
    assert.ok(victim, `node B is on ${serverOf(1)}`);
    const { pub, seen } = await pubSub(c, 'com.outage.three');
    const run = publishEvery10ms(pub, 'com.outage.three', seen);
    await eventually(() => seen.length >= 200, 'the first 200 events');
    await victim.kill('SIGKILL');
    await eventually(() => serverOf(1) !== undefined && !serverOf(1)!.endsWith(`:${victim.port}`) && c.nodes[1]!.backplane.health() === 'ready', 'node B on another server', 10_000);
    const back = seen.length;
    await eventually(() => seen.length >= back + 300, '300 events after the reconnect', 20_000);
    await run.stop();
    await eventually(() => tally(run).lost === 0, 'every acknowledged publication', 5000).catch(() => undefined);
    const t = tally(run);
    console.log(`# subscriber's nats-server of 3 killed: ${t.lost} of ${run.acked.length} acknowledged publications lost; ${run.failed} refused; ${t.duplicates} duplicates, ${t.outOfOrder} out of order`);
    assert.equal(t.lost, 0, 'acknowledged publications lost');
    assert.equal(t.duplicates, 0, 'duplicates');
    assert.equal(t.outOfOrder, 0, 'out of order');
    await victim.restart();
  });

  /** A logger whose JSON lines the test reads. */
  function captured(): { logger: pino.Logger; lines: { msg: string }[] } {
    const lines: { msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string });
        done();
      },
    });
    return { logger: pino({ level: 'info' }, sink), lines };
  }

  const ERROR = 'xbar.error.backplane_unavailable';

  it('refuses, counts and logs what overflows replay_buffer during an outage, and delivers every publication it acknowledged', async () => {
    const logs = captured();
    const c = await startCluster(2, { natsServers: 1, cluster: { replayBuffer: 64 * 1024 }, loggerOf: (i) => (i === 0 ? logs.logger : pino({ level: 'silent' })) });
    started.push({ c, clients: [] });
    const { pub, seen } = await pubSub(c, 'com.outage.big');
    await c.nats[0]!.kill('SIGKILL');
    await eventually(() => c.nodes[0]!.backplane.health() !== 'ready', 'node A to see NATS gone');
    const outcomes: Promise<{ r: string; at: number }>[] = [];
    const blob = 'x'.repeat(4096);
    for (let k = 1; k <= 60; k++) {
      outcomes.push(pub.session.publish('com.outage.big', [k, blob], {}, { acknowledge: true })!.then(
        () => ({ r: 'acked', at: Date.now() }), (e: { error?: string }) => ({ r: e.error ?? String(e), at: Date.now() })));
    }
    // 60 x 4 KiB cannot all stay in 64 KiB: the oldest are refused at once, while NATS is still down.
    await eventually(() => c.nodes[0]!.backplane.counts?.().replayOverflowed, 'the buffer to overflow');
    await new Promise((r) => setTimeout(r, 200));
    const restartedAt = Date.now();
    await c.nats[0]!.restart();
    const settled = await Promise.all(outcomes);
    const results = settled.map((x) => x.r);
    assert.ok(settled.filter((x) => x.r === ERROR).every((x) => x.at < restartedAt), 'refused while NATS was down, not after');
    const acked = results.flatMap((r, i) => (r === 'acked' ? [i + 1] : []));
    const refused = results.filter((r) => r === ERROR).length;
    assert.equal(acked.length + refused, 60, `every outcome is PUBLISHED or ${ERROR}: ${[...new Set(results)].join(', ')}`);
    assert.ok(refused >= 40 && acked.length >= 10, `refused ${refused}, acknowledged ${acked.length}`);
    assert.deepEqual(results.slice(0, refused), Array(refused).fill(ERROR), 'the oldest are the ones refused');
    await eventually(() => acked.every((k) => seen.includes(k)), 'every acknowledged publication delivered', 10_000);
    const text = await metricsRegistry(() => c.nodes[0]!.stats.snapshot()).metrics();
    const overflow = Number(/^xbar_cluster_replay_overflow_total (\d+)/m.exec(text)?.[1]);
    assert.ok(overflow >= refused, `xbar_cluster_replay_overflow_total ${overflow}`);
    assert.match(text, /^xbar_cluster_replay_buffer_bytes \d+/m);
    assert.ok(logs.lines.some((l) => l.msg.startsWith('replay buffer full (cluster.nats.replay_buffer)')), 'the overflow is logged');
    console.log(`# replay_buffer 64 KiB, 60 x 4 KiB published during an outage: ${refused} refused with ${ERROR}, ${acked.length} acknowledged and delivered; overflow counter ${overflow}`);
  });

  it('refuses an acknowledged publication when the outage outlasts replay_window', async () => {
    const c = await startCluster(2, { natsServers: 1, cluster: { replayWindow: 1500 } });
    started.push({ c, clients: [] });
    const { pub } = await pubSub(c, 'com.outage.long');
    await c.nats[0]!.kill('SIGKILL');
    await eventually(() => c.nodes[0]!.backplane.health() !== 'ready', 'node A to see NATS gone');
    const t0 = Date.now();
    const outcome = await pub.session.publish('com.outage.long', [1], {}, { acknowledge: true })!.then(() => 'acked', (e: { error?: string }) => e.error);
    const waited = Date.now() - t0;
    assert.equal(outcome, ERROR);
    assert.ok(waited >= 1400 && waited < 5000, `refused after ${waited} ms (replay_window 1500 ms)`);
    await c.nats[0]!.restart();
  });
});
