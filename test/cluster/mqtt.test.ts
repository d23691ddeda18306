/**
 * MQTT across a cluster: three xbar nodes over a real nats-server, an MQTT transport on each.
 * An MQTT publication on one node reaches MQTT and WAMP subscribers on the others, a WAMP
 * publication reaches MQTT subscribers on every node, with the MQTT attributes (QoS 1, user
 * properties) carried over NATS; a retained MQTT message published on one node is delivered to a
 * subscriber on another.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { mqttOptions } from '../integration/mqtt/support.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { collector, connectAutobahn, type AutobahnClient } from '../helpers/clients.js';

describe('MQTT in a cluster', () => {
  let c: TestCluster;
  let wamp: AutobahnClient;
  const clients: mqtt.MqttClient[] = [];
  const mqttUrl = (i: number) => `mqtt://127.0.0.1:${c.nodes[i]!.port('mqtt')}`;
  const connect = async (i: number) => {
    const m = await mqtt.connectAsync(mqttUrl(i), { protocolVersion: 5, reconnectPeriod: 0 });
    clients.push(m);
    return m;
  };

  before(async () => {
    c = await startCluster(3, {
      extraTransports: [{ type: 'mqtt', id: 'mqtt', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 }, ...mqttOptions() }],
    });
    wamp = await connectAutobahn(c.urls[2]!, { serializer: 'msgpack' });
  });
  after(async () => {
    for (const m of clients) m.end(true);
    await wamp.close();
    await c.stop();
  });

  it('routes MQTT and WAMP publications between nodes, with QoS and user properties', async () => {
    const onWamp = collector<string>(1);
    await wamp.session.subscribe('cl.t', (args: unknown[]) => onWamp.push(Buffer.from(args[0] as Uint8Array).toString()));
    const sub = await connect(1);
    await sub.subscribeAsync('cl/t', { qos: 1 });
    const got = new Promise<mqtt.IPublishPacket>((r) => sub.once('message', (_t, _p, packet) => r(packet)));
    const pub = await connect(0);
    await pub.publishAsync('cl/t', 'hello', { qos: 1, properties: { userProperties: { from: 'node0' } } });
    const p = await got;
    assert.equal(p.payload.toString(), 'hello');
    assert.equal(p.qos, 1);
    assert.deepEqual({ ...p.properties?.userProperties }, { from: 'node0' });
    assert.deepEqual(await onWamp.done, ['hello']);

    // SUBACK follows the WAMP SUBSCRIBED, which a node sends once its NATS interest is in place.
    const subs = await Promise.all([0, 1].map(async (i) => {
      const s = await connect(i);
      await s.subscribeAsync('cl/w', { qos: 1 });
      return s;
    }));
    const fromWamp = Promise.all(subs.map((s) => new Promise<number>((r) => s.once('message', (_t, _p, packet) => r(packet.qos)))));
    await wamp.session.publish('cl.w', ['x'], {}, { acknowledge: true, _mqtt: { qos: 1 } } as Record<string, unknown>);
    assert.deepEqual(await fromWamp, [1, 1]);
  });

  it('delivers a message retained on one node to a subscriber on another', async () => {
    const pub = await connect(0);
    await pub.publishAsync('cl/r', 'kept', { qos: 1, retain: true });
    const sub = await connect(2);
    const got = new Promise<[string, boolean]>((r) => sub.once('message', (_t, p, packet) => r([p.toString(), packet.retain])));
    await sub.subscribeAsync('cl/r', { qos: 1 });
    assert.deepEqual(await got, ['kept', true]);
  });
});
