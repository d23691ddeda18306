import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameHeader, frameMessage, headerSize, MERGE_LIMIT, messageLength } from '../../../src/transports/websocket-frame.js';
import { prng } from '../../helpers/prng.js';
import { parseServerFrames } from '../../helpers/ws-frames.js';

describe('WebSocket framing of server messages', () => {
  it('writes the three RFC 6455 length forms (7-bit, 16-bit, 64-bit), FIN set, unmasked', () => {
    assert.deepEqual([...frameHeader(0, false)], [0x81, 0]);
    assert.deepEqual([...frameHeader(125, true)], [0x82, 125]);
    assert.deepEqual([...frameHeader(126, false)], [0x81, 126, 0, 126]);
    assert.deepEqual([...frameHeader(65535, true)], [0x82, 126, 0xff, 0xff]);
    assert.deepEqual([...frameHeader(65536, true)], [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert.deepEqual([...frameHeader(2 ** 32 + 5, true)], [0x82, 127, 0, 0, 0, 1, 0, 0, 0, 5]);
  });

  it('frames that ws parses back to the same bytes and type, at every length boundary', () => {
    const random = prng(7);
    for (const size of [0, 1, 125, 126, 255, 256, 257, 65535, 65536, MERGE_LIMIT + 1, 200_000]) {
      for (const binary of [false, true]) {
        // Text frames must be UTF-8 for ws to take them: ASCII there, any byte in binary ones.
        const payload = Buffer.from(Array.from({ length: size }, () => Math.floor(random() * (binary ? 256 : 128))));
        const frames = frameMessage(payload, binary);
        assert.equal(frames.length, size > MERGE_LIMIT ? 2 : 1, `size ${size}`);
        const [got] = parseServerFrames(frames);
        assert.equal(got?.binary, binary);
        assert.ok(got.data.equals(payload), `size ${size}`);
      }
    }
  });

  it('takes a plain Uint8Array view and never writes into the payload', () => {
    const backing = new Uint8Array([9, 1, 2, 3, 4, 9]);
    const view = backing.subarray(1, 5);
    const [got] = parseServerFrames(frameMessage(view, true));
    assert.deepEqual([...got!.data], [1, 2, 3, 4]);
    assert.deepEqual([...backing], [9, 1, 2, 3, 4, 9]);
    const large = new Uint8Array(MERGE_LIMIT + 10).fill(7);
    const frames = frameMessage(large, false);
    assert.equal(frames[1]!.buffer, large.buffer, 'a large payload is sent by reference, not copied');
  });

  it('finds the payload length of a frame from its total size, at every length boundary', () => {
    for (const length of [0, 1, 123, 124, 125, 126, 127, 65533, 65534, 65535, 65536, 65537, 1 << 24]) {
      assert.equal(messageLength(headerSize(length) + length), length, `length ${length}`);
    }
  });
});
