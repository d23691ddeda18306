/**
 * The PUBLISH packets the gateway builds in shared parts read back with `mqtt-packet` (the parser
 * mqtt.js and aedes use) as the same packet, for both protocol versions and over WebSocket; the
 * framer splits a stream at packet boundaries however it is chunked and refuses oversize and
 * malformed lengths before buffering them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import { readPublish } from '../../helpers/mqtt-read.js';
import { connectLevel, PacketFramer } from '../../../src/mqtt/framer.js';
import { duplicate, packetIdBytes, PublishFrame, type OutgoingPublish } from '../../../src/mqtt/publish-packet.js';

/** Strips a server's unmasked WebSocket frame header, checking it says binary and the right length. */
function unframe(b: Buffer): Buffer {
  assert.equal(b[0], 0x82);
  const len = b[1]! < 126 ? b[1]! : b.readUInt16BE(2);
  const body = b.subarray(b[1]! < 126 ? 2 : 4);
  assert.equal(body.length, len);
  return body;
}

const message: OutgoingPublish = {
  topic: 'sensors/t1/ü',
  payload: Buffer.from('x'.repeat(300)),
  retain: true,
  properties: {
    payloadFormatIndicator: true, messageExpiryInterval: 60, contentType: 'text/plain', responseTopic: 'r/1',
    correlationData: Buffer.from([1, 2, 3]), userProperties: { a: '1', b: ['2', '3'] },
  },
};

describe('PUBLISH packets in shared parts', () => {
  for (const version of [4, 5] as const) {
    for (const ws of [false, true]) {
      it(`reads back as the same packet (MQTT ${version === 5 ? '5' : '3.1.1'}${ws ? ', WebSocket' : ''})`, () => {
        const f = new PublishFrame(message, version, ws);
        const q0 = readPublish(ws ? unframe(f.qos0()) : f.qos0(), version);
        assert.equal(q0.topic, message.topic);
        assert.equal(q0.qos, 0);
        assert.equal(q0.retain, true);
        assert.deepEqual(Buffer.from(q0.payload as Buffer), message.payload);
        const { head, tail } = f.qos1();
        const q1 = readPublish(ws ? unframe(Buffer.concat([head, packetIdBytes(513), tail])) : Buffer.concat([head, packetIdBytes(513), tail]), version);
        assert.equal(q1.qos, 1);
        assert.equal(q1.messageId, 513);
        assert.equal(q1.dup, false);
        assert.deepEqual(Buffer.from(q1.payload as Buffer), message.payload);
        if (version === 5) {
          assert.equal(q1.properties?.messageExpiryInterval, 60);
          assert.equal(q1.properties?.contentType, 'text/plain');
          assert.equal(q1.properties?.responseTopic, 'r/1');
          assert.deepEqual([...(q1.properties?.correlationData ?? [])], [1, 2, 3]);
          assert.deepEqual({ ...q1.properties?.userProperties }, { a: '1', b: ['2', '3'] });
          assert.equal(q1.properties?.payloadFormatIndicator, true);
        } else assert.equal(q1.properties, undefined);
        const dup = readPublish(Buffer.concat(duplicate(message, version, false, 7)), version);
        assert.equal(dup.dup, true);
        assert.equal(dup.messageId, 7);
      });
    }
  }

  it('matches mqtt-packet byte for byte (QoS 0, MQTT 3.1.1)', () => {
    const m: OutgoingPublish = { topic: 'a/b', payload: Buffer.from('hello'), retain: false };
    const ours = new PublishFrame(m, 4, false).qos0();
    const theirs = mqttPacket.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('hello'), qos: 0, retain: false, dup: false });
    assert.deepEqual(ours, theirs);
  });
});

describe('PacketFramer', () => {
  const packets = [
    mqttPacket.generate({ cmd: 'pingreq' }),
    mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(20_000, 7), qos: 1, messageId: 3, retain: false, dup: false }),
    mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(3), qos: 0, retain: false, dup: false }),
  ];
  const stream = Buffer.concat(packets);

  it('splits a stream at packet boundaries however it is chunked', () => {
    for (const size of [1, 2, 3, 7, 100, stream.length]) {
      const framer = new PacketFramer(1 << 20);
      const seen: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) {
        assert.equal(framer.push(stream.subarray(i, i + size), (p) => void seen.push(Buffer.from(p))), undefined);
      }
      assert.deepEqual(seen, packets, `chunks of ${size}`);
    }
  });

  it('splits a stream cut at random points, whole packets and pieces in one chunk alike, in order', () => {
    const many = Array.from({ length: 300 }, (_, i) => mqttPacket.generate({
      cmd: 'publish', topic: `t/${i}`, payload: Buffer.alloc([0, 5, 200, 20_000][i % 4]!, i & 0xff), qos: 0, retain: false, dup: false,
    }));
    const all = Buffer.concat(many);
    for (let round = 0; round < 20; round++) {
      const framer = new PacketFramer(1 << 20);
      const seen: Buffer[] = [];
      for (let i = 0; i < all.length;) {
        const n = 1 + Math.floor(Math.random() * (Math.random() < 0.5 ? 8 : 60_000));
        assert.equal(framer.push(all.subarray(i, i + n), (p) => void seen.push(Buffer.from(p))), undefined);
        i += n;
      }
      assert.deepEqual(seen, many, `round ${round}`);
    }
  });

  it('refuses a packet over the maximum from its header alone', () => {
    const framer = new PacketFramer(1000);
    assert.deepEqual(framer.push(packets[1]!.subarray(0, 5), () => assert.fail('no packet')), {
      error: 'too-large', message: `packet of ${packets[1]!.length} bytes exceeds the maximum of 1000`,
    });
  });

  it('refuses a Remaining Length of five bytes', () => {
    assert.equal(new PacketFramer(1 << 30).push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), () => undefined)?.error, 'malformed');
  });

  it('reads the protocol level of a CONNECT', () => {
    for (const protocolVersion of [3, 4, 5] as const) {
      const c = mqttPacket.generate({ cmd: 'connect', clientId: 'c', protocolVersion, protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT' });
      assert.equal(connectLevel(c), protocolVersion);
    }
    assert.equal(connectLevel(packets[0]!), undefined);
  });
});

