/** A payload kept for later (`ownedPayload`) splices into the same bytes as the one it copies, in every serializer. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { ALL_SERIALIZERS } from '../../../src/serializers/index.js';
import { ownedPayload } from '../../../src/wamp/payload.js';

describe('ownedPayload', () => {
  for (const ser of ALL_SERIALIZERS) {
    it(`${ser.id}: a copy that splices as the original, whole or in parts, and outlives changes to the message`, () => {
      for (const content of [[[1, 'a,]"b', Buffer.from([1, 2, 3])]], [[Buffer.alloc(70_000, 7)], { k: 'v' }]]) {
        const message = Buffer.from(ser.encode([48, 1, {}, 'com.p', ...content]));
        const original = ser.payloadOf(message, 4, content.length as 1 | 2)!;
        const owned = ownedPayload(original);
        const head = [68, 1, 2, {}];
        const expected = Buffer.from(ser.encodeSpliced!(head, original));
        assert.deepEqual(Buffer.from(ser.encodeSpliced!(head, owned)), expected);
        assert.deepEqual(Buffer.concat(ser.encodeSplicedParts!(head, owned)), expected);
        message.fill(0);
        assert.deepEqual(Buffer.from(ser.encodeSpliced!(head, owned)), expected, 'its own bytes');
      }
    });
  }
});
