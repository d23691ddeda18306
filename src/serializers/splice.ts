/**
 * Splicing for the binary serializers: a message is the encoded head, its one-byte array header
 * rewritten to count the payload's elements too, followed by the payload bytes as they arrived.
 */
import type { EncodedPayload, Headroom } from './serializer.js';

/**
 * `head`: the head encoded as an array of `headLength` elements, whose header is the one byte
 * `base | headLength` (MessagePack fixarray 0x90, CBOR 0x80; WAMP heads have at most 5 elements
 * and whole messages at most 7, so both counts fit).
 */
export function spliceBinary(head: Uint8Array, base: number, headLength: number, payload: EncodedPayload, room?: Headroom): Buffer {
  if (head[0] !== (base | headLength)) throw new Error(`encoded head of ${headLength} elements has header 0x${head[0]?.toString(16)}`);
  const size = payload.end - payload.start;
  const length = head.length + size;
  const front = room ? room.headroom(length) : 0;
  const out = Buffer.allocUnsafe(front + length);
  out[front] = base | (headLength + payload.count);
  copyBytes(head, 1, head.length, out, front + 1);
  copyBytes(payload.message, payload.start, payload.end, out, front + head.length);
  return out;
}

/** `source[start, end)` into `target` at `at`; a short run by loop (a typed-array view costs more). */
export function copyBytes(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number): void {
  if (end - start > 256) {
    target.set(start === 0 && end === source.length ? source : source.subarray(start, end), at);
    return;
  }
  for (let i = start; i < end; i++) target[at++] = source[i]!;
}
