/**
 * The gateway's own reading of simple PUBLISH packets agrees with `mqtt-packet` (which reads every
 * other packet) on every field, for random topics, payloads and flags, MQTT 3.1.1 and 5; what it
 * leaves to `mqtt-packet` — QoS 2, MQTT 5 properties, DUP at QoS 0, QoS 3, truncated fields — it
 * leaves, so malformed packets keep their answer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mqttPacket from 'mqtt-packet';
import { readPublish } from '../../helpers/mqtt-read.js';
import { readSimplePublish } from '../../../src/mqtt/publish-parse.js';

const TOPIC_CHARS = ['a', 'b', '/', 'ü', '€', '😀', '0', '-', ' '];

function randomTopic(): string {
  const n = 1 + Math.floor(Math.random() * 40);
  let t = '';
  for (let i = 0; i < n; i++) t += TOPIC_CHARS[Math.floor(Math.random() * TOPIC_CHARS.length)];
  return t;
}

describe('readSimplePublish', () => {
  it('reads QoS 0 and 1 PUBLISH packets as mqtt-packet does (random packets, 3.1.1 and 5)', () => {
    for (let i = 0; i < 2000; i++) {
      const version = i % 2 === 0 ? 4 : 5;
      const qos = (i >> 1) % 2 as 0 | 1;
      // Payload sizes across the 1-, 2- and 3-byte Remaining Length boundaries.
      const size = [0, 1, 100, 127, 128, 16_000, 16_383, 16_384, 70_000][i % 9]!;
      const packet = mqttPacket.generate({
        cmd: 'publish', topic: randomTopic(), payload: randomBytes(size), qos, retain: Math.random() < 0.5,
        dup: qos === 1 && Math.random() < 0.5, ...(qos === 1 ? { messageId: 1 + Math.floor(Math.random() * 65535) } : {}),
      }, { protocolVersion: version });
      const mine = readSimplePublish(packet, version === 5);
      assert.ok(mine, `packet ${i} read`);
      const theirs = readPublish(packet, version);
      assert.equal(mine.topic, theirs.topic);
      assert.equal(mine.qos, theirs.qos);
      assert.equal(mine.retain, theirs.retain);
      assert.equal(mine.dup, theirs.dup);
      assert.equal(mine.messageId, theirs.messageId);
      assert.equal(mine.length, theirs.length);
      assert.deepEqual(Buffer.from(mine.payload as Buffer), Buffer.from(theirs.payload as Buffer));
      assert.equal(mine.properties, undefined);
    }
  });

  it('copies the payload out of the packet (a retained or queued payload outlives the socket chunk)', () => {
    const packet = mqttPacket.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('hello'), qos: 0, retain: false, dup: false });
    const p = readSimplePublish(packet, false)!;
    packet.fill(0);
    assert.equal((p.payload as Buffer).toString(), 'hello');
  });

  it('leaves QoS 2, MQTT 5 properties and malformed flags or lengths to mqtt-packet', () => {
    const q2 = mqttPacket.generate({ cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 2, messageId: 7, retain: false, dup: false });
    assert.equal(readSimplePublish(q2, false), undefined);
    const props = mqttPacket.generate({
      cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { userProperties: { k: 'v' } },
    }, { protocolVersion: 5 });
    assert.equal(readSimplePublish(props, true), undefined);
    const alias = mqttPacket.generate({
      cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 3 },
    }, { protocolVersion: 5 });
    assert.equal(readSimplePublish(alias, true), undefined);
    const q0 = mqttPacket.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    // DUP at QoS 0 (MQTT-3.3.1-2) and QoS 3 (MQTT-3.3.1-4).
    assert.equal(readSimplePublish(Buffer.from([q0[0]! | 0x08, ...q0.subarray(1)]), false), undefined);
    assert.equal(readSimplePublish(Buffer.from([q0[0]! | 0x06, ...q0.subarray(1)]), false), undefined);
    // A topic length past the end, a QoS 1 packet without its identifier, v5 without its property length.
    assert.equal(readSimplePublish(Buffer.from([0x30, 0x03, 0x00, 0x09, 0x61]), false), undefined);
    assert.equal(readSimplePublish(Buffer.from([0x32, 0x04, 0x00, 0x02, 0x61, 0x62]), false), undefined);
    assert.equal(readSimplePublish(Buffer.from([0x30, 0x03, 0x00, 0x01, 0x61]), true), undefined);
    assert.equal(readSimplePublish(Buffer.from([0x30, 0x02]), false), undefined);
  });
});
