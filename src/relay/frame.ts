/**
 * WebSocket framing for the relay's fan-out (RFC 6455 §5.2): a message is framed once, as an
 * unmasked single frame, and the same buffers are written to every receiver's socket. Pure: no
 * socket is touched here.
 */
import { frameMessage } from '../transports/websocket-frame.js';

/** A framed message: one or two buffers to write in order, and their total length. */
export interface Framed {
  readonly buffers: readonly Buffer[];
  /** Bytes on the wire (header + payload). */
  readonly wireBytes: number;
  /** Payload bytes. */
  readonly size: number;
}

/** Frames `payload` once for every receiver; the payload bytes are never altered. */
export function frame(payload: Buffer, binary: boolean): Framed {
  const buffers = frameMessage(payload, binary);
  const wireBytes = buffers.length === 1 ? buffers[0]!.length : buffers[0]!.length + payload.length;
  return { buffers, wireBytes, size: payload.length };
}
