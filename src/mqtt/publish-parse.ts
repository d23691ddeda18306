/**
 * The common PUBLISH packet — QoS 0 or 1, no MQTT 5 properties — read straight from its bytes,
 * without `mqtt-packet`'s stream parser (its buffer list, packet object and copies were a fifth of
 * the gateway's time per message on the 1:1 path). Anything else (QoS 2, properties, a flag or
 * length out of place) is left to `mqtt-packet`, so every malformed packet still gets its answer
 * there. Pure: no socket here.
 */
import type { IPublishPacket } from 'mqtt-packet';

/** The PUBLISH in `packet` (one whole packet, framed), or undefined when `mqtt-packet` should read it. */
export function readSimplePublish(packet: Buffer, v5: boolean): IPublishPacket | undefined {
  const first = packet[0]!;
  if (first >> 4 !== 3) return undefined;
  const qos = ((first >> 1) & 3) as 0 | 1 | 2 | 3;
  const dup = (first & 0x08) !== 0;
  if (qos > 1 || (qos === 0 && dup)) return undefined;
  // The framer checked the Remaining Length and that the packet is whole: skip its bytes.
  let at = 1;
  while ((packet[at++]! & 0x80) !== 0);
  const end = packet.length;
  const length = end - at;
  if (at + 2 > end) return undefined;
  const topicLength = packet.readUInt16BE(at);
  at += 2;
  if (at + topicLength > end) return undefined;
  const topic = packet.toString('utf8', at, at + topicLength);
  at += topicLength;
  let messageId: number | undefined;
  if (qos === 1) {
    if (at + 2 > end) return undefined;
    messageId = packet.readUInt16BE(at);
    at += 2;
  }
  if (v5) {
    // Property Length 0 only; properties are mqtt-packet's to read.
    if (at >= end || packet[at] !== 0) return undefined;
    at += 1;
  }
  // A copy: the socket's chunk may be large, and a retained or queued payload outlives it.
  const payload = Buffer.from(packet.subarray(at, end));
  const p: IPublishPacket = { cmd: 'publish', topic, payload, qos: qos as 0 | 1, dup, retain: (first & 1) !== 0, length };
  if (messageId !== undefined) p.messageId = messageId;
  return p;
}
