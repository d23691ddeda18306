/**
 * Hand-made MessagePack payloads that any re-encoding would change, and checks that a client got
 * them byte for byte (tests of payload passthrough across nodes and workers).
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { serializerById } from '../../src/serializers/index.js';
import type { Msg, RawClient } from './raw-wamp.js';

const msgpack = serializerById('msgpack')!;

/** Arguments|ArgumentsKw as hand-made MessagePack: [1.5 (float64), 1.5 (float32), 1 (int8), bin 010203], {"b": 1, "2": 2}. */
export function payload(tag: number): Buffer {
  return Buffer.from([
    0xdc, 0x00, 0x05, // array16 of 5
    0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, // float64 1.5
    0xca, 0x3f, 0xc0, 0, 0, // float32 1.5
    0xd0, 0x01, // int8 1
    0xc4, 0x03, 0x01, 0x02, 0x03, // bin 01 02 03
    0xd0, tag, // int8 tag: which message this is
    0xde, 0x00, 0x02, // map16 of 2
    0xa1, 0x62, 0x01, // "b": 1
    0xa1, 0x32, 0x02, // "2": 2
  ]);
}
export const values = (tag: number): unknown[] => [[1.5, 1.5, 1, Buffer.from([1, 2, 3]), tag], { b: 1, 2: 2 }];

/** A MessagePack WAMP message: `head` encoded, then the hand-made payload as its last two elements. */
export function withPayload(head: readonly unknown[], bytes: Buffer): Buffer {
  const encoded = Buffer.from(msgpack.encode(head));
  assert.ok(head.length + 2 <= 15 && encoded[0] === 0x90 + head.length, 'a fixarray head');
  return Buffer.concat([Buffer.from([0x90 + head.length + 2]), encoded.subarray(1), bytes]);
}

/** Every message's bytes as it arrived. */
export function recordBytes(c: RawClient): Buffer[] {
  const all: Buffer[] = [];
  c.onRaw = (data) => {
    all.push(Buffer.from(data));
    return false;
  };
  return all;
}

export function endsWith(all: readonly Buffer[], code: number, bytes: Buffer, what: string): void {
  const hit = all.find((b) => msgpack.decode(b) instanceof Array && (msgpack.decode(b) as Msg)[0] === code && b.subarray(b.length - bytes.length).equals(bytes));
  assert.ok(hit, `${what}: the client's bytes, not a re-encoding (got ${all.map((b) => b.toString('hex')).join(' | ')})`);
}

