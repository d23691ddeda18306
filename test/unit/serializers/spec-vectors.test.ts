import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serializerById } from '../../../src/serializers/index.js';
import type { SerializerId } from '../../../src/serializers/serializer.js';
import { SPEC_VECTORS } from '../../fixtures/serializers/spec-vectors.js';
import { hex } from './support.js';

// The spec's vectors allow several byte forms per message (key order, integer and map-header widths),
// so our encoding is checked by decoding it back, not by byte equality with the vector.
describe('WAMP spec test vectors (wamp-proto/wamp-proto testsuite/singlemessage)', () => {
  for (const vector of SPEC_VECTORS) {
    for (const [id, variants] of Object.entries(vector.bytes) as [SerializerId, readonly string[]][]) {
      const serializer = serializerById(id);
      it(`${vector.description}: ${id} bytes decode to the expected message`, () => {
        assert.ok(serializer);
        for (const variant of variants) assert.deepEqual(serializer.decode(hex(variant)), vector.expected);
      });

      it(`${vector.description}: ${id} encoding decodes back to the same message`, () => {
        assert.ok(serializer);
        assert.deepEqual(serializer.decode(serializer.encode(vector.expected)), vector.expected);
      });
    }
  }
});
