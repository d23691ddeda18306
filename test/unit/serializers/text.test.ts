/**
 * Every decoded string is Unicode text a serializer can pass on, and every key arrives as it was
 * sent: a lone surrogate (JSON) or a string that is not UTF-8 (MessagePack, CBOR) is refused with
 * `IllFormedTextError` carrying the decoded message; "__proto__" stays an own key, never a prototype.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serializerById } from '../../../src/serializers/index.js';
import { IllFormedTextError, type Serializer } from '../../../src/serializers/serializer.js';

const json = serializerById('json')!;
const msgpack = serializerById('msgpack')!;
const cbor = serializerById('cbor')!;

function illFormed(s: Serializer, bytes: Uint8Array): IllFormedTextError {
  try {
    s.decode(bytes);
  } catch (e) {
    assert.ok(e instanceof IllFormedTextError, String(e));
    return e;
  }
  return assert.fail('decoded');
}

/** `message` encoded, with the first "XXXX" replaced by `bad` (4 bytes). */
function patched(s: Serializer, message: unknown[], bad: number[]): Buffer {
  const bytes = Buffer.from(s.encode(message));
  Buffer.from(bad).copy(bytes, bytes.indexOf('XXXX'));
  return bytes;
}

describe('text that no serializer can pass on', () => {
  it('JSON: refuses a lone surrogate in a value or a key, at any depth', () => {
    for (const text of ['[16,1,{},"a.b",["\\ud800x"]]', '[16,1,{},"a.b",[],{"\\udc00":1}]', '[16,1,{},"a.b",[[[{"k":"x\\uDBFF"}]]]]', '[1,"realm1",{"roles":{"\\ud800":{}}}]']) {
      const e = illFormed(json, Buffer.from(text));
      assert.match(e.message, /lone UTF-16 surrogate/);
      assert.equal((e.value as unknown[])[0], JSON.parse(text)[0]);
    }
  });

  it('JSON: takes surrogate pairs and escaped backslashes', () => {
    assert.deepEqual(json.decode(Buffer.from('[16,1,{},"a.b",["\\ud83d\\ude00","\\\\ud800"]]')), [16, 1, {}, 'a.b', ['\u{1F600}', '\\ud800']]);
  });

  for (const [name, s, strHead] of [['MessagePack', msgpack, 0xa4], ['CBOR', cbor, 0x64]] as const) {
    it(`${name}: refuses a string that is not UTF-8 — value, key, nested`, () => {
      for (const bad of [[0xed, 0xa0, 0x80, 0x78], [0xc0, 0x80, 0x78, 0x78], [0xff, 0x78, 0x78, 0x78], [0x78, 0x78, 0x78, 0xe2]]) {
        for (const message of [[16, 1, {}, 'a.b', ['XXXX']], [16, 1, {}, 'a.b', [], { XXXX: 1 }], [16, 1, {}, 'a.b', [[{ k: ['XXXX'] }]]]]) {
          const e = illFormed(s, patched(s, message, bad));
          assert.equal(e.message, `${name} message has a string that is not valid UTF-8`);
          assert.equal((e.value as unknown[])[0], 16);
        }
      }
    });

    it(`${name}: takes a real U+FFFD, and any bytes in binary values`, () => {
      assert.deepEqual(s.decode(s.encode([16, 1, {}, 'a.b', ['\ufffd'], { b: Buffer.from([0xed, 0xa0, 0x80]) }])),
        [16, 1, {}, 'a.b', ['\ufffd'], { b: Buffer.from([0xed, 0xa0, 0x80]) }]);
      assert.equal(strHead, s.encode(['XXXX'])[1]);
    });
  }

  it('CBOR: refuses an indefinite-length text string with a chunk that is not UTF-8 (cbor-x takes none)', () => {
    // [16, 1, {}, "a.b", [(_ "ab", "\xed\xa0\x80")]]
    const bytes = Buffer.from([0x85, 0x10, 0x01, 0xa0, 0x63, 0x61, 0x2e, 0x62, 0x81, 0x7f, 0x62, 0x61, 0x62, 0x63, 0xed, 0xa0, 0x80, 0xff]);
    assert.throws(() => cbor.decode(bytes), /malformed CBOR message: Indefinite length not supported/);
  });
});

describe('"__proto__" keys', () => {
  const kwargs = () => JSON.parse('{"__proto__": {"polluted": "yes"}, "__proto_": 2, "k": {"__proto__": [1]}}') as Record<string, unknown>;

  for (const s of [json, msgpack, cbor]) {
    it(`${s.id}: arrive as own keys, "__proto_" beside them, and pollute nothing`, () => {
      const decoded = s.decode(s.encode([16, 1, {}, 'a.b', [], kwargs()])) as unknown[];
      const kw = decoded[5] as Record<string, unknown>;
      assert.deepEqual(Object.keys(kw), ['__proto__', '__proto_', 'k']);
      assert.deepEqual(JSON.stringify(kw), JSON.stringify(kwargs()));
      assert.equal(Object.getPrototypeOf(kw), Object.prototype);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      // And they are encoded again as they came, for every serializer.
      for (const out of [json, msgpack, cbor]) {
        assert.deepEqual(JSON.stringify((out.decode(out.encode(decoded)) as unknown[])[5]), JSON.stringify(kwargs()));
      }
    });
  }
});
