import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { ALL_SERIALIZERS, serializerById } from '../../../src/serializers/index.js';
import type { Serializer } from '../../../src/serializers/serializer.js';
import { SAMPLE_MESSAGES, toHex } from './support.js';

const get = (id: string): Serializer => {
  const s = serializerById(id);
  assert.ok(s, id);
  return s;
};
const json = get('json');
const msgpack = get('msgpack');
const cbor = get('cbor');

describe('serializers together (a router re-encodes for each receiver)', () => {
  it('turns a JSON "\\0"+base64 string into MessagePack bin', () => {
    const decoded = json.decode(Buffer.from('[36,1,2,{},["\\u0000AQID"]]'));
    const packed = msgpack.encode(decoded as unknown[]);
    assert.ok(toHex(packed).endsWith('91c403010203'), toHex(packed)); // [bin 8, 3 bytes]
    assert.deepEqual(msgpack.decode(packed), [36, 1, 2, {}, [Buffer.from([1, 2, 3])]]);
  });

  it('turns a JSON "\\0"+base64 string into a CBOR byte string', () => {
    const decoded = json.decode(Buffer.from('[36,1,2,{},["\\u0000AQID"]]'));
    assert.equal(toHex(cbor.encode(decoded as unknown[])), '8518240102a08143010203');
  });

  it('turns MessagePack bin and CBOR byte strings into JSON "\\0"+base64 strings', () => {
    for (const [serializer, bytes] of [[msgpack, '9224c403010203'], [cbor, '82182443010203']] as const) {
      const decoded = serializer.decode(Buffer.from(bytes, 'hex'));
      assert.equal(Buffer.from(json.encode(decoded as unknown[])).toString(), '[36,"\\u0000AQID"]');
    }
  });

  it('carries every sample message across every pair of serializers unchanged', () => {
    for (const from of ALL_SERIALIZERS) {
      for (const to of ALL_SERIALIZERS) {
        for (const message of SAMPLE_MESSAGES) {
          const received = from.decode(from.encode(message)) as unknown[];
          assert.deepEqual(to.decode(to.encode(received)), message, `${from.id} → ${to.id}`);
        }
      }
    }
  });
});
