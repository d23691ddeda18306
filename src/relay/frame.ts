/**
 * WebSocket framing for the relay's fan-out (RFC 6455 §5.2): a message is framed once, as an
 * unmasked single frame, and the same buffers are written to every receiver's socket. Pure: no
 * socket is touched here.
 */

/** Messages up to this size are copied once into one buffer with their header (one write per socket). */
const MERGE_LIMIT = 64 * 1024;

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const FIN = 0x80;

/** A framed message: one or two buffers to write in order, and their total length. */
export interface Framed {
  readonly buffers: readonly Buffer[];
  /** Bytes on the wire (header + payload). */
  readonly wireBytes: number;
  /** Payload bytes. */
  readonly size: number;
}

/** The frame header for an unmasked final frame of `length` payload bytes. */
export function frameHeader(length: number, binary: boolean): Buffer {
  const opcode = FIN | (binary ? OPCODE_BINARY : OPCODE_TEXT);
  if (length < 126) return Buffer.from([opcode, length]);
  if (length < 65536) {
    const h = Buffer.allocUnsafe(4);
    h[0] = opcode;
    h[1] = 126;
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.allocUnsafe(10);
  h[0] = opcode;
  h[1] = 127;
  h.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  h.writeUInt32BE(length >>> 0, 6);
  return h;
}

/** Frames `payload` once for every receiver; the payload bytes are never altered. */
export function frame(payload: Buffer, binary: boolean): Framed {
  const header = frameHeader(payload.length, binary);
  const wireBytes = header.length + payload.length;
  if (payload.length === 0) return { buffers: [header], wireBytes, size: 0 };
  if (payload.length <= MERGE_LIMIT) return { buffers: [Buffer.concat([header, payload], wireBytes)], wireBytes, size: payload.length };
  return { buffers: [header, payload], wireBytes, size: payload.length };
}