describe('the gateway wire kind', () => {
  it('decodes an EVENT once and gives every receiver the same packet bytes', async () => {
    const { Outgoing } = await import('../../../src/connection/outgoing.js');
    const { mqttWire } = await import('../../../src/mqtt/event-wire.js');
    const { PayloadMapping } = await import('../../../src/mqtt/payload-mapping.js');
    const { serializerById } = await import('../../../src/serializers/index.js');
    const pino = (await import('pino')).default;
    const msgpack = serializerById('msgpack')!;
    let decodes = 0;
    const counting = { ...msgpack, decode: (b: Uint8Array) => (decodes++, msgpack.decode(b)) } as typeof msgpack;
    const wire = mqttWire(counting, new PayloadMapping(new Map([['', { type: 'passthrough' }]]), 'realm1'), { topicOf: () => 'a.b' }, pino({ level: 'silent' }));
    const out = new Outgoing(msgpack.encode([36, 1, 2, {}, [Buffer.from('hi')]]), true);
    const first = out.framed(wire)!;
    const again = out.framed(wire)!;
    assert.equal(first, again);
    assert.equal(decodes, 1);
    assert.equal(first.frame(4, false, false).qos0(), again.frame(4, false, false).qos0());
    assert.equal(first.frame(4, false, false).qos1().tail, again.frame(4, false, false).qos1().tail);
    const p = readPublish(first.frame(4, false, false).qos0(), 4);
    assert.deepEqual([p.topic, Buffer.from(p.payload as Buffer).toString()], ['a/b', 'hi']);
  });

  it('takes the router\'s values without decoding and builds the bytes the decoded EVENT gives', async () => {
    const { Outgoing } = await import('../../../src/connection/outgoing.js');
    const { mqttWire } = await import('../../../src/mqtt/event-wire.js');
    const { PayloadMapping } = await import('../../../src/mqtt/payload-mapping.js');
    const { serializerById } = await import('../../../src/serializers/index.js');
    const pino = (await import('pino')).default;
    const msgpack = serializerById('msgpack')!;
    let decodes = 0;
    let encodes = 0;
    const counting = { ...msgpack, decode: (b: Uint8Array) => (decodes++, msgpack.decode(b)), encode: (m: readonly unknown[]) => (encodes++, msgpack.encode(m)) } as typeof msgpack;
    const mapping = new PayloadMapping(new Map([['', { type: 'passthrough' }], ['n', { type: 'native', serializer: 'cbor' }]]), 'realm1');
    const wire = () => mqttWire(counting, mapping, { topicOf: () => 'a.b' }, pino({ level: 'silent' }));
    const props = { messageExpiryInterval: 60, correlationData: new Uint8Array([1, 2]), userProperties: { k: ['v', 'w'] } };
    const events: unknown[][] = [
      [36, 1, 2, {}, [Buffer.from('hi')]],
      [36, 2 ** 40, 2 ** 53, { topic: 'x.y', _mqtt: { qos: 1, retain: true, props } }, ['text']],
      // Not one binary: JSON, where undefined must read as MessagePack's nil and bytes as a Buffer.
      [36, 3, 4, { topic: 'x.y' }, [1, undefined, new Uint8Array([7])], { a: undefined, b: [undefined] }],
      [36, 5, 6, { topic: 'n.z' }, [{ c: undefined }], { d: new Uint8Array([9]) }],
    ];
    for (const ev of events) {
      const fromBytes = new Outgoing(msgpack.encode(ev), true).framed(wire())!;
      decodes = 0;
      const values = Outgoing.encodedOnDemand(counting, ev);
      const fromValues = values.framed(wire())!;
      assert.equal(decodes, 0);
      assert.equal(encodes, 0, 'nothing encoded while no byte stream read the message');
      for (const version of [4, 5] as const) {
        for (const ws of [false, true]) {
          assert.deepEqual(fromValues.frame(version, ws, false).qos0(), fromBytes.frame(version, ws, false).qos0(), JSON.stringify(ev));
          assert.deepEqual(fromValues.frame(version, ws, true).qos1(), fromBytes.frame(version, ws, true).qos1());
        }
      }
      assert.deepEqual(Buffer.from(values.bytes), Buffer.from(msgpack.encode(ev)));
      assert.equal(encodes, 1);
      void values.bytes;
      assert.equal(encodes, 1, 'encoded once');
      encodes = 0;
    }
  });
});

