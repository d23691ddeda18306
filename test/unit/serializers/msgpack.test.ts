import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Packr } from 'msgpackr';
import { MsgpackSerializer } from '../../../src/serializers/msgpack.js';
import { hex, toHex } from './support.js';

const msgpack = new MsgpackSerializer();
const notWampData = { name: 'DecodeError', message: /not WAMP data/ };

describe('MessagePack serializer', () => {
  it('is wamp.2.msgpack, RawSocket serializer 2, sent as binary', () => {
    assert.equal(msgpack.id, 'msgpack');
    assert.equal(msgpack.subprotocol, 'wamp.2.msgpack');
    assert.equal(msgpack.rawsocketId, 2);
    assert.equal(msgpack.binary, true);
  });

  it('writes bytes as bin and reads bin back as bytes', () => {
    const encoded = msgpack.encode([1, new Uint8Array([1, 2, 3])]);
    assert.equal(toHex(encoded), '9201c403010203');
    assert.deepEqual(msgpack.decode(encoded), [1, Buffer.from([1, 2, 3])]);
  });

  it('writes integers beyond 32 bits as 64-bit integers, never as floats', () => {
    // msgpackr alone writes these as float64 (0xcb), which typed peers refuse as IDs.
    assert.equal(toHex(msgpack.encode([2 ** 53])), '91d30020000000000000');
    assert.equal(toHex(msgpack.encode([2 ** 32])), '91d30000000100000000');
    assert.equal(toHex(msgpack.encode([-(2 ** 40)])), '91d3ffffff0000000000');
    assert.equal(toHex(msgpack.encode([4294967295, 0.5])), '92ceffffffffcb3fe0000000000000');
  });

  it('reads uint64 and int64 as JS numbers', () => {
    assert.deepEqual(msgpack.decode(hex('92cf0020000000000000d3ffe0000000000000')), [2 ** 53, -(2 ** 53)]);
  });

  it('writes objects as plain maps with the smallest header, without msgpackr records', () => {
    // A record would start with d4 72 / d5 72; msgpackr's default header would be map16 (de).
    assert.equal(toHex(msgpack.encode([{ a: 1 }, { a: 2 }, {}])), '9381a1610181a1610280');
  });

  it('writes undefined as nil, not as an extension', () => {
    assert.equal(toHex(msgpack.encode([undefined])), '91c0');
  });

  it('refuses trailing bytes after the message', () => {
    assert.throws(() => msgpack.decode(hex('910100')), { name: 'DecodeError', message: /MessagePack/ });
  });

  it('refuses truncated input and empty input', () => {
    for (const bad of ['', '92', '92a3616263', 'cf0000', 'c40a0102']) {
      assert.throws(() => msgpack.decode(hex(bad)), { name: 'DecodeError' }, bad);
    }
  });

  it('refuses extension types no WAMP peer sends', () => {
    assert.throws(() => msgpack.decode(hex('91d6ff00000001')), notWampData, 'timestamp → Date');
    assert.throws(() => msgpack.decode(hex('91c1')), notWampData, 'never-used 0xc1');
    const bigint = new Packr({ useBigIntExtension: true }).pack([2n ** 70n]);
    assert.throws(() => msgpack.decode(bigint), notWampData, 'bigint extension');
    const set = new Packr({ moreTypes: true }).pack([new Set([1])]);
    assert.throws(() => msgpack.decode(set), notWampData, 'Set extension');
    assert.throws(() => msgpack.decode(hex('91d40100')), { name: 'DecodeError' }, 'unknown extension');
  });

  it('refuses msgpackr structured-clone references, which can build cycles', () => {
    const cyclic: unknown[] = [1];
    cyclic.push(cyclic);
    const bytes = new Packr({ structuredClone: true }).pack(cyclic);
    assert.throws(() => msgpack.decode(bytes), { name: 'DecodeError' });
  });

  it('reads msgpackr records as plain objects, without leaking them into the next message', () => {
    const records = new Packr({ useRecords: true }).pack([{ a: 1, b: 2 }, { a: 3, b: 4 }]);
    assert.deepEqual(msgpack.decode(records), [{ a: 1, b: 2 }, { a: 3, b: 4 }]);
    assert.deepEqual(msgpack.decode(hex('9140')), [64]);
  });

  it('never sets an object prototype from a "__proto__" key', () => {
    const decoded = msgpack.decode(hex('9181a95f5f70726f746f5f5f81a178c3')) as object[];
    assert.equal(Object.getPrototypeOf(decoded[0]), Object.prototype);
    assert.equal((decoded[0] as { x?: unknown }).x, undefined);
  });

  it('returns bytes that do not alias the input buffer', () => {
    const input = hex('91c403010203');
    const decoded = msgpack.decode(input) as Buffer[];
    input.fill(0);
    assert.deepEqual(decoded, [Buffer.from([1, 2, 3])]);
  });

  it('returns encodings that later encodes do not overwrite', () => {
    // msgpackr packs into a shared buffer; each result must stay valid.
    const first = msgpack.encode([1, 'first']);
    const kept = toHex(first);
    for (let i = 0; i < 2000; i++) msgpack.encode([i, 'x'.repeat(i % 64)]);
    assert.equal(toHex(first), kept);
  });
});
