/**
 * A hostile or broken MQTT client gets the spec's answer and a close, and nothing else is
 * affected: first packet not CONNECT, unsupported protocol level, a second CONNECT, oversize and
 * malformed packets, misplaced wildcards, generated garbage — while a well-behaved client on the
 * same node keeps publishing and receiving; authentication refusals carry the right CONNACK code.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { prng } from '../../helpers/prng.js';
import { realm } from '../../helpers/node.js';
import { RawMqtt, startMqttNode, type MqttTestNode } from './support.js';
import { eventually } from '../../helpers/eventually.js';

const connect = (version: 4 | 5, extra: Partial<mqttPacket.IConnectPacket> = {}): Packet => ({
  cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId: `raw-${Math.random()}`, clean: true, keepalive: 0, ...extra,
});

describe('MQTT protocol errors', () => {
  let t: MqttTestNode;
  let healthy: mqtt.MqttClient;
  let healthySeen = 0;

  before(async () => {
    t = await startMqttNode({ maxPacketSize: 4096 });
    healthy = await mqtt.connectAsync(`mqtt://127.0.0.1:${t.mqttPort}`, { reconnectPeriod: 0 });
    await healthy.subscribeAsync('healthy/#', { qos: 1 });
    healthy.on('message', () => healthySeen++);
  });
  after(async () => {
    await healthy.endAsync();
    await t.stop();
  });

  /** The healthy client still gets its own publication through the router. */
  async function stillWorks(): Promise<void> {
    const before = healthySeen;
    await healthy.publishAsync('healthy/ping', 'x', { qos: 1 });
    await eventually(() => healthySeen !== before, 'the healthy client\'s own publication');
  }

  it('closes a connection whose first packet is not CONNECT', async () => {
    const c = new RawMqtt(t.mqttPort, 4).send({ cmd: 'pingreq' });
    await c.closed;
    assert.deepEqual(c.packets, []);
  });

  it('answers an unsupported protocol level with CONNACK 0x01, then closes (MQTT-3.1.2-2)', async () => {
    const bytes = mqttPacket.generate(connect(4));
    bytes[8] = 6; // the level byte after "\0\4MQTT"
    const c = new RawMqtt(t.mqttPort, 4).send(bytes);
    await c.closed;
    assert.equal(c.packets.length, 1);
    assert.equal((c.packets[0] as mqttPacket.IConnackPacket).returnCode, 1);
  });

  it('closes on a second CONNECT (MQTT-3.1.0-2); MQTT 5 says why with DISCONNECT 0x82', async () => {
    const v3 = new RawMqtt(t.mqttPort, 4).send(connect(4));
    await v3.next('connack');
    v3.send(connect(4));
    await v3.closed;
    const v5 = new RawMqtt(t.mqttPort, 5).send(connect(5), 5);
    await v5.next('connack');
    v5.send(connect(5), 5);
    await v5.closed;
    assert.equal((await v5.next('disconnect') as mqttPacket.IDisconnectPacket).reasonCode, 0x82);
    await stillWorks();
  });

  it('refuses a packet over max_packet_size from its header: DISCONNECT 0x95 (MQTT 5), then closes', async () => {
    const c = new RawMqtt(t.mqttPort, 5).send(connect(5), 5);
    const ack = await c.next('connack') as mqttPacket.IConnackPacket;
    assert.equal(ack.properties?.maximumPacketSize, 4096);
    c.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(5000), qos: 0, retain: false, dup: false }, 5);
    await c.closed;
    assert.equal((await c.next('disconnect') as mqttPacket.IDisconnectPacket).reasonCode, 0x95);
  });

  it('closes on misplaced wildcards: in a filter (0x8F) and in a topic name (0x90)', async () => {
    const sub = new RawMqtt(t.mqttPort, 5).send(connect(5), 5);
    await sub.next('connack');
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#/b', qos: 0 }] }, 5);
    await sub.closed;
    assert.equal((await sub.next('disconnect') as mqttPacket.IDisconnectPacket).reasonCode, 0x8f);
    const pub = new RawMqtt(t.mqttPort, 4).send(connect(4));
    await pub.next('connack');
    // mqtt-packet will not write a wildcard topic name: patch "a/b" into "a/+".
    const bytes = mqttPacket.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    bytes[bytes.indexOf('a/b') + 2] = '+'.charCodeAt(0);
    pub.send(bytes);
    await pub.closed;
    await stillWorks();
  });

  it('refuses an empty client id without a clean session (CONNACK 0x02, MQTT-3.1.3-8)', async () => {
    // mqtt-packet will not write this CONNECT: level 4, flags 0 (Clean Session 0), Keep Alive 0, client id "".
    const c = new RawMqtt(t.mqttPort, 4).send(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0, 0, 0, 0, 0]));
    await c.closed;
    assert.equal((c.packets[0] as mqttPacket.IConnackPacket).returnCode, 2);
  });

  it('closes a client silent for 1.5 × its Keep Alive (MQTT-3.1.2-24)', async () => {
    const c = new RawMqtt(t.mqttPort, 4).send(connect(4, { keepalive: 1 }));
    await c.next('connack');
    await c.closed;
  });

  it('survives generated garbage after CONNECT on many connections, and leaks no session', async () => {
    const rand = prng(1883);
    const sessions = () => t.node.router.realm('realm1')!.sessions.size;
    const baseline = sessions();
    const clients: RawMqtt[] = [];
    for (let i = 0; i < 40; i++) {
      const version = i % 2 === 0 ? 4 : 5;
      const c = new RawMqtt(t.mqttPort, version).send(connect(version), version);
      await c.next('connack');
      const junk = Buffer.alloc(1 + Math.floor(rand() * 600));
      for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rand() * 256);
      // Some start as a plausible packet type with a wild length.
      if (i % 3 === 0) junk[0] = (1 + Math.floor(rand() * 15)) << 4;
      c.send(junk);
      clients.push(c);
    }
    await stillWorks();
    for (const c of clients) c.destroy();
    await Promise.all(clients.map((c) => c.closed));
    await eventually(() => sessions() <= baseline, 'the destroyed clients\' sessions to end');
    await stillWorks();
  });
});

