/**
 * A serializer turns WAMP message arrays into bytes and back. It knows nothing about sessions.
 * In memory, WAMP binary values are always `Uint8Array`; each serializer maps them to its wire form
 * (JSON: a string "\0" + base64, MessagePack: bin, CBOR: byte string).
 */
import type { EncodedPayload, PayloadLocator, SerializerId } from '../wamp/payload.js';

export type { EncodedPayload, SerializerId } from '../wamp/payload.js';

/** A serializer is also the `PayloadLocator` of the messages it decoded (`payloadOf`). */
export interface Serializer extends PayloadLocator {
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
   * Encodes `head` followed by the elements of `payload` (from this serializer's `payloadOf`),
   * with `room.headroom(length)` bytes left free before the message for a transport's frame header.
   */
  encodeSpliced?(head: readonly unknown[], payload: EncodedPayload, room?: Headroom): Buffer;
  /**
   * The same message as buffers to write in order: the encoded head (with what the serialization
   * needs between head and payload) and a view of the payload's bytes, not copied. For large
   * payloads (`VIEW_PAYLOAD_MIN`); the view keeps the message it came in alive while it is queued.
   */
  encodeSplicedParts?(head: readonly unknown[], payload: EncodedPayload): Buffer[];
}

/** How many bytes a transport's frame header takes before a message of `length` bytes. */
export interface Headroom {
  headroom(length: number): number;
}

export class DecodeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DecodeError';
  }
}

/** Text that is not UTF-8 (a WebSocket fails the connection with 1007 for it, RFC 6455 §8.1). */
export class InvalidUtf8Error extends DecodeError {}

/**
 * A well-formed message with a string that is not Unicode text: a lone UTF-16 surrogate (JSON's
 * "\ud800" escape) or a MessagePack/CBOR string that is not UTF-8. No serializer may pass it on
 * (UTF-8 cannot encode a lone surrogate; a binary receiver's decoder fails on it), so the router
 * refuses the message; `value` is what was decoded, for the reply to name the request.
 */
export class IllFormedTextError extends DecodeError {
  constructor(message: string, readonly value: unknown) {
    super(message);
    this.name = 'IllFormedTextError';
  }
}
