/**
 * Splits a byte stream into whole MQTT control packets (fixed header: type byte, then the
 * Remaining Length as a variable byte integer of at most 4 bytes, §2.2.3), refusing a packet
 * larger than the transport allows before any of its body is buffered. The packets themselves
 * are parsed by `mqtt-packet`. Pure: no socket here.
 */

export type FrameError = { readonly error: 'malformed' | 'too-large'; readonly message: string };

export class PacketFramer {
  /** Bytes of a packet not yet whole, in the chunks they came in. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** The held packet's whole size once its Remaining Length is known (0: not yet). */
  private needed = 0;

  constructor(private readonly maxPacketSize: number) {}

  /** Feeds bytes; calls `packet` for each whole packet (a view, valid during the call). Stops at an error. */
  push(chunk: Buffer, packet: (bytes: Buffer) => boolean | void): FrameError | undefined {
    if (this.heldBytes > 0) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      // A long packet still arriving is joined once, when it is whole, not at every chunk.
      if (this.heldBytes < this.needed) return undefined;
      chunk = Buffer.concat(this.held, this.heldBytes);
      this.held = [];
      this.heldBytes = 0;
      this.needed = 0;
    }
    let at = 0;
    while (chunk.length - at >= 2) {
      const header = remainingLength(chunk, at);
      if (header === undefined) break;
      if (header === 'malformed') return { error: 'malformed', message: 'malformed Remaining Length' };
      const total = header.offset - at + header.length;
      if (total > this.maxPacketSize) {
        return { error: 'too-large', message: `packet of ${total} bytes exceeds the maximum of ${this.maxPacketSize}` };
      }
      if (chunk.length - at < total) {
        this.needed = total;
        break;
      }
      const bytes = chunk.subarray(at, at + total);
      at += total;
      if (packet(bytes) === false) return undefined;
    }
    if (at < chunk.length) {
      this.held = [chunk.subarray(at)];
      this.heldBytes = chunk.length - at;
    }
    return undefined;
  }
}

/** The Remaining Length of the packet at buf[start]; `offset` is where its body starts; undefined when incomplete. */
function remainingLength(buf: Buffer, start = 0): { length: number; offset: number } | 'malformed' | undefined {
  let value = 0;
  let multiplier = 1;
  for (let i = start + 1; i <= start + 4; i++) {
    if (i >= buf.length) return undefined;
    const byte = buf[i]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { length: value, offset: i + 1 };
    multiplier *= 128;
  }
  return 'malformed';
}

/**
 * The protocol level of a CONNECT packet, read before `mqtt-packet` parses it, so that an
 * unsupported level gets CONNACK 0x01 (MQTT-3.1.2-2) rather than a bare close; undefined when the
 * packet is not a CONNECT with a protocol name MQTT (3.1.1, 5) or MQIsdp (3.1).
 */
export function connectLevel(packet: Buffer): number | undefined {
  if (packet[0] !== 0x10) return undefined;
  const header = remainingLength(packet);
  if (header === undefined || header === 'malformed') return undefined;
  const at = header.offset;
  if (packet.length < at + 2) return undefined;
  const nameLength = packet.readUInt16BE(at);
  const name = packet.toString('latin1', at + 2, at + 2 + nameLength);
  if (name !== 'MQTT' && name !== 'MQIsdp') return undefined;
  const level = packet[at + 2 + nameLength];
  return level;
}
