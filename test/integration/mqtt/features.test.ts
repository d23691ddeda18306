/**
 * MQTT 5 and session features through mqtt.js: shared subscriptions, topic aliases, user
 * properties and message expiry passed on, QoS 2 delivered once, No Local, an empty retained
 * payload clearing the retained message, session takeover, the will's delay, and the offline
 * queue's byte bound; and MQTT sessions in the meta API and statistics.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { collector, connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { startMqttNode, type MqttTestNode } from './support.js';
import { eventually } from '../../helpers/eventually.js';

describe('MQTT features', () => {
  let t: MqttTestNode;
  let wamp: AutobahnClient;
  const clients: mqtt.MqttClient[] = [];
  const url = () => `mqtt://127.0.0.1:${t.mqttPort}`;
  const connect = async (o: mqtt.IClientOptions = {}) => {
    const c = await mqtt.connectAsync(url(), { protocolVersion: 5, reconnectPeriod: 0, ...o });
    clients.push(c);
    return c;
  };

  before(async () => {
    t = await startMqttNode({ maxQueuedBytes: 2000 });
    wamp = await connectAutobahn(t.wsUrl, { serializer: 'msgpack' });
  });
  after(async () => {
    for (const c of clients) c.end(true);
    await wamp.close();
    await t.stop();
  });

  it('matches "#" at the parent level too, "+" at one level, and "+" with "#" through the router', async () => {
    const sub = await connect();
    const seen: string[] = [];
    sub.on('message', (topic, _p, packet) => seen.push(`${packet.topic}`));
    await sub.subscribeAsync(['tree/#', 'leaf/+', 'mix/+/#'], { qos: 0 });
    const pub = await connect();
    for (const topic of ['tree', 'tree/a/b', 'treex', 'leaf', 'leaf/a', 'leaf/a/b', 'mix', 'mix/a', 'mix/a/b/c', 'end']) {
      await pub.publishAsync(topic, 'x', { qos: 1 });
    }
    // A WAMP publication on the same topics reaches the same filters.
    await wamp.session.publish('mix.b', ['y'], {}, { acknowledge: true });
    await sub.subscribeAsync('end', { qos: 0 });
    await pub.publishAsync('end', 'x', { qos: 1 });
    while (!seen.includes('end')) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen, ['tree', 'tree/a/b', 'leaf/a', 'mix/a', 'mix/a/b/c', 'mix/b', 'end']);
  });

  it('gives each message of a $share group to one member', async () => {
    const members = [await connect(), await connect()];
    const got = [0, 0];
    members.forEach((c, i) => c.on('message', () => got[i]!++));
    for (const c of members) await c.subscribeAsync('$share/g1/sh/t', { qos: 1 });
    const pub = await connect();
    for (let i = 0; i < 40; i++) await pub.publishAsync('sh/t', String(i), { qos: 1 });
    await eventually(() => got[0]! + got[1]! >= 40, 'the 40 shared-subscription messages');
    assert.equal(got[0]! + got[1]!, 40);
    assert.ok(got[0]! > 0 && got[1]! > 0, `both members got some: ${got}`);
  });

  it('resolves topic aliases and passes user properties, content type and expiry to subscribers', async () => {
    const sub = await connect();
    await sub.subscribeAsync('al/+', { qos: 1 });
    const got = new Promise<mqtt.IPublishPacket>((r) => sub.on('message', (_t, _p, packet) => r(packet)));
    const pub = await connect();
    // First PUBLISH names the alias, the second uses it with an empty topic.
    await pub.publishAsync('al/x', 'one', { qos: 1, properties: { topicAlias: 3 } });
    const first = await got;
    assert.equal(first.topic, 'al/x');
    const second = new Promise<mqtt.IPublishPacket>((r) => sub.once('message', (_t, _p, packet) => r(packet)));
    await pub.publishAsync('', 'two', { qos: 1, properties: { topicAlias: 3, userProperties: { k: 'v' }, contentType: 'text/plain', messageExpiryInterval: 60 } });
    const p = await second;
    assert.equal(p.topic, 'al/x');
    assert.equal(p.payload.toString(), 'two');
    assert.deepEqual({ ...p.properties?.userProperties }, { k: 'v' });
    assert.equal(p.properties?.contentType, 'text/plain');
    assert.ok(p.properties!.messageExpiryInterval! <= 60 && p.properties!.messageExpiryInterval! > 0);
  });

  it('delivers a QoS 2 PUBLISH once, with PUBREC/PUBREL/PUBCOMP', async () => {
    const got = collector<string>(1);
    await wamp.session.subscribe('q2.t', (args: unknown[]) => got.push(Buffer.from(args[0] as Uint8Array).toString()));
    const pub = await connect({ protocolVersion: 4 });
    await pub.publishAsync('q2/t', 'exactly', { qos: 2 });
    assert.deepEqual(await got.done, ['exactly']);
  });

  it('does not send a No Local subscriber its own messages', async () => {
    const c = await connect();
    await c.subscribeAsync('nl/t', { qos: 0, nl: true });
    const other = await connect();
    await other.subscribeAsync('nl/t', { qos: 0 });
    const seen: string[] = [];
    c.on('message', (_t, p) => seen.push(`self:${p}`));
    const reached = new Promise<void>((r) => other.on('message', () => r()));
    await c.publishAsync('nl/t', 'mine', { qos: 1 });
    await reached;
    const marker = new Promise<void>((r) => c.on('message', (_t, p) => p.toString() === 'theirs' && r()));
    await other.publishAsync('nl/t', 'theirs', { qos: 1 });
    await marker;
    assert.deepEqual(seen, ['self:theirs']);
  });

  it('clears a retained message with an empty retained payload', async () => {
    const pub = await connect();
    await pub.publishAsync('rt/x', 'kept', { qos: 1, retain: true });
    await pub.publishAsync('rt/x', '', { qos: 1, retain: true });
    await pub.publishAsync('rt/marker', 'm', { qos: 1, retain: true });
    const sub = await connect();
    const seen: string[] = [];
    const marker = new Promise<void>((r) => sub.on('message', (topic, p) => {
      seen.push(`${topic}=${p}`);
      if (topic === 'rt/marker') r();
    }));
    await sub.subscribeAsync('rt/#', { qos: 1 });
    await marker;
    assert.deepEqual(seen, ['rt/marker=m']);
  });

  it('closes the old connection when another takes its client id over (DISCONNECT 0x8E)', async () => {
    const old = await connect({ clientId: 'takeover-1' });
    const reason = new Promise<number | undefined>((r) => old.on('disconnect', (p) => r(p.reasonCode)));
    await connect({ clientId: 'takeover-1' });
    assert.equal(await reason, 0x8e);
  });

  it('holds a persistent session\'s will for its delay, and not at all if it resumes first', async () => {
    const got = collector<string>(1, 10_000);
    await wamp.session.subscribe('wd.t', (args: unknown[]) => got.push(Buffer.from(args[0] as Uint8Array).toString()));
    const will = { topic: 'wd/t', payload: Buffer.from('late'), qos: 1 as const, retain: false, properties: { willDelayInterval: 1 } };
    const c = await mqtt.connectAsync(url(), { protocolVersion: 5, reconnectPeriod: 0, clientId: 'wd-1', clean: false, properties: { sessionExpiryInterval: 60 }, will });
    (c.stream as unknown as { destroy(): void }).destroy();
    await t.offline('wd-1');
    // Back within the delay: no will.
    const back = await connect({ clientId: 'wd-1', clean: false, properties: { sessionExpiryInterval: 60 } });
    await back.endAsync();
    // Gone again, with a will and its delay: it is published once the delay has passed.
    const again = await mqtt.connectAsync(url(), { protocolVersion: 5, reconnectPeriod: 0, clientId: 'wd-1', clean: false, properties: { sessionExpiryInterval: 60 }, will: { ...will, payload: Buffer.from('second') } });
    (again.stream as unknown as { destroy(): void }).destroy();
    assert.deepEqual(await got.done, ['second']);
  });

  it('bounds an offline session\'s queue in bytes and counts what it drops', async () => {
    const first = await connect({ clientId: 'q-1', clean: false, properties: { sessionExpiryInterval: 60 } });
    await first.subscribeAsync('qb/t', { qos: 1 });
    await first.endAsync();
    await t.offline('q-1');
    for (let i = 0; i < 30; i++) await wamp.session.publish('qb.t', ['x'.repeat(100)], {}, { acknowledge: true, _mqtt: { qos: 1 } } as Record<string, unknown>);
    const session = [...t.node.router.realm('realm1')!.sessions.values()].find((s) => s.conn.peer.transport === 'mqtt' && s.conn.dropped > 0);
    assert.ok(session, 'a session counted drops');
    // The kept messages may come with CONNACK: listen before connecting.
    const back = mqtt.connect(url(), { protocolVersion: 5, reconnectPeriod: 0, clientId: 'q-1', clean: false, properties: { sessionExpiryInterval: 60 } });
    clients.push(back);
    let n = 0;
    back.on('message', () => n++);
    await eventually(() => n + session.conn.dropped >= 30, 'every message delivered or dropped');
    assert.ok(n > 0 && n < 30, `delivered ${n} of 30 within 2000 bytes`);
  });

  it('lists MQTT sessions in the meta API with transport type mqtt', async () => {
    const c = await connect({ clientId: 'meta-1' });
    const ids = (await wamp.session.call('wamp.session.list')) as number[];
    const details = (await Promise.all(ids.map((id) => wamp.session.call('wamp.session.get', [id])))) as Record<string, unknown>[];
    const mqttOnes = details.filter((d) => (d.transport as Record<string, unknown> | undefined)?.type === 'mqtt');
    assert.ok(mqttOnes.length >= 1);
    assert.ok(t.node.stats.snapshot().realms.some((r) => r.sessions >= mqttOnes.length));
    await c.endAsync();
  });
});

describe('MQTT at router shutdown', () => {
  it('tells MQTT 5 clients the server is shutting down (DISCONNECT 0x8B)', async () => {
    const t = await startMqttNode();
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${t.mqttPort}`, { protocolVersion: 5, reconnectPeriod: 0 });
    const reason = new Promise<number | undefined>((r) => c.on('disconnect', (p) => r(p.reasonCode)));
    await t.stop();
    assert.equal(await reason, 0x8b);
    c.end(true);
  });
});