describe('MQTT authentication', () => {
  let t: MqttTestNode;

  before(async () => {
    t = await startMqttNode({
      auth: { ticket: { type: 'static', principals: new Map([['device1', { ticket: 's3cret', role: 'anonymous' }]]) } },
    });
  });
  after(() => t.stop());

  it('accepts username and password as a ticket, with the username as authid', async () => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${t.mqttPort}`, { username: 'device1', password: 's3cret', reconnectPeriod: 0 });
    const s = [...t.node.router.realm('realm1')!.sessions.values()].find((x) => x.conn.peer.transport === 'mqtt');
    assert.equal(s?.authid, 'device1');
    assert.equal(s?.identity?.authmethod, 'ticket');
    await c.endAsync();
  });

  for (const version of [4, 5] as const) {
    it(`refuses a wrong password with ${version === 5 ? '0x86' : '4'} and no credentials with ${version === 5 ? '0x87' : '5'} (MQTT ${version === 5 ? '5' : '3.1.1'})`, async () => {
      const wrong = new RawMqtt(t.mqttPort, version).send(connect(version, { username: 'device1', password: Buffer.from('nope') }), version);
      await wrong.closed;
      const a = wrong.packets[0] as mqttPacket.IConnackPacket;
      assert.equal(version === 5 ? a.reasonCode : a.returnCode, version === 5 ? 0x86 : 4);
      const none = new RawMqtt(t.mqttPort, version).send(connect(version), version);
      await none.closed;
      const b = none.packets[0] as mqttPacket.IConnackPacket;
      assert.equal(version === 5 ? b.reasonCode : b.returnCode, version === 5 ? 0x87 : 5);
    });
  }
});

describe('MQTT wills and authorization', () => {
  it('refuses a will the role may not register (CONNACK 5), and accepts the same client without one', async () => {
    const sensors = { uri: 'sensors.', match: 'prefix' as const, allow: { call: false, register: false, publish: true, subscribe: true }, disclose: { caller: false, publisher: false }, cache: true };
    const t = await startMqttNode({}, { realms: [realm('realm1', [{ name: 'anonymous', permissions: [sensors] }])] });
    try {
      const will = new RawMqtt(t.mqttPort, 4).send(connect(4, { will: { topic: 'sensors/gone', payload: Buffer.from('x'), qos: 0, retain: false } }));
      await will.closed;
      assert.equal((will.packets[0] as mqttPacket.IConnackPacket).returnCode, 5);
      const plain = new RawMqtt(t.mqttPort, 4).send(connect(4));
      assert.equal((await plain.next('connack') as mqttPacket.IConnackPacket).returnCode, 0);
      plain.destroy();
    } finally {
      await t.stop();
    }
  });
});
