import assert from 'node:assert/strict';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';

/** The one PUBLISH in `bytes`, as `mqtt-packet` (the parser mqtt.js and aedes use) reads it. */
export function readPublish(bytes: Buffer, protocolVersion: 4 | 5): IPublishPacket {
  const parser = mqttPacket.parser({ protocolVersion });
  const out: Packet[] = [];
  parser.on('packet', (p: Packet) => out.push(p));
  parser.on('error', (e: Error) => assert.fail(e.message));
  parser.parse(bytes);
  assert.equal(out.length, 1);
  return out[0] as IPublishPacket;
}
