/**
 * `cluster.max_sessions` (issue 17, point 2) on two nodes over a real nats-server: the full node
 * refuses a WebSocket upgrade with 503, Retry-After and the lighter node's addresses, and a
 * RawSocket HELLO with ABORT xbar.error.node_full naming them; Autobahn|JS sees the refusal and
 * joins the lighter node at the URL it was given; MQTT clients get CONNACK 3 (3.1.1) or 0x9C "use
 * another server" naming it (MQTT 5); the refusals are counted in /metrics; the node
 * takes sessions again once one leaves. The soft mark (`high_water`) shows the node busy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TransportConfig } from '../../src/config/types.js';
import { connectAutobahn, type AutobahnClient } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { RawSocketClient } from '../helpers/raw-wamp.js';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { mqttOptions } from '../integration/mqtt/support.js';

const OPS: TransportConfig = { type: 'web', id: 'ops', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 }, paths: new Map([['metrics', { type: 'metrics' }]]) };
const MQTT: TransportConfig = { type: 'mqtt', id: 'mqtt', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 }, ...mqttOptions() };

/** The CONNACK refusal mqtt.js reports (its error's code) and, for MQTT 5, the reason string. */
function mqttRefusal(url: string, protocolVersion: 4 | 5): Promise<{ code: number | undefined; reason: string | undefined }> {
  const client = mqtt.connect(url, { protocolVersion, reconnectPeriod: 0 });
  return new Promise((resolve, reject) => {
    client.once('connect', () => {
      client.end(true);
      reject(new Error('the MQTT connection was accepted'));
    });
    client.once('packetreceive', (p) => {
      if (p.cmd !== 'connack') return;
      client.end(true);
      const reason = (p.properties as { reasonString?: string } | undefined)?.reasonString;
      resolve({ code: protocolVersion === 5 ? p.reasonCode : p.returnCode, reason });
    });
    client.on('error', () => undefined);
  });
}

/** A WebSocket upgrade expected to be refused: status, headers and body. */
function refused(url: string): Promise<{ status: number; retryAfter: string | undefined; body: Record<string, unknown> }> {
  const ws = new WebSocket(url, ['wamp.2.json'], { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: JSON.parse(body) as Record<string, unknown> }));
    });
    ws.once('error', () => undefined);
  });
}

describe('cluster.max_sessions on a 2-node cluster', { timeout: 60_000 }, () => {
  let c: TestCluster;
  const open: AutobahnClient[] = [];

  before(async () => {
    c = await startCluster(2, { extraTransports: [OPS, MQTT], placement: { maxSessions: 3, highWater: 2, retryAfter: 7 } });
    await eventually(() => c.nodes.every((n) => n.backplane.directory().length === 2), 'both nodes in both directories');
  });
  after(async () => {
    await Promise.all(open.map((x) => x.close()));
    await c.stop();
  });

  it('refuses the upgrade and the HELLO of a full node, naming the lighter node, and takes sessions again when one leaves', async () => {
    const [x1, x2] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    const x2Urls = [`ws://127.0.0.1:${x2.port('web')}/ws`, `rs://127.0.0.1:${x2.port('rawsocket')}`];
    for (let i = 0; i < 3; i++) open.push(await connectAutobahn(c.urls[0]!));
    await eventually(() => x1.backplane.directory()[0]!.state === 'full' && x2.backplane.directory().find((n) => n.node === 'x1')?.state === 'full', 'x1 advertised full');

    const r = await refused(c.urls[0]!);
    assert.equal(r.status, 503);
    assert.equal(r.retryAfter, '7');
    assert.equal(r.body.error, 'xbar.error.node_full');
    assert.deepEqual(r.body.urls, x2Urls, 'the lighter node first');

    const raw = await RawSocketClient.open(x1.port('rawsocket'));
    raw.send([1, 'realm1', { roles: { subscriber: {} } }]);
    const abort = await raw.waitFor((m) => m[0] === 3);
    assert.equal(abort[2], 'xbar.error.node_full');
    const details = abort[1] as { message: string; urls: string[]; limit: string; max: number; nodes: { node: string; sessions: number }[] };
    assert.deepEqual(details.urls, x2Urls);
    assert.equal(details.limit, 'cluster.max_sessions');
    assert.equal(details.max, 3);
    assert.deepEqual(details.nodes.map((n) => n.node), ['x2']);
    assert.match(details.message, /this node is full \(3 sessions, cluster\.max_sessions\): connect to ws:\/\/127\.0\.0\.1:\d+\/ws/);
    await raw.ended;

    // MQTT clients are refused in CONNACK: 3.1.1 "server unavailable" (3), MQTT 5 "use another server" (0x9C) naming it.
    const mqttUrl = `mqtt://127.0.0.1:${x1.port('mqtt')}`;
    assert.deepEqual(await mqttRefusal(mqttUrl, 4), { code: 3, reason: undefined });
    const v5 = await mqttRefusal(mqttUrl, 5);
    assert.equal(v5.code, 0x9c);
    assert.match(v5.reason ?? '', /^this node is full \(3 sessions, cluster\.max_sessions\): connect to ws:\/\/127\.0\.0\.1:\d+\/ws$/);

    // Autobahn|JS over RawSocket reads the ABORT's message and goes where it points.
    const refusal = await connectAutobahn('', { rawsocketPort: x1.port('rawsocket') }).then(() => undefined, (e: { details?: { reason?: string; message?: string } }) => e.details);
    assert.equal(refusal?.reason, 'xbar.error.node_full');
    const pointed = /connect to (\S+)/.exec(refusal?.message ?? '')![1]!;
    const moved = await connectAutobahn(pointed);
    open.push(moved);
    assert.equal(x2.router.sessionCount, 1, 'joined on x2');

    const metrics = await (await fetch(`http://127.0.0.1:${x1.addresses.find((a) => a.transport === 'ops')!.port}/metrics`)).text();
    assert.match(metrics, /^xbar_cluster_sessions_refused_total\{at="hello"\} 4$/m, 'the RawSocket HELLO, Autobahn|JS and both MQTT CONNECTs');
    assert.match(metrics, /^xbar_cluster_sessions_refused_total\{at="websocket_upgrade"\} 1$/m);

    // One leaves: the node takes the next one (busy, over the high-water mark, but not full).
    await open.shift()!.close();
    await eventually(() => x1.router.sessionCount === 2, 'x1 down to 2 sessions');
    open.push(await connectAutobahn(c.urls[0]!));
    assert.equal(x1.router.sessionCount, 3);
    await open.shift()!.close();
    // An MQTT session counts like any other: it fills the node again.
    await eventually(() => x1.router.sessionCount === 2, 'x1 down to 2 sessions again');
    const device = await mqtt.connectAsync(mqttUrl, { protocolVersion: 5, reconnectPeriod: 0 });
    assert.equal(x1.router.sessionCount, 3);
    assert.equal((await refused(c.urls[0]!)).status, 503, 'full with the MQTT session');
    await device.endAsync();
    await eventually(() => x1.router.sessionCount === 2, 'the MQTT session gone');
    await eventually(() => x1.backplane.directory()[0]!.state === 'busy', 'x1 busy at the high-water mark');
  });
});
