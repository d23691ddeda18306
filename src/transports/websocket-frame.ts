/**
 * WebSocket framing for messages a server sends (RFC 6455 §5.2): one unmasked final frame. Both
 * the WAMP transport and the relay frame a message once and write the same buffers to every
 * receiver; neither alters the payload bytes.
 */
import { copyBytes } from '../serializers/splice.js';

/** Payloads up to this size are copied once into one buffer with their header (one write per socket). */
export const MERGE_LIMIT = 64 * 1024;

const FIN_TEXT = 0x81;
const FIN_BINARY = 0x82;

/** The header of an unmasked final frame of `length` payload bytes. */
export function frameHeader(length: number, binary: boolean): Buffer {
  const header = Buffer.allocUnsafe(headerSize(length));
  writeHeader(header, length, binary);
  return header;
}

/**
 * The frame of one message: header and payload in one new buffer up to MERGE_LIMIT, else the
 * header followed by the payload itself (no copy of a large payload).
 */
export function frameMessage(payload: Uint8Array, binary: boolean): Buffer[] {
  const length = payload.byteLength;
  if (length > MERGE_LIMIT) return [frameHeader(length, binary), asBuffer(payload)];
  const size = headerSize(length);
  const out = Buffer.allocUnsafe(size + length);
  writeHeader(out, length, binary);
  copyBytes(payload, 0, length, out, size);
  return [out];
}

/** Bytes of the header of a frame of `length` payload bytes. */
export function headerSize(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/** The payload length of a frame of `total` bytes, header included (the inverse of headerSize). */
export function messageLength(total: number): number {
  if (total - 2 < 126) return total - 2;
  return total - 4 < 65536 ? total - 4 : total - 10;
}

/** Writes the header of an unmasked final frame of `length` payload bytes at out[0]. */
export function writeHeader(out: Buffer, length: number, binary: boolean): void {
  out[0] = binary ? FIN_BINARY : FIN_TEXT;
  if (length < 126) {
    out[1] = length;
  } else if (length < 65536) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    out.writeUInt32BE(length >>> 0, 6);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
