/**
 * A serializer turns WAMP message arrays into bytes and back. It knows nothing about sessions.
 * In memory, WAMP binary values are always `Uint8Array`; each serializer maps them to its wire form
 * (JSON: a string "\0" + base64, MessagePack: bin, CBOR: byte string).
 */
export type SerializerId = 'json' | 'msgpack' | 'cbor';

export interface Serializer {
  readonly id: SerializerId;
  /** WebSocket subprotocol, e.g. `wamp.2.json`. */
  readonly subprotocol: `wamp.2.${SerializerId}`;
  /** RawSocket serializer id (low nibble of the handshake octet). */
  readonly rawsocketId: 1 | 2 | 3;
  /** Whether the encoded bytes are binary (WebSocket binary frames) or UTF-8 text. */
  readonly binary: boolean;
  /** Decodes one message; throws `DecodeError` on malformed bytes. */
  decode(bytes: Uint8Array): unknown;
  encode(message: readonly unknown[]): Uint8Array;
}

export class DecodeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DecodeError';
  }
}
