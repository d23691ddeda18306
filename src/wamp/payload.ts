/**
 * Arguments|ArgumentsKw as encoded bytes: what `decode.ts` keeps of a CALL, YIELD, ERROR or
 * PUBLISH so the router can pass it on without encoding it again. The serializers locate and
 * splice these bytes; this layer only names them.
 */

/** A WAMP serialization, as its subprotocol names it (`wamp.2.json`, …). */
export type SerializerId = 'json' | 'msgpack' | 'cbor';

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

/** Finds the encoded payload in the bytes of a message (a serializer that can splice is one). */
export interface PayloadLocator {
  /**
   * The encoded elements of `message` from element `index` (Arguments) to the end, `count` of them
   * (1 or 2, ArgumentsKw included). Undefined when the message is shorter.
   */
  payloadOf(message: Uint8Array, index: number, count: 1 | 2): EncodedPayload | undefined;
}

/**
 * The payload in bytes of its own, for a message handled later than it arrived (a call that waits
 * for a registry lookup): still passed on as the client's bytes, never re-encoded. The byte after
 * the payload is kept too (a JSON message's closing bracket, which JSON splicing reads).
 */
export function ownedPayload(p: EncodedPayload): EncodedPayload {
  const end = Math.min(p.end + 1, p.message.length);
  return { ...p, message: Uint8Array.prototype.slice.call(p.message, p.start, end), start: 0, end: p.end - p.start };
}
