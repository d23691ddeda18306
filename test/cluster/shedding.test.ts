/**
 * Gradual shedding (`cluster.shed`, issue 17 point 2) behind a real HAProxy (least connections,
 * /health/ready checks) over a real nats-server: stock clients with auto-reconnect — Autobahn|JS,
 * Debian's Autobahn|Python (Twisted Component) and mqtt.js over WebSocket (MQTT 5 and 3.1.1) —
 * all sit on node x1; node x2 starts; x1 closes sessions, newest first, at most `rate` per second
 * (WebSocket 1001; MQTT 5 DISCONNECT 0x9C "use another server") until the counts converge, the
 * clients come back through HAProxy onto x2, and every client is connected at the end. /metrics
 * counts the sheds.
 */
import assert from 'node:assert/strict';
import autobahn from 'autobahn';
import { type ChildProcess, spawn } from 'node:child_process';
import mqtt from 'mqtt';
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
import { mqttOptions } from '../integration/mqtt/support.js';

const RATE = 4;
/** Joined in this order, so that newest-first shedding reaches MQTT and Python: 6 of 12 move. */
const JS = 4;
const PY = 4;
const MQTT = 4;
const CLIENTS = JS + PY + MQTT;

/** Autobahn|Python's Component (Twisted) reconnects on its own; one line per join. */
const PY_CLIENT = String.raw`
import json, sys
from autobahn.twisted.component import Component, run
comp = Component(transports=[{"url": sys.argv[1], "max_retries": -1, "initial_retry_delay": 0.1, "max_retry_delay": 0.5, "retry_delay_growth": 1.3}], realm="realm1")
@comp.on_join
def joined(session, details):
    # sys.__stdout__: Twisted's logging takes over sys.stdout.
    sys.__stdout__.write(json.dumps({"joined": details.session}) + "\n")
    sys.__stdout__.flush()
run([comp], log_level="critical")
`;

interface PyClient { child: ChildProcess; joins: number }

function pythonClient(url: string): PyClient {
  const c: PyClient = { child: spawn('/usr/bin/python3', ['-c', PY_CLIENT, url], { stdio: ['ignore', 'pipe', 'inherit'] }), joins: 0 };
  c.child.stdout!.on('data', (d: Buffer) => (c.joins += d.toString().split('\n').filter((l) => l.startsWith('{"joined"')).length));
  return c;
}

function nodeConfig(port: number, name: string, nats: readonly NatsServer[], cluster: string): NodeConfig {
  const base = testConfig({ placement: { shed: { rate: RATE, margin: 10, settle: 3000 } } });
  const [web, ...rest] = base.transports as [Extract<TransportConfig, { type: 'web' }>, ...TransportConfig[]];
  const ws = web.paths.get('ws') as WebSocketPathConfig;
  const paths = new Map<string, WebSocketPathConfig | { type: 'health' } | { type: 'metrics' } | ({ type: 'mqtt' } & ReturnType<typeof mqttOptions>)>([
    ['ws', ws], ['mqtt', { type: 'mqtt', ...mqttOptions() }], ['health', { type: 'health' }], ['metrics', { type: 'metrics' }],
  ]);
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
  const py: PyClient[] = [];
  const mq: { client: mqtt.MqttClient; connects: number; moved: number[] }[] = [];
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
    for (const p of py) p.child.kill('SIGKILL');
    for (const m of mq) m.client.end(true);
    await haproxy?.stop();
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    await stopNats(nats ?? []);
  });

  it('moves sessions to a node that joins, a few per second, until the counts converge', async () => {
    const x1 = nodes[0]!;
    const via = `127.0.0.1:${haproxy.port}`;
    for (let i = 0; i < JS; i++) clients.push(reconnecting(`ws://${via}/ws`));
    await eventually(() => x1.router.sessionCount === JS, `${JS} Autobahn|JS sessions on x1`, 20_000);
    for (let i = 0; i < PY; i++) py.push(pythonClient(`ws://${via}/ws`));
    await eventually(() => x1.router.sessionCount === JS + PY, `${PY} Autobahn|Python sessions on x1`, 20_000);
    for (let i = 0; i < MQTT; i++) {
      const m = { client: mqtt.connect(`ws://${via}/mqtt`, { protocolVersion: i % 2 ? 4 : 5, reconnectPeriod: 100, clientId: `shed-${i}` }), connects: 0, moved: [] as number[] };
      m.client.on('connect', () => m.connects++);
      m.client.on('disconnect', (p) => m.moved.push(p.reasonCode ?? -1));
      mq.push(m);
    }
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
    console.log(`# ${CLIENTS} clients: x1 ${last.x1}, x2 ${last.x2} after ${x1.shedder!.shed} sheds in ${samples.at(-1)!.at - samples[0]!.at} ms`);
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
    await eventually(() => clients.every((c) => c.isOpen) && mq.every((m) => m.client.connected) && x1.router.sessionCount + x2.router.sessionCount === CLIENTS, 'every client connected', 10_000);
    // Newest first: the MQTT clients moved (MQTT 5 told "use another server"), then Autobahn|Python ones.
    const onX2 = (t: string) => x2.router.newestFirst().filter((s) => s.conn.peer.transport === t).length;
    assert.equal(onX2('mqtt'), MQTT, 'every MQTT client reconnected onto x2');
    assert.ok(mq.every((m) => m.connects === 2), `each MQTT client connected twice: ${mq.map((m) => m.connects).join(',')}`);
    assert.deepEqual(mq.filter((_, i) => i % 2 === 0).map((m) => m.moved), [[0x9c], [0x9c]], 'MQTT 5: DISCONNECT 0x9C');
    assert.ok(py.some((p) => p.joins === 2), `an Autobahn|Python client came back: joins ${py.map((p) => p.joins).join(',')}`);
    console.log(`# Autobahn|JS ${JS}, Autobahn|Python ${PY}, mqtt.js ${MQTT}: on x2 ${onX2('websocket')} WAMP, ${onX2('mqtt')} MQTT; Python joins ${py.map((p) => p.joins).join(',')}`);
    const metrics = await (await fetch(`http://127.0.0.1:${ports[0]}/metrics`)).text();
    assert.match(metrics, new RegExp(`^xbar_cluster_sessions_shed_total ${x1.shedder!.shed}$`, 'm'));
  });
});
