/**
 * A message to send, encoded once, with a cache of its framing per wire kind: the same message
 * sent to many connections is framed once per kind (WebSocket, RawSocket, …) and the same buffers
 * are written to every socket of that kind. The router makes these and never names a kind.
 */
import type { EncodedPayload, Serializer } from '../serializers/serializer.js';
import { VIEW_PAYLOAD_MIN } from '../serializers/splice.js';

/**
 * How one kind of wire frames a message; a transport defines one and every Outgoing caches its
 * framing. A framing is the buffers to write, in order, or what a gateway builds its packets from
 * (the MQTT gateway's PUBLISH parts, made from the message's values when it has them).
 */
export interface WireKind<F = readonly Buffer[]> {
  readonly name: string;
  /** The framing of a message (pure: the same for every socket). */
  frame(msg: Outgoing): F;
}

export class Outgoing {
  private encoded: Uint8Array | undefined;
  /** The message as buffers to write in order (a large spliced payload), when it was made so. */
  parts: readonly Buffer[] | undefined = undefined;
  /** The first kind that framed this message, and its frames: most messages meet one kind only. */
  private kind: WireKind<unknown> | undefined = undefined;
  private frames: unknown = undefined;
  /** Framings for further kinds (a message sent over more than one kind of transport). */
  private more: Map<WireKind<unknown>, unknown> | undefined = undefined;

  /**
   * `message`: the values `bytes` encode, when the router has them (a receiver that is not a byte
   * stream can take them instead of decoding the bytes); nobody may change them.
   */
  constructor(bytes: Uint8Array | undefined, readonly binary: boolean, readonly message?: readonly unknown[], private readonly serializer?: Serializer) {
    this.encoded = bytes;
  }

  /**
   * A message encoded by `serializer` when its bytes are first read: a receiver that takes the
   * values (the MQTT gateway) costs no encoding. Its values must not hold views of a read buffer.
   */
  static encodedOnDemand(serializer: Serializer, message: readonly unknown[]): Outgoing {
    return new Outgoing(undefined, serializer.binary, message, serializer);
  }

  /**
   * `head` followed by the encoded `payload` (which came in `serializer`): a large payload stays a
   * view of the bytes it came in (`parts`, nothing copied), a small one is copied after the head.
   */
  static spliced(serializer: Serializer, head: readonly unknown[], payload: EncodedPayload): Outgoing {
    if (payload.end - payload.start > VIEW_PAYLOAD_MIN && serializer.encodeSplicedParts) {
      const out = new Outgoing(undefined, serializer.binary);
      out.parts = serializer.encodeSplicedParts(head, payload);
      return out;
    }
    return new Outgoing(serializer.encodeSpliced!(head, payload), serializer.binary);
  }

  /** The encoded message (parts are joined when a receiver asks for one buffer). */
  get bytes(): Uint8Array {
    return (this.encoded ??= this.parts ? Buffer.concat(this.parts) : this.serializer!.encode(this.message!));
  }

  /** Bytes of the encoded message. */
  get length(): number {
    if (this.encoded === undefined && this.parts) {
      let n = 0;
      for (let i = 0; i < this.parts.length; i++) n += this.parts[i]!.length;
      return n;
    }
    return this.bytes.length;
  }

  /** This message framed for `kind`, framed on the first call for that kind. */
  framed<F>(kind: WireKind<F>): F {
    // The cache holds each kind's own framing type: what a kind stored is what it gets back.
    if (this.kind === kind) return this.frames as F;
    if (this.kind === undefined) {
      this.kind = kind;
      return (this.frames = kind.frame(this)) as F;
    }
    const more = (this.more ??= new Map());
    let frames = more.get(kind) as F | undefined;
    if (frames === undefined) more.set(kind, (frames = kind.frame(this)));
    return frames;
  }
}
