/**
 * MessagePack and CBOR splicing: a message's Arguments|ArgumentsKw located in the bytes they came
 * in (whatever encoder wrote them: msgpackr, cbor-x, or hand-made forms such as CBOR's
 * indefinite lengths) and put after another head unchanged, with the array count rewritten.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { CborSerializer } from '../../../src/serializers/cbor.js';
import { MsgpackSerializer } from '../../../src/serializers/msgpack.js';
import type { Serializer } from '../../../src/serializers/serializer.js';
import { prng } from '../../helpers/prng.js';

const serializers: Serializer[] = [new MsgpackSerializer(), new CborSerializer()];

/** Random WAMP data covering every length form: long strings, bytes, lists and dicts, wide integers. */
function valueMaker(seed: number): () => unknown {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const value = (depth: number): unknown => {
    switch (int(depth > 3 ? 7 : 10)) {
      case 0: return int(2) === 0 ? int(300) - 150 : (int(2) === 0 ? -1 : 1) * int(2 ** 53);
      case 1: return random() * 1e6;
      case 2: return 'ü'.repeat(int(3)) + 'x'.repeat([0, 5, 31, 32, 255, 256, 70_000][int(7)]!);
      case 3: return Buffer.from(Array.from({ length: [0, 3, 255, 256, 300][int(5)]! }, () => int(256)));
      case 4: return int(2) === 0;
      case 5: return null;
      case 6: return 4294967295 + int(10);
      case 7: return Array.from({ length: [0, 2, 15, 16, 20][int(5)]! }, () => value(depth + 1));
      default: return Object.fromEntries(Array.from({ length: [0, 1, 15, 16, 18][int(5)]! }, (_, k) => [`k${k}`, value(depth + 1)]));
    }
  };
  return () => value(0);
}

describe('binary payload splicing', () => {
  for (const s of serializers) {
    it(`${s.id}: a spliced message decodes to the new head followed by the original payload`, () => {
      const value = valueMaker(s.id === 'cbor' ? 3 : 4);
      for (let i = 0; i < 300; i++) {
        const args = [value(), value()];
        const kwargs = i % 2 === 0 ? { a: value(), b: value() } : undefined;
        const call = [48, i + 1, { timeout: i }, 'com.example.proc', args, ...(kwargs ? [kwargs] : [])];
        const payload = s.payloadOf!(s.encode(call), 4, kwargs ? 2 : 1);
        assert.ok(payload, `a payload in message ${i}`);
        const head = [68, i + 7, 2 ** 40 + i, { procedure: 'com.example.proc' }];
        assert.deepEqual(s.decode(s.encodeSpliced!(head, payload)), [...head, args, ...(kwargs ? [kwargs] : [])], `message ${i}`);
      }
    });

    it(`${s.id}: leaves the transport's header room in front`, () => {
      const payload = s.payloadOf!(s.encode([70, 5, {}, ['r']]), 3, 1)!;
      const out = s.encodeSpliced!([50, 9, {}], payload, { headroom: (length) => (length < 126 ? 2 : 4) });
      assert.deepEqual(s.decode(out.subarray(2)), [50, 9, {}, ['r']]);
    });

    it(`${s.id}: a large payload is passed on as a view of the bytes it came in, after a head of its own`, () => {
      const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) & 255));
      const publish = s.encode([16, 3, {}, 'com.example.topic', [bytes, 'tail'], { k: 1 }]);
      const payload = s.payloadOf!(publish, 4, 2)!;
      const head = [36, 2 ** 40 + 1, 2 ** 50 + 3, { topic: 'com.example.topic' }];
      const parts = s.encodeSplicedParts!(head, payload);
      assert.deepEqual(Buffer.concat(parts), s.encodeSpliced!(head, payload));
      assert.equal(parts.at(-1)!.buffer, publish.buffer, 'the payload part shares the message\'s memory');
      const decoded = s.decode(publish) as unknown[];
      assert.deepEqual((decoded[4] as unknown[])[0], bytes);
    });

    it(`${s.id}: has no payload to offer where the message has none`, () => {
      assert.equal(s.payloadOf!(s.encode([70, 5, {}]), 3, 1), undefined);
    });
  }

  it('msgpack: finds elements after array16/map16/str16/bin16 forms and a 16-element top array', () => {
    const ms = serializers[0]!;
    const big = Array.from({ length: 16 }, (_, k) => k);
    const message = [48, 1, Object.fromEntries(big.map((k) => [`o${k}`, 'v'.repeat(40)])), 'p', big, { z: Buffer.alloc(300, 1) }];
    const payload = ms.payloadOf!(ms.encode(message), 4, 2)!;
    assert.deepEqual(ms.decode(ms.encodeSpliced!([68, 2, 3, {}], payload)), [68, 2, 3, {}, big, { z: Buffer.alloc(300, 1) }]);
  });

  it('cbor: finds elements of indefinite-length arrays and maps (cbor-x refuses indefinite strings)', () => {
    const cs = serializers[1]!;
    // [_ 48, 1, {_ "a": "xy"}, "p", [_ h'0102', 7], {_ "k": [_ ]} ]  (RFC 8949 §3.2.2)
    const bytes = Buffer.from([
      0x9f, 0x18, 0x30, 0x01,
      0xbf, 0x61, 0x61, 0x62, 0x78, 0x79, 0xff,
      0x61, 0x70,
      0x9f, 0x42, 0x01, 0x02, 0x07, 0xff,
      0xbf, 0x61, 0x6b, 0x9f, 0xff, 0xff,
      0xff,
    ]);
    assert.deepEqual(cs.decode(bytes), [48, 1, { a: 'xy' }, 'p', [Buffer.from([1, 2]), 7], { k: [] }]);
    const payload = cs.payloadOf!(bytes, 4, 2)!;
    assert.deepEqual(cs.decode(cs.encodeSpliced!([68, 2, 3, {}], payload)), [68, 2, 3, {}, [Buffer.from([1, 2]), 7], { k: [] }]);
  });
});
