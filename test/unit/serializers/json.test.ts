import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { JsonSerializer } from '../../../src/serializers/json.js';
import { DecodeError } from '../../../src/serializers/serializer.js';

const json = new JsonSerializer();
const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const decodeText = (s: string): unknown => json.decode(text(s));

describe('JSON serializer', () => {
  it('is wamp.2.json, RawSocket serializer 1, sent as text', () => {
    assert.equal(json.id, 'json');
    assert.equal(json.subprotocol, 'wamp.2.json');
    assert.equal(json.rawsocketId, 1);
    assert.equal(json.binary, false);
  });

  it('encodes a message as compact UTF-8 JSON', () => {
    assert.equal(Buffer.from(json.encode([1, 'realm1', { a: 'ü' }])).toString('utf8'), '[1,"realm1",{"a":"ü"}]');
  });

  it('turns a "\\0"+base64 string into bytes', () => {
    assert.deepEqual(decodeText('[36,1,2,{},["\\u0000AQID"]]'), [36, 1, 2, {}, [Buffer.from([1, 2, 3])]]);
  });

  it('turns "\\0"+base64 strings into bytes at any depth, in arrays and object values', () => {
    const decoded = decodeText('["\\u0000AA==",{"a":{"b":["x","\\u0000/w=="]}}]');
    assert.deepEqual(decoded, [Buffer.from([0]), { a: { b: ['x', Buffer.from([255])] } }]);
  });

  it('turns a bare "\\u0000" into empty bytes and accepts unpadded base64', () => {
    assert.deepEqual(decodeText('["\\u0000","\\u0000AQI"]'), [Buffer.alloc(0), Buffer.from([1, 2])]);
  });

  it('leaves object keys that start with "\\0" as strings', () => {
    assert.deepEqual(decodeText('{"\\u0000AQ==":1}'), { '\u0000AQ==': 1 });
  });

  it('leaves an escaped backslash followed by "u0000" as text', () => {
    assert.deepEqual(decodeText('["\\\\u0000AQ=="]'), ['\\u0000AQ==']);
  });

  it('refuses a "\\0" string whose tail is not base64', () => {
    // URL-safe letters, white space, padding inside, other characters: standard base64 only.
    for (const bad of ['"\\u0000!!!!"', '"\\u0000A"', '"\\u0000AQ=Q"', '"\\u0000AQI=="', '"\\u0000-_-_"', '"\\u0000AQ-="', '"\\u0000AQ_="',
      '"\\u0000AQ IDBA=="', '"\\u0000AQ\\nIDBA=="', '"\\u0000A=QIDBA="', '"\\u0000AQIDBA\\u00e9="', `"\\u0000${'AQID'.repeat(30_000)}.AQID"`]) {
      assert.throws(() => decodeText(`[${bad}]`), DecodeError, bad);
    }
  });

  it('writes bytes as "\\0"+base64, for Uint8Array and Buffer alike', () => {
    const out = Buffer.from(json.encode([new Uint8Array([1, 2, 3]), Buffer.from([255])])).toString('utf8');
    assert.equal(out, '["\\u0000AQID","\\u0000/w=="]');
  });

  it('writes bytes at depth and leaves the message it was given untouched', () => {
    const bytes = new Uint8Array([104, 105]);
    const message = [36, 1, 2, {}, [], { a: [{ b: bytes }] }];
    const out = Buffer.from(json.encode(message)).toString('utf8');
    assert.equal(out, '[36,1,2,{},[],{"a":[{"b":"\\u0000aGk="}]}]');
    assert.equal((message[5] as { a: { b: unknown }[] }).a[0]?.b, bytes);
  });

  it('writes a view into a larger buffer as only the viewed bytes', () => {
    const backing = Buffer.from([9, 9, 1, 2, 9]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 2);
    assert.equal(Buffer.from(json.encode([view])).toString('utf8'), '["\\u0000AQI="]');
  });

  it('keeps integers up to 2^53 exact', () => {
    assert.deepEqual(decodeText('[9007199254740992,-9007199254740992,0]'), [2 ** 53, -(2 ** 53), 0]);
  });

  it('refuses malformed UTF-8 with a DecodeError', () => {
    // a lone continuation byte, a truncated sequence, an encoded surrogate, an overlong "/"
    for (const bytes of [[0x5b, 0x22, 0x80, 0x22, 0x5d], [0x5b, 0x22, 0xe2, 0x82, 0x22, 0x5d],
      [0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d], [0x5b, 0x22, 0xc0, 0xaf, 0x22, 0x5d]]) {
      assert.throws(() => json.decode(Buffer.from(bytes)), { name: 'DecodeError', message: /UTF-8/ });
    }
  });

  it('refuses malformed JSON with a DecodeError naming the problem', () => {
    for (const bad of ['', '[1,', '[1] x', '{"a":}', '[1]\u0000', "['single']"]) {
      assert.throws(() => decodeText(bad), { name: 'DecodeError', message: /malformed JSON/ }, JSON.stringify(bad));
    }
  });
});
