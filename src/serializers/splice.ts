/**
 * Splicing for the binary serializers: a message is the encoded head, its one-byte array header
 * rewritten to count the payload's elements too, followed by the payload bytes as they arrived.
 */
import type { EncodedPayload, Headroom } from './serializer.js';

/**
 * A payload larger than this is passed on as a view of the bytes it came in, after a head of its
 * own (`encodeSplicedParts`): copying it cost more than the rest of the message's way through the
 * router (bench/README.md, bulk). Smaller ones are copied into one buffer with their head, so a
 * queued message does not keep a whole read chunk alive for a few bytes.
 */
export const VIEW_PAYLOAD_MIN = 64 * 1024;

/** The payload's bytes as a view (no copy) of the message they came in. */
export function payloadView(payload: EncodedPayload, end = payload.end): Buffer {
  const m = payload.message;
  return Buffer.from(m.buffer, m.byteOffset + payload.start, end - payload.start);
}

/**
 * The head of a spliced message as a buffer of its own (the encoder's may be reused), its array
 * header counting the payload's elements too: `[head, payloadView(payload)]` is the message.
 */
export function binaryHead(head: Uint8Array, base: number, headLength: number, payload: EncodedPayload): Buffer {
  if (head[0] !== (base | headLength)) throw new Error(`encoded head of ${headLength} elements has header 0x${head[0]?.toString(16)}`);
  const out = Buffer.allocUnsafe(head.length);
  out[0] = base | (headLength + payload.count);
  copyBytes(head, 1, head.length, out, 1);
  return out;
}

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
