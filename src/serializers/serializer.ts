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
  /**
   * Where a serializer can splice: the encoded elements of a message it decoded, from element
   * `index` (Arguments) to the end, `count` of them (1 or 2, ArgumentsKw included). Undefined
   * when the message is shorter.
   */
  payloadOf?(message: Uint8Array, index: number, count: 1 | 2): EncodedPayload | undefined;
  /**
   * Encodes `head` followed by the elements of `payload` (from this serializer's `payloadOf`),
   * with `room.headroom(length)` bytes left free before the message for a transport's frame header.
   */
  encodeSpliced?(head: readonly unknown[], payload: EncodedPayload, room?: Headroom): Buffer;
}

/** How many bytes a transport's frame header takes before a message of `length` bytes. */
export interface Headroom {
  headroom(length: number): number;
}

/**
 * Arguments|ArgumentsKw exactly as a peer's serializer encoded them. The bytes may be a view of the
 * transport's read buffer: hold them only while the message is being handled.
 */
export interface EncodedPayload {
  readonly serializer: SerializerId;
  /** The whole message the payload came in; the payload is `message[start, end)`. */
  readonly message: Uint8Array;
  readonly start: number;
  readonly end: number;
  readonly count: 1 | 2;
}

export class DecodeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DecodeError';
  }
}

/** Text that is not UTF-8 (a WebSocket fails the connection with 1007 for it, RFC 6455 §8.1). */
export class InvalidUtf8Error extends DecodeError {}
