import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { ALL_SERIALIZERS } from '../../../src/serializers/index.js';
import { MAX_DEPTH } from '../../../src/serializers/wamp-value.js';
import { nestedArrays, SAMPLE_MESSAGES } from './support.js';

for (const serializer of ALL_SERIALIZERS) {
  describe(`${serializer.id} serializer, for any WAMP message`, () => {
    it('decodes what it encodes: unicode, nested objects, bytes at depth, integers, floats', () => {
      for (const message of SAMPLE_MESSAGES) {
        assert.deepEqual(serializer.decode(serializer.encode(message)), message);
      }
    });

    it('keeps integers exact from -2^53 to 2^53, across every width boundary', () => {
      const ints = [0, 1, -1, 23, 24, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, -(2 ** 31), -(2 ** 31) - 1,
        2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 53 - 1, 2 ** 53, -(2 ** 53)];
      const decoded = serializer.decode(serializer.encode(ints)) as number[];
      assert.deepEqual(decoded, ints);
      for (const n of decoded) assert.equal(typeof n, 'number');
    });

    it('keeps floats exact', () => {
      const floats = [0.1, -2.5, 1e-300, 1.7976931348623157e308, 2 ** 53 + 2, Math.PI];
      assert.deepEqual(serializer.decode(serializer.encode(floats)), floats);
    });

    it('returns bytes as Uint8Array', () => {
      const [bytes] = serializer.decode(serializer.encode([new Uint8Array([7, 8])])) as unknown[];
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual(Buffer.from(bytes), Buffer.from([7, 8]));
    });

    it('leaves the message it was given untouched', () => {
      const message = [36, 2 ** 40, 1, { n: 2 ** 50 }, [Buffer.from([1])]];
      const copy = structuredClone(message);
      serializer.encode(message);
      assert.deepEqual(message.slice(0, 4), copy.slice(0, 4));
      assert.ok(Buffer.isBuffer((message[4] as unknown[])[0]));
    });

    it('refuses trailing garbage after a message', () => {
      const encoded = Buffer.from(serializer.encode([1, 'realm1', {}]));
      assert.throws(() => serializer.decode(Buffer.concat([encoded, Buffer.from([0])])), { name: 'DecodeError' });
    });

    it(`accepts nesting ${MAX_DEPTH} levels deep and refuses one more`, () => {
      const deepest = nestedArrays(MAX_DEPTH);
      assert.deepEqual(serializer.decode(serializer.encode(deepest)), deepest);
      const tooDeep = serializer.encode(nestedArrays(MAX_DEPTH + 1));
      assert.throws(() => serializer.decode(tooDeep), { name: 'DecodeError', message: /nested deeper/ });
    });

    it('refuses absurd nesting with a DecodeError, not a stack overflow', () => {
      const depth = 200_000;
      const bytes = serializer.id === 'json'
        ? Buffer.from('['.repeat(depth) + ']'.repeat(depth))
        : Buffer.alloc(depth, serializer.id === 'msgpack' ? 0x91 : 0x81);
      assert.throws(() => serializer.decode(bytes), { name: 'DecodeError' });
    });
  });
}
