import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALL_SERIALIZERS,
  serializerById,
  serializerByRawsocketId,
  serializerBySubprotocol,
} from '../../../src/serializers/index.js';

describe('serializer lookup', () => {
  it('offers JSON, MessagePack and CBOR, one shared instance each', () => {
    assert.deepEqual(ALL_SERIALIZERS.map((s) => s.id), ['json', 'msgpack', 'cbor']);
    assert.equal(serializerById('cbor'), serializerById('cbor'));
  });

  it('finds a serializer by id, WebSocket subprotocol and RawSocket id', () => {
    for (const s of ALL_SERIALIZERS) {
      assert.equal(serializerById(s.id), s);
      assert.equal(serializerBySubprotocol(`wamp.2.${s.id}`), s);
      assert.equal(serializerByRawsocketId(s.rawsocketId), s);
    }
    assert.equal(serializerByRawsocketId(1)?.id, 'json');
    assert.equal(serializerByRawsocketId(2)?.id, 'msgpack');
    assert.equal(serializerByRawsocketId(3)?.id, 'cbor');
  });

  it('answers undefined for anything unknown', () => {
    assert.equal(serializerById('ubjson'), undefined);
    assert.equal(serializerBySubprotocol('wamp.2.json.batched'), undefined);
    assert.equal(serializerBySubprotocol('wamp.2.flatbuffers'), undefined);
    assert.equal(serializerByRawsocketId(0), undefined);
    assert.equal(serializerByRawsocketId(4), undefined);
  });
});
