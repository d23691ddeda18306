/**
 * What an MQTT transport holds for clients beyond their connections is bounded, so many client
 * ids (one hostile peer's, say) cannot grow the router's memory without end:
 * - `max_offline_sessions`: past it, the persistent session offline longest ends early;
 * - `max_queued_bytes_total`: the QoS 1 messages all offline sessions keep together, in bytes —
 *   online sessions are not held back by it;
 * - `max_queued_bytes` bounds a session's packets in flight in bytes too (one may always be), so
 *   a client that reads but never acknowledges holds at most that twice (in flight and queued).
 * Real clients: mqtt.js, and a raw MQTT client that never sends PUBACK.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import type { IPublishPacket } from 'mqtt-packet';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { eventually } from '../../helpers/eventually.js';
import { RawMqtt, startMqttNode, type MqttTestNode } from './support.js';

const PERSISTENT = { protocolVersion: 5, reconnectPeriod: 0, clean: false, properties: { sessionExpiryInterval: 600 } } as const;

describe('MQTT: what offline and unacknowledging sessions hold is bounded', () => {
  let t: MqttTestNode;
  let wamp: AutobahnClient;
  const clients: mqtt.MqttClient[] = [];
  const url = () => `mqtt://127.0.0.1:${t.mqttPort}`;

  before(async () => {
    t = await startMqttNode({ maxOfflineSessions: 2, maxQueuedBytes: 100_000, maxQueuedBytesTotal: 3000 });
    wamp = await connectAutobahn(t.wsUrl, { serializer: 'msgpack' });
  });
  after(async () => {
    for (const c of clients) c.end(true);
    await wamp.close();
    await t.stop();
  });

  const publishQos1 = (topic: string, payload: string) =>
    wamp.session.publish(topic, [payload], {}, { acknowledge: true, _mqtt: { qos: 1 } } as Record<string, unknown>);

  /** Connects and collects messages from CONNACK on; resolves with whether the session was present. */
  async function resume(clientId: string): Promise<{ client: mqtt.MqttClient; present: boolean; messages: string[] }> {
    const client = mqtt.connect(url(), { ...PERSISTENT, clientId });
    clients.push(client);
    const messages: string[] = [];
    client.on('message', (_topic, payload) => messages.push(payload.toString()));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => client.once('connect', resolve));
    return { client, present: connack.sessionPresent, messages };
  }

  async function persistentSubscriber(clientId: string, filter: string): Promise<void> {
    const c = await mqtt.connectAsync(url(), { ...PERSISTENT, clientId });
    await c.subscribeAsync(filter, { qos: 1 });
    await c.endAsync();
    await t.offline(clientId);
  }

  const droppedBy = (clientId: string): number =>
    [...t.node.router.realm('realm1')!.sessions.values()].find((s) => (s.conn as unknown as { clientId?: string }).clientId === clientId)?.conn.dropped ?? -1;

  it('ends the session offline longest when more than max_offline_sessions are offline', async () => {
    for (const id of ['off-a', 'off-b', 'off-c']) await persistentSubscriber(id, 'off/t');
    await publishQos1('off.t', 'kept');
    const [a, b, c] = [await resume('off-a'), await resume('off-b'), await resume('off-c')];
    assert.equal(a.present, false, 'the first one offline was ended to make room');
    assert.equal(b.present, true);
    assert.equal(c.present, true);
    await eventually(() => b.messages.length === 1 && c.messages.length === 1, 'the kept sessions\' queued message');
    assert.deepEqual([a.messages, b.messages, c.messages], [[], ['kept'], ['kept']]);
    for (const x of [a, b, c]) await x.client.endAsync();
  });

  it('keeps at most max_queued_bytes_total of QoS 1 messages for all offline sessions together, and online sessions get everything', async () => {
    for (const id of ['tot-p', 'tot-q']) await persistentSubscriber(id, 'tot/t');
    const online = await mqtt.connectAsync(url(), { protocolVersion: 5, reconnectPeriod: 0 });
    clients.push(online);
    const live: string[] = [];
    online.on('message', (_topic, payload) => live.push(payload.toString()));
    await online.subscribeAsync('tot/t', { qos: 1 });
    // 1,000 bytes each (1,021 counted with the topic): two fit in 3,000 bytes, one per offline session.
    for (let i = 0; i < 5; i++) await publishQos1('tot.t', `${i}`.padEnd(1000, '.'));
    assert.equal(droppedBy('tot-p') + droppedBy('tot-q'), 8, 'eight of the ten offline deliveries dropped and counted');
    const [p, q] = [await resume('tot-p'), await resume('tot-q')];
    await eventually(() => p.messages.length + q.messages.length === 2 && live.length === 5, 'the kept and the live messages');
    assert.deepEqual(p.messages.map((m) => m[0]), ['0']);
    assert.deepEqual(q.messages.map((m) => m[0]), ['0']);
    assert.deepEqual(live.map((m) => m[0]), ['0', '1', '2', '3', '4']);
    // Back online, they gave their bytes back: offline again, each keeps a message again.
    for (const x of [p, q]) await x.client.endAsync();
    for (const id of ['tot-p', 'tot-q']) await t.offline(id);
    await publishQos1('tot.t', 'again'.padEnd(1000, '.'));
    const [p2, q2] = [await resume('tot-p'), await resume('tot-q')];
    await eventually(() => p2.messages.length === 1 && q2.messages.length === 1, 'a message each after the budget was given back');
    for (const x of [p2, q2]) await x.client.endAsync();
    await online.endAsync();
  });

  it('bounds the packets in flight to a client that never acknowledges by max_queued_bytes, then queues, then drops', async () => {
    const raw = new RawMqtt(t.mqttPort, 4);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'no-acks', clean: true, keepalive: 0 });
    await raw.next('connack');
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'inf/t', qos: 1 }] });
    await raw.next('suback');
    const publishes = () => raw.packets.filter((p): p is IPublishPacket => p.cmd === 'publish');
    // 30,000 bytes each within 100,000: three in flight, three queued, four dropped.
    for (let i = 0; i < 10; i++) await publishQos1('inf.t', `${i}`.padEnd(30_000, '.'));
    await eventually(() => publishes().length === 3, 'three packets in flight');
    assert.equal(droppedBy('no-acks'), 4);
    for (const p of publishes()) raw.send({ cmd: 'puback', messageId: p.messageId! });
    await eventually(() => publishes().length === 6, 'the three queued ones once the first were acknowledged');
    for (const p of publishes().slice(3)) raw.send({ cmd: 'puback', messageId: p.messageId! });
    await publishQos1('inf.t', 'last');
    await eventually(() => publishes().length === 7, 'the next message once all were acknowledged');
    assert.deepEqual(publishes().map((p) => p.payload.toString()[0]), ['0', '1', '2', '3', '4', '5', 'l']);
    raw.destroy();
  });
});
