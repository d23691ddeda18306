/**
 * RawSocket framing (advanced/transport_rawsocket.md), from hex octets: the opening handshake and
 * its error replies, and the 4-octet frame header with its reserved bits and the X bit (2^24).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import {
  FrameType, HandshakeError, MAGIC, frameHeader, handshakeError, handshakeReply, lengthExponent, parseFrameHeader,
  parseHandshake,
} from '../../../src/transports/rawsocket-codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('RawSocket handshake: parsing the client octets', () => {
  it('reads the serializer from the low nibble and the max length 2^(9+L) from the high nibble', () => {
    assert.deepEqual(parseHandshake(hex('7f 01 00 00')), { serializerId: 1, maxLength: 512 });
    assert.deepEqual(parseHandshake(hex('7f 72 00 00')), { serializerId: 2, maxLength: 65536 });
    assert.deepEqual(parseHandshake(hex('7f f3 00 00')), { serializerId: 3, maxLength: 2 ** 24 });
  });

  it('passes serializer ids it does not know through (0 is illegal, 4-15 are others): the caller refuses them', () => {
    assert.deepEqual(parseHandshake(hex('7f f0 00 00')), { serializerId: 0, maxLength: 2 ** 24 });
    assert.deepEqual(parseHandshake(hex('7f fe 00 00')), { serializerId: 14, maxLength: 2 ** 24 });
  });

  it('answers reserved octets that are not zero with error 3', () => {
    assert.deepEqual(parseHandshake(hex('7f f1 01 00')), { error: HandshakeError.reservedBits });
    assert.deepEqual(parseHandshake(hex('7f f1 00 80')), { error: 3 });
  });

  it('does not take a first octet other than 0x7F for RawSocket at all', () => {
    for (const first of ['00', '7e', 'ff', '47' /* "G" of an HTTP GET */, '16' /* TLS ClientHello */]) {
      assert.equal(parseHandshake(hex(`${first} f1 00 00`)), undefined, first);
    }
  });
});

describe('RawSocket handshake: the router reply', () => {
  it('echoes the serializer and states the largest message the router accepts', () => {
    assert.deepEqual(handshakeReply(1, 2 ** 24), hex('7f f1 00 00'));
    assert.deepEqual(handshakeReply(2, 64 * 1024), hex('7f 72 00 00'));
    assert.deepEqual(handshakeReply(3, 512), hex('7f 03 00 00'));
  });

  it('rounds a max length between powers of two down, and clamps it to 512 B .. 16 MiB', () => {
    assert.equal(lengthExponent(100_000), 7); // 2^16 <= 100,000 < 2^17
    assert.equal(lengthExponent(65_535), 6);
    assert.equal(lengthExponent(1), 0);
    assert.equal(lengthExponent(2 ** 30), 15);
  });

  it('puts an error code in the high nibble with a zero serializer nibble', () => {
    assert.deepEqual(handshakeError(HandshakeError.serializerUnsupported), hex('7f 10 00 00'));
    assert.deepEqual(handshakeError(HandshakeError.maxLengthUnacceptable), hex('7f 20 00 00'));
    assert.deepEqual(handshakeError(HandshakeError.reservedBits), hex('7f 30 00 00'));
    assert.deepEqual(handshakeError(HandshakeError.connectionLimit), hex('7f 40 00 00'));
    assert.equal(MAGIC, 0x7f);
  });
});

describe('RawSocket frame header', () => {
  it('writes the type in the low 3 bits and the length in 24 bits, big-endian', () => {
    assert.deepEqual(frameHeader(FrameType.message, 0), hex('00 000000'));
    assert.deepEqual(frameHeader(FrameType.message, 0x123456), hex('00 123456'));
    assert.deepEqual(frameHeader(FrameType.ping, 4), hex('01 000004'));
    assert.deepEqual(frameHeader(FrameType.pong, 2 ** 24 - 1), hex('02 ffffff'));
  });

  it('marks a length of exactly 2^24 with the X bit and a zero length field', () => {
    assert.deepEqual(frameHeader(FrameType.message, 2 ** 24), hex('08 000000'));
    assert.deepEqual(parseFrameHeader(hex('08 000000'), 0), { type: FrameType.message, length: 2 ** 24 });
  });

  it('refuses the X bit with a non-zero length field (that would be over 2^24)', () => {
    assert.equal(parseFrameHeader(hex('08 000001'), 0), 'frame length over 2^24');
  });

  it('reads what it writes, at any offset', () => {
    for (const [type, length] of [[0, 0], [0, 1], [1, 125], [2, 65536], [0, 2 ** 24 - 1], [0, 2 ** 24]] as const) {
      const b = Buffer.concat([hex('aabbcc'), frameHeader(type, length)]);
      assert.deepEqual(parseFrameHeader(b, 3), { type, length });
    }
  });

  it('refuses each reserved bit (the high nibble of the first octet), naming the octet', () => {
    for (const bit of [0x10, 0x20, 0x40, 0x80]) {
      const msg = parseFrameHeader(Buffer.from([bit, 0, 0, 1]), 0);
      assert.equal(msg, `reserved bits set in frame header (0x${bit.toString(16)})`);
    }
  });

  it('refuses frame types 3 to 7', () => {
    for (let type = 3; type <= 7; type++) {
      assert.equal(parseFrameHeader(Buffer.from([type, 0, 0, 0]), 0), `unknown frame type ${type}`);
    }
  });
});
