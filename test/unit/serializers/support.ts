/** Shared helpers for the serializer tests (not a test file itself). */
import { Buffer } from 'node:buffer';
import { prng } from '../../helpers/prng.js';

export const hex = (text: string): Buffer => Buffer.from(text, 'hex');
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export { prng as seededRandom };

/** WAMP messages every serializer must carry unchanged. Bytes are Buffers, as decoders return them. */
export const SAMPLE_MESSAGES: readonly (readonly unknown[])[] = [
  [1, 'realm1', { roles: { publisher: {}, subscriber: { features: { pattern_based_subscription: true } } } }],
  [2, 2 ** 53, { authid: 'Zoë', authrole: 'anonymous', roles: { broker: {} } }],
  [16, 1, { exclude_me: false }, 'com.example.topic', ['héllo wörld ✓ 😀 中文', null, true], { deep: { a: [1, [2, [3]]] } }],
  [36, 2 ** 53, 2 ** 53 - 1, {}, [0, -1, -(2 ** 31), 2 ** 32, -(2 ** 53), 0.5, -1.25e-7, 1e300]],
  [36, 5512315355, 4429313566, { publisher: 7 }, [Buffer.from([0, 1, 2, 255])], { bin: { nested: [Buffer.alloc(0), Buffer.from('hi')] } }],
  [48, 77, {}, 'com.example.proc', [], { '': '', 'key with spaces': 'v', 'ключ': 'значение' }],
];

/** Nested arrays, `depth` levels deep counting the outer one. */
export function nestedArrays(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}
