/**
 * PUBLISH packets a server sends (MQTT 3.1.1 §3.3, MQTT 5 §3.3), built in parts so that one
 * message is encoded once for every receiver: at QoS 0 the whole packet is the same for every
 * receiver with the same protocol version; at QoS 1 only the 2-byte packet identifier differs,
 * so a receiver writes the shared head, its own identifier and the shared tail. Over WebSocket
 * the packet is also wrapped in one binary frame, framed once. Pure: no socket here.
 */
import { frameHeader } from '../transports/websocket-frame.js';

export type ProtocolVersion = 4 | 5;

/** The MQTT 5 properties a PUBLISH carries from publisher to subscriber (§3.3.2.3). */
export interface PublishProperties {
  readonly payloadFormatIndicator?: boolean;
  /** Seconds. */
  readonly messageExpiryInterval?: number;
  readonly contentType?: string;
  readonly responseTopic?: string;
  readonly correlationData?: Uint8Array;
  readonly userProperties?: Readonly<Record<string, string | readonly string[]>>;
}

export interface OutgoingPublish {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
  readonly properties?: PublishProperties;
}

/** One message's packet for one protocol version and wire, in shareable parts. */
export class PublishFrame {
  private q0: Buffer | undefined;
  private q1: { head: Buffer; tail: Buffer } | undefined;

  constructor(private readonly m: OutgoingPublish, private readonly version: ProtocolVersion, private readonly ws: boolean) {}

  /** The whole QoS 0 packet. */
  qos0(): Buffer {
    return (this.q0 ??= build(this.m, this.version, this.ws, 0, false).head);
  }

  /** The QoS 1 packet around its packet identifier: head, then the identifier, then tail. */
  qos1(): { head: Buffer; tail: Buffer } {
    return (this.q1 ??= build(this.m, this.version, this.ws, 1, false) as { head: Buffer; tail: Buffer });
  }

  /** Bytes of the QoS 1 packet (for byte bounds). */
  get size(): number {
    const q = this.qos1();
    return q.head.length + 2 + q.tail.length;
  }
}

/** A QoS 1 packet with the DUP flag, for a resend after a reconnect (MQTT-4.4.0-1). */
export function duplicate(m: OutgoingPublish, version: ProtocolVersion, ws: boolean, packetId: number): Buffer[] {
  const { head, tail } = build(m, version, ws, 1, true) as { head: Buffer; tail: Buffer };
  return [head, packetIdBytes(packetId), tail];
}

export function packetIdBytes(id: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(id, 0);
  return b;
}

function build(m: OutgoingPublish, version: ProtocolVersion, ws: boolean, qos: 0 | 1, dup: boolean): { head: Buffer; tail?: Buffer } {
  const topicLength = Buffer.byteLength(m.topic, 'utf8');
  const props = version === 5 ? encodeProperties(m.properties) : undefined;
  const propsLength = props ? props.length + varintSize(props.length) : 0;
  const remaining = 2 + topicLength + (qos === 1 ? 2 : 0) + propsLength + m.payload.length;
  const packetLength = 1 + varintSize(remaining) + remaining;
  const wsHeader = ws ? frameHeader(packetLength, true) : undefined;
  const front = wsHeader ? wsHeader.length : 0;
  // Head: [ws header] fixed header + topic; QoS 0 puts everything into it.
  const headLength = front + 1 + varintSize(remaining) + 2 + topicLength + (qos === 0 ? propsLength + m.payload.length : 0);
  const head = Buffer.allocUnsafe(headLength);
  let at = 0;
  if (wsHeader) at += wsHeader.copy(head, 0);
  head[at++] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (m.retain ? 1 : 0);
  at = writeVarint(head, at, remaining);
  head.writeUInt16BE(topicLength, at);
  at += 2;
  at += head.write(m.topic, at, 'utf8');
  const rest = qos === 0 ? head : Buffer.allocUnsafe(propsLength + m.payload.length);
  let r = qos === 0 ? at : 0;
  if (props) {
    r = writeVarint(rest, r, props.length);
    r += props.copy(rest, r);
  }
  m.payload.copy(rest, r);
  return qos === 0 ? { head } : { head, tail: rest };
}

/** MQTT 5 property bytes (§2.2.2.2), without their length. */
function encodeProperties(p: PublishProperties | undefined): Buffer {
  if (!p) return EMPTY;
  const parts: Buffer[] = [];
  if (p.payloadFormatIndicator !== undefined) parts.push(Buffer.from([0x01, p.payloadFormatIndicator ? 1 : 0]));
  if (p.messageExpiryInterval !== undefined) {
    const b = Buffer.allocUnsafe(5);
    b[0] = 0x02;
    b.writeUInt32BE(p.messageExpiryInterval >>> 0, 1);
    parts.push(b);
  }
  if (p.contentType !== undefined) parts.push(Buffer.from([0x03]), utf8String(p.contentType));
  if (p.responseTopic !== undefined) parts.push(Buffer.from([0x08]), utf8String(p.responseTopic));
  if (p.correlationData !== undefined) parts.push(Buffer.from([0x09]), binary(p.correlationData));
  if (p.userProperties) {
    for (const [k, v] of Object.entries(p.userProperties)) {
      for (const value of typeof v === 'string' ? [v] : v) parts.push(Buffer.from([0x26]), utf8String(k), utf8String(value));
    }
  }
  return parts.length === 0 ? EMPTY : Buffer.concat(parts);
}

const EMPTY = Buffer.alloc(0);

function utf8String(s: string): Buffer {
  const n = Buffer.byteLength(s, 'utf8');
  const b = Buffer.allocUnsafe(2 + n);
  b.writeUInt16BE(n, 0);
  b.write(s, 2, 'utf8');
  return b;
}

function binary(data: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(2 + data.length);
  b.writeUInt16BE(data.length, 0);
  b.set(data, 2);
  return b;
}

export function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

function writeVarint(out: Buffer, at: number, n: number): number {
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out[at++] = byte;
  } while (n > 0);
  return at;
}
