import { Decoder, Encoder, type Options } from 'cbor-x';
import { cborElementRange, cborStringsAreUtf8 } from './cbor-scan.js';
import { DecodeError, type EncodedPayload, type Headroom, type Serializer } from './serializer.js';
import { binaryHead, payloadView, spliceBinary } from './splice.js';
import { type AdoptOptions, adoptDecoded } from './wamp-value.js';
import { widenIntegers } from './wide-integers.js';

// cbor-x reads these options but its typings omit them.
type CborOptions = Options & { int64AsNumber: boolean; useTag259ForMaps: boolean };

/**
 * `wamp.2.cbor`: plain CBOR (no records, no tags on output), so any CBOR peer reads it.
 * Binary values are byte strings (major type 2), without cbor-x's default tag 64.
 */
export class CborSerializer implements Serializer {
  readonly id = 'cbor';
  readonly subprotocol = 'wamp.2.cbor';
  readonly rawsocketId = 3;
  readonly binary = true;

  private readonly encoder: Encoder;
  private readonly adopt: AdoptOptions;

  constructor() {
    const options: CborOptions = {
      useRecords: false,
      mapsAsObjects: true,
      tagUint8Array: false,
      useTag259ForMaps: false,
      // Smallest map header (the default is always a 16-bit length); measured no slower.
      variableMapSize: true,
      // 64-bit integers decode to numbers (exact up to 2^53, the WAMP ID range), not BigInts.
      int64AsNumber: true,
    };
    this.encoder = new Encoder(options);
    // The same decoding with maps as `Map`s: the slow path for a "__proto__" key (see wamp-value.ts).
    const maps = new Decoder({ ...options, mapsAsObjects: false } as CborOptions);
    this.adopt = { format: 'CBOR', jsonBinary: false, utf8Strings: cborStringsAreUtf8, decodeMaps: (bytes) => maps.decode(bytes) };
  }

  decode(bytes: Uint8Array): unknown {
    let value: unknown;
    try {
      // Throws on truncated input and on trailing bytes ("end of buffer not reached").
      value = this.encoder.decode(bytes);
    } catch (err) {
      throw new DecodeError(`malformed CBOR message: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
    return adoptDecoded(value, bytes, this.adopt);
  }

  encode(message: readonly unknown[]): Uint8Array {
    return this.encoder.encode(widenIntegers(message));
  }

  payloadOf(message: Uint8Array, index: number, count: 1 | 2): EncodedPayload | undefined {
    const range = cborElementRange(message, index);
    return range ? { serializer: 'cbor', message, start: range[0], end: range[1], count } : undefined;
  }

  encodeSpliced(head: readonly unknown[], payload: EncodedPayload, room?: Headroom): Buffer {
    return spliceBinary(this.encoder.encode(widenIntegers(head)), 0x80, head.length, payload, room);
  }

  encodeSplicedParts(head: readonly unknown[], payload: EncodedPayload): Buffer[] {
    return [binaryHead(this.encoder.encode(widenIntegers(head)), 0x80, head.length, payload), payloadView(payload)];
  }
}
