import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { ALL_SERIALIZERS } from '../../../src/serializers/index.js';
import { DecodeError } from '../../../src/serializers/serializer.js';
import { SAMPLE_MESSAGES, seededRandom } from './support.js';

const RUNS = 2000;

/** Decodes; any result must be re-encodable by every serializer, any failure a DecodeError. */
function decodeOrRefuse(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): void {
  let value: unknown;
  try {
    value = decode(bytes);
  } catch (err) {
    if (err instanceof DecodeError) return;
    assert.fail(`threw ${String(err)} for ${Buffer.from(bytes).toString('hex')}`);
  }
  for (const other of ALL_SERIALIZERS) other.encode([value]);
}

for (const serializer of ALL_SERIALIZERS) {
  describe(`${serializer.id} decoder, fed garbage`, () => {
    const decode = (bytes: Uint8Array): unknown => serializer.decode(bytes);

    it(`only ever throws DecodeError for ${RUNS} random byte strings`, { timeout: 20_000 }, () => {
      const random = seededRandom(0x5eed + serializer.rawsocketId);
      for (let run = 0; run < RUNS; run++) {
        const bytes = Buffer.alloc(Math.floor(random() * 64));
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
        decodeOrRefuse(decode, bytes);
      }
    });

    it(`only ever throws DecodeError for ${RUNS} corrupted valid messages`, { timeout: 20_000 }, () => {
      const random = seededRandom(0xc0ffee + serializer.rawsocketId);
      const valid = SAMPLE_MESSAGES.map((m) => Buffer.from(serializer.encode(m)));
      for (let run = 0; run < RUNS; run++) {
        const source = valid[run % valid.length]!;
        const bytes = Buffer.from(source.subarray(0, 1 + Math.floor(random() * source.length)));
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        decodeOrRefuse(decode, bytes);
      }
    });

    it('still decodes valid messages correctly afterwards', () => {
      for (const message of SAMPLE_MESSAGES) {
        assert.deepEqual(serializer.decode(serializer.encode(message)), message);
      }
    });
  });
}
