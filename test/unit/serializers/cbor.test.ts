import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Encoder } from 'cbor-x';
import { CborSerializer } from '../../../src/serializers/cbor.js';
import { hex, toHex } from './support.js';

const cbor = new CborSerializer();
const notWampData = { name: 'DecodeError', message: /not WAMP data/ };

describe('CBOR serializer', () => {
  it('is wamp.2.cbor, RawSocket serializer 3, sent as binary', () => {
    assert.equal(cbor.id, 'cbor');
    assert.equal(cbor.subprotocol, 'wamp.2.cbor');
    assert.equal(cbor.rawsocketId, 3);
    assert.equal(cbor.binary, true);
  });

  it('writes bytes as an untagged byte string and reads byte strings back as bytes', () => {
    const encoded = cbor.encode([1, new Uint8Array([1, 2, 3])]);
    assert.equal(toHex(encoded), '820143010203');
    assert.deepEqual(cbor.decode(encoded), [1, Buffer.from([1, 2, 3])]);
  });

  it('reads a byte string tagged 64 (uint8 typed array) as bytes', () => {
    assert.deepEqual(cbor.decode(hex('81d84043010203')), [Buffer.from([1, 2, 3])]);
  });

  it('writes integers beyond 32 bits as 64-bit integers, never as floats', () => {
    // cbor-x alone writes these as float64 (0xfb), which typed peers refuse as IDs.
    assert.equal(toHex(cbor.encode([2 ** 53])), '811b0020000000000000');
    assert.equal(toHex(cbor.encode([-(2 ** 40)])), '813b000000ffffffffff');
    assert.equal(toHex(cbor.encode([4294967295, 0.5])), '821afffffffffb3fe0000000000000');
  });

  it('reads 64-bit integers as JS numbers', () => {
    assert.deepEqual(cbor.decode(hex('821b00200000000000003b001fffffffffffff')), [2 ** 53, -(2 ** 53)]);
  });

  it('writes objects as plain maps with the smallest header', () => {
    assert.equal(toHex(cbor.encode([{ a: 1 }])), '81a1616101');
  });

  it('reads what other CBOR encoders write: indefinite lengths, half floats, undefined', () => {
    assert.deepEqual(cbor.decode(hex('849f0102ff' + 'f93c00' + 'f7' + 'bf6161f5ff')), [[1, 2], 1, undefined, { a: true }]);
  });

  it('refuses trailing bytes after the message', () => {
    assert.throws(() => cbor.decode(hex('810100')), { name: 'DecodeError', message: /CBOR/ });
  });

  it('refuses truncated input and empty input', () => {
    for (const bad of ['', '82', '8263616263', '1b0000', '4a0102', '9f01']) {
      assert.throws(() => cbor.decode(hex(bad)), { name: 'DecodeError' }, bad);
    }
  });

  it('refuses tags that no WAMP peer sends', () => {
    assert.throws(() => cbor.decode(hex('81c11a00000001')), notWampData, 'epoch date');
    assert.throws(() => cbor.decode(hex('81c249010000000000000000')), notWampData, 'bignum');
    assert.throws(() => cbor.decode(hex('81d90103a0')), notWampData, 'tag 259 (Map)');
    assert.throws(() => cbor.decode(hex('81c8820102')), notWampData, 'unknown tag');
    assert.throws(() => cbor.decode(hex('81d84581')), { name: 'DecodeError' }, 'other typed array');
  });

  it('refuses shared references, including cycles', () => {
    assert.throws(() => cbor.decode(hex('d81c81d81d00')), { name: 'DecodeError' }, 'cycle');
  });

  it('refuses a DAG of shared references quickly instead of walking it exponentially', { timeout: 5000 }, () => {
    let dag: unknown[] = [];
    for (let i = 0; i < 60; i++) dag = [dag, dag];
    const bytes = new Encoder({ structuredClone: true, useRecords: false }).encode(dag);
    assert.throws(() => cbor.decode(bytes), { name: 'DecodeError', message: /shares substructures/ });
  });

  it('never sets an object prototype from a "__proto__" key', () => {
    const decoded = cbor.decode(hex('81a1695f5f70726f746f5f5fa16178f5')) as object[];
    assert.equal(Object.getPrototypeOf(decoded[0]), Object.prototype);
    assert.equal((decoded[0] as { x?: unknown }).x, undefined);
  });

  it('returns bytes that do not alias the input buffer', () => {
    const input = hex('8143010203');
    const decoded = cbor.decode(input) as Buffer[];
    input.fill(0);
    assert.deepEqual(decoded, [Buffer.from([1, 2, 3])]);
  });

  it('returns encodings that later encodes do not overwrite', () => {
    const first = cbor.encode([1, 'first']);
    const kept = toHex(first);
    for (let i = 0; i < 2000; i++) cbor.encode([i, 'x'.repeat(i % 64)]);
    assert.equal(toHex(first), kept);
  });
});
