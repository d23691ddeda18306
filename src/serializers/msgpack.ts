import { Packr, Unpackr } from 'msgpackr';
import { msgpackElementOffset, msgpackStringsAreUtf8 } from './msgpack-scan.js';
import { DecodeError, type EncodedPayload, type Headroom, type Serializer } from './serializer.js';
import { binaryHead, payloadView, spliceBinary } from './splice.js';
import { type AdoptOptions, adoptDecoded } from './wamp-value.js';
import { widenIntegers } from './wide-integers.js';

/**
 * `wamp.2.msgpack`: plain MessagePack (no records, no extensions on output), so any MessagePack
 * peer reads it. Binary values are the `bin` type.
 */
export class MsgpackSerializer implements Serializer {
  readonly id = 'msgpack';
  readonly subprotocol = 'wamp.2.msgpack';
  readonly rawsocketId = 2;
  readonly binary = true;

  private readonly packr = new Packr({
    useRecords: false,
    mapsAsObjects: true,
    moreTypes: false,
    // Must be exactly `false`: msgpackr only refuses its reference extensions (cycles) then.
    structuredClone: false,
    // Otherwise undefined is written as msgpackr's private extension 0.
    encodeUndefinedAsNil: true,
    // Smallest map header (the spec's SHOULD): an empty dict is 1 byte, not map16's 3. Its cost
    // measured within noise on WAMP messages.
    variableMapSize: true,
    // int64/uint64 decode to numbers (exact up to 2^53, the WAMP ID range), not BigInts.
    int64AsType: 'number',
  });

  /** The same decoding with maps as `Map`s: the slow path for a "__proto__" key (see wamp-value.ts). */
  private readonly mapsUnpackr = new Unpackr({
    useRecords: false, mapsAsObjects: false, moreTypes: false, structuredClone: false, int64AsType: 'number',
  });

  private readonly adopt: AdoptOptions = {
    format: 'MessagePack',
    jsonBinary: false,
    utf8Strings: msgpackStringsAreUtf8,
    decodeMaps: (bytes) => this.mapsUnpackr.unpack(bytes),
  };

  decode(bytes: Uint8Array): unknown {
    let value: unknown;
    try {
      // Throws on truncated input and on trailing bytes ("end of buffer not reached").
      value = this.packr.unpack(bytes);
    } catch (err) {
      throw new DecodeError(`malformed MessagePack message: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
    return adoptDecoded(value, bytes, this.adopt);
  }

  encode(message: readonly unknown[]): Uint8Array {
    return this.packr.pack(widenIntegers(message));
  }

  payloadOf(message: Uint8Array, index: number, count: 1 | 2): EncodedPayload | undefined {
    const start = msgpackElementOffset(message, index);
    return start < 0 ? undefined : { serializer: 'msgpack', message, start, end: message.length, count };
  }

  encodeSpliced(head: readonly unknown[], payload: EncodedPayload, room?: Headroom): Buffer {
    return spliceBinary(this.packr.pack(widenIntegers(head)), 0x90, head.length, payload, room);
  }

  encodeSplicedParts(head: readonly unknown[], payload: EncodedPayload): Buffer[] {
    return [binaryHead(this.packr.pack(widenIntegers(head)), 0x90, head.length, payload), payloadView(payload)];
  }
}
