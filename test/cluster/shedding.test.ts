/**
 * Gradual shedding (`cluster.shed`, issue 17 point 2) behind a real HAProxy (least connections,
 * /health/ready checks) over a real nats-server: twelve Autobahn|JS clients with auto-reconnect
 * all sit on node x1; node x2 starts; x1 closes sessions (WebSocket 1001) at most `rate` per
 * second until the counts converge, the clients come back through HAProxy onto x2, and every
 * client is connected at the end. /metrics counts the sheds.
 */
import assert from 'node:assert/strict';
import autobahn from 'autobahn';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { NodeConfig, TransportConfig, WebSocketPathConfig } from '../../src/config/types.js';
import { XbarNode } from '../../src/node.js';
import { clusterConfig } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { type Haproxy, startHaproxy } from '../helpers/haproxy.js';
import { startNats, stopNats, type NatsServer } from '../helpers/nats.js';
import { testConfig } from '../helpers/node.js';
import { freePort } from '../helpers/ports.js';
import '../helpers/clients.js';

const CLIENTS = 12;
const RATE = 4;

function nodeConfig(port: number, name: string, nats: readonly NatsServer[], cluster: string): NodeConfig {
  const base = testConfig({ placement: { shed: { rate: RATE, margin: 10, settle: 3000 } } });
  const [web, ...rest] = base.transports as [Extract<TransportConfig, { type: 'web' }>, ...TransportConfig[]];
  const ws = web.paths.get('ws') as WebSocketPathConfig;
  const paths = new Map<string, WebSocketPathConfig | { type: 'health' } | { type: 'metrics' }>([['ws', ws], ['health', { type: 'health' }], ['metrics', { type: 'metrics' }]]);
  return {
    ...base,
    transports: [{ ...web, endpoint: { type: 'tcp', interface: '127.0.0.1', port }, paths }, ...rest],
    cluster: clusterConfig(nats, cluster, { node: name }),
  };
}

function reconnecting(url: string): autobahn.Connection {
  const c = new autobahn.Connection({
    url, realm: 'realm1', max_retries: -1, initial_retry_delay: 0.1, max_retry_delay: 0.5, retry_delay_growth: 1.3, retry_if_unreachable: true,
  });
  c.onclose = () => false; // keep retrying
  c.open();
  return c;
}

describe('gradual shedding behind HAProxy', { timeout: 90_000 }, () => {
  let nats: NatsServer[];
  const nodes: XbarNode[] = [];
  let haproxy: Haproxy;
  const clients: autobahn.Connection[] = [];
  let ports: [number, number];
  const cluster = `shed${process.pid}`;
  const start = async (i: number) => {
    const n = new XbarNode(nodeConfig(ports[i]!, `x${i + 1}`, nats, cluster), { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
    await n.start();
    nodes.push(n);
    return n;
  };

  before(async () => {
    nats = await startNats(1);
    ports = [await freePort(), await freePort()];
    await start(0);
    haproxy = await startHaproxy([{ name: 'x1', port: ports[0] }, { name: 'x2', port: ports[1] }], '/health/ready');
  });
  after(async () => {
    for (const c of clients) c.close();
    await haproxy?.stop();
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    await stopNats(nats ?? []);
  });

  it('moves sessions to a node that joins, a few per second, until the counts converge', async () => {
    const x1 = nodes[0]!;
    for (let i = 0; i < CLIENTS; i++) clients.push(reconnecting(`ws://127.0.0.1:${haproxy.port}/ws`));
    await eventually(() => x1.router.sessionCount === CLIENTS, `${CLIENTS} sessions on x1`, 20_000);
    // Alone, x1 sheds nothing, however many it holds.
    assert.equal(x1.shedder?.shed, 0);

    const samples: { at: number; x1: number; x2: number }[] = [];
    const x2 = await start(1);
    const sampler = setInterval(() => samples.push({ at: Date.now(), x1: x1.router.sessionCount, x2: x2.router.sessionCount }), 50);
    try {
      await eventually(() => x2.router.sessionCount >= CLIENTS / 2 - 1 && x1.router.sessionCount + x2.router.sessionCount === CLIENTS, 'the counts to converge', 30_000);
      // Settled: nothing more moves for a while (the shares are within the margin).
      const shedThen = x1.shedder!.shed;
      const convergedAt = Date.now();
      await eventually(() => samples.at(-1)!.at > convergedAt + 2000, '2 s more of samples', 10_000);
      assert.equal(x1.shedder!.shed, shedThen, 'no more sheds once converged');
    } finally {
      clearInterval(sampler);
    }
    const last = samples.at(-1)!;
    if (process.env.XBAR_TEST_VERBOSE) console.log(samples.map((x) => `${x.at - samples[0]!.at}:${x.x1}/${x.x2}`).join(' '));
    console.log(`# ${CLIENTS} Autobahn|JS clients: x1 ${last.x1}, x2 ${last.x2} after ${x1.shedder!.shed} sheds in ${samples.at(-1)!.at - samples[0]!.at} ms`);
    assert.ok(Math.abs(last.x1 - last.x2) <= 2, `converged: ${last.x1} / ${last.x2}`);
    assert.equal(x2.shedder!.shed, 0, 'the lighter node sheds nothing');
    // Never all at once: within any second x1 lost at most the rate (and one more for the tick edges).
    let worst = 0;
    for (const s of samples) {
      const later = samples.filter((t) => t.at > s.at && t.at <= s.at + 1000);
      for (const t of later) worst = Math.max(worst, s.x1 - t.x1);
    }
    assert.ok(worst <= RATE + 1, `x1 lost ${worst} sessions within one second`);
    // Every client is connected again.
    await eventually(() => clients.every((c) => c.isOpen), 'every client connected', 10_000);
    const metrics = await (await fetch(`http://127.0.0.1:${ports[0]}/metrics`)).text();
    assert.match(metrics, new RegExp(`^xbar_cluster_sessions_shed_total ${x1.shedder!.shed}$`, 'm'));
  });
});
