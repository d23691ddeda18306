import { CborSerializer } from './cbor.js';
import { JsonSerializer } from './json.js';
import { MsgpackSerializer } from './msgpack.js';
import type { Serializer } from './serializer.js';

export { DecodeError, type Serializer, type SerializerId } from './serializer.js';

/** One shared instance per serializer; they hold no per-connection state. */
export const ALL_SERIALIZERS: readonly Serializer[] = Object.freeze([
  new JsonSerializer(),
  new MsgpackSerializer(),
  new CborSerializer(),
]);

export function serializerById(id: string): Serializer | undefined {
  return ALL_SERIALIZERS.find((s) => s.id === id);
}

/** By WebSocket subprotocol, e.g. `wamp.2.cbor`. */
export function serializerBySubprotocol(subprotocol: string): Serializer | undefined {
  return ALL_SERIALIZERS.find((s) => s.subprotocol === subprotocol);
}

/** By RawSocket serializer id (low nibble of the handshake octet): 1 JSON, 2 MessagePack, 3 CBOR. */
export function serializerByRawsocketId(n: number): Serializer | undefined {
  return ALL_SERIALIZERS.find((s) => s.rawsocketId === n);
}
