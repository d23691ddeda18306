/**
 * RawSocket framing (advanced/transport_rawsocket.md), pure: handshake octets and the 4-octet
 * frame header. Handshake: 0x7F, LLLL SSSS (max length 2^(9+L), serializer S), 0x00, 0x00.
 * Error reply: 0x7F, EEEE 0000, 0x00, 0x00. Frame header: RRRR XTTT + 24-bit length, where
 * TTT is 0 message, 1 PING, 2 PONG, and X marks a length of exactly 2^24.
 */
export const MAGIC = 0x7f;

export const HandshakeError = {
  serializerUnsupported: 1,
  maxLengthUnacceptable: 2,
  reservedBits: 3,
  connectionLimit: 4,
} as const;

export const FrameType = { message: 0, ping: 1, pong: 2 } as const;

export interface ClientHandshake {
  readonly serializerId: number;
  /** Largest message the client accepts, bytes. */
  readonly maxLength: number;
}

/** Parses the client's four handshake octets; undefined = not a RawSocket peer at all. */
export function parseHandshake(b: Uint8Array): ClientHandshake | { error: number } | undefined {
  if (b[0] !== MAGIC) return undefined;
  if (b[2] !== 0 || b[3] !== 0) return { error: HandshakeError.reservedBits };
  const octet = b[1]!;
  return { serializerId: octet & 0x0f, maxLength: 2 ** (9 + (octet >> 4)) };
}

export function handshakeReply(serializerId: number, maxLength: number): Buffer {
  return Buffer.from([MAGIC, (lengthExponent(maxLength) << 4) | serializerId, 0, 0]);
}

export function handshakeError(code: number): Buffer {
  return Buffer.from([MAGIC, code << 4, 0, 0]);
}

/** The largest L with 2^(9+L) <= maxLength, clamped to 0..15. */
export function lengthExponent(maxLength: number): number {
  const e = Math.floor(Math.log2(Math.max(512, Math.min(maxLength, 2 ** 24)))) - 9;
  return Math.max(0, Math.min(15, e));
}

export function frameHeader(type: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(4);
  writeFrameHeader(h, type, length);
  return h;
}

/** Writes the 4-octet header of a frame of `type` and `length` at out[0]. */
export function writeFrameHeader(out: Buffer, type: number, length: number): void {
  if (length === 2 ** 24) {
    out[0] = 0x08 | type;
    out.writeUIntBE(0, 1, 3);
  } else {
    out[0] = type;
    out.writeUIntBE(length, 1, 3);
  }
}

export interface FrameHeader {
  readonly type: number;
  readonly length: number;
}

/** Parses a frame header; a string explains a malformed one. */
export function parseFrameHeader(b: Uint8Array, offset: number): FrameHeader | string {
  const first = b[offset]!;
  if ((first & 0xf0) !== 0) return `reserved bits set in frame header (0x${first.toString(16)})`;
  const type = first & 0x07;
  if (type > FrameType.pong) return `unknown frame type ${type}`;
  const low = (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!;
  if (first & 0x08) {
    if (low !== 0) return 'frame length over 2^24';
    return { type, length: 2 ** 24 };
  }
  return { type, length: low };
}
