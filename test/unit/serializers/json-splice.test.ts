/**
 * The JSON serializer's splicing: a message's Arguments|ArgumentsKw located in the bytes they
 * came in and put after another head unchanged, and the element-by-element encoder of heads.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { JsonSerializer } from '../../../src/serializers/json.js';
import { jsonElementOffset } from '../../../src/serializers/json-scan.js';
import { prng } from '../../helpers/prng.js';

const json = new JsonSerializer();
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** Splices the payload of `source` (from element `index`) after `head`. */
function splice(source: string, index: number, head: unknown[], count: 1 | 2 = 1): string {
  const payload = json.payloadOf(bytes(source), index, count);
  assert.ok(payload, `a payload in ${source}`);
  return text(json.encodeSpliced(head, payload));
}

describe('JSON payload splicing', () => {
  it('finds the element at an index past strings holding brackets, commas, quotes and escapes', () => {
    const source = '[48, 7, {"a": "],[{\\"", "b": [1, {"c": ","}]}, "x\\\\", ["arg"], {"k": 1}]';
    const at = jsonElementOffset(bytes(source), 4);
    assert.equal(source.slice(at, at + 7), '["arg"]');
    assert.equal(jsonElementOffset(bytes(source), 0), 1);
    assert.equal(jsonElementOffset(bytes(source), 6), -1, 'no seventh element');
    assert.equal(jsonElementOffset(bytes('[]'), 0), -1);
    assert.equal(jsonElementOffset(bytes('  [ 1 ]'), 0), 4);
  });

  it('keeps the payload byte for byte: number forms, spacing, escapes and binary strings', () => {
    const source = '[70, 5, {},  [1.50, 1e3, "a,]\\"b", "\\u0000AQID", "ü"] , {"z" : [ ] } ]';
    assert.equal(
      splice(source, 3, [50, 12, {}], 2),
      '[50,12,{},[1.50, 1e3, "a,]\\"b", "\\u0000AQID", "ü"] , {"z" : [ ] } ]',
    );
  });

  it('writes any head as JSON.stringify would, bytes as "\\0"+base64', () => {
    const cases: [unknown[], string][] = [
      [[68, 1, 2 ** 53 - 1, {}], '[68,1,9007199254740991,{}'],
      [[8, 48, 99, { message: 'x', n: [1] }, 'com.example.error'], '[8,48,99,{"message":"x","n":[1]},"com.example.error"'],
      [[36, 100000000, 99999999, { topic: 'a "q" \\ ü \u0001' }], '[36,100000000,99999999,{"topic":"a \\"q\\" \\\\ ü \\u0001"}'],
      [[50, -3, { progress: true }], '[50,-3,{"progress":true}'],
      [[70, 0.5, { x: Buffer.from([1, 2]) }], '[70,0.5,{"x":"\\u0000AQI="}'],
    ];
    for (const [head, expected] of cases) assert.equal(splice('[1,["p"]]', 1, head), `${expected},["p"]]`);
  });

  it('encodes whole messages exactly as JSON.stringify, integers of every size included', () => {
    const random = prng(11);
    for (let i = 0; i < 2000; i++) {
      const big = Math.floor(random() * 2 ** 53) * (random() < 0.1 ? -1 : 1);
      const small = Math.floor(random() * 10 ** Math.floor(random() * 9));
      const message = [Math.floor(random() * 80), big, small, random() < 0.5 ? {} : { k: big }, 'uri.x', [small]];
      assert.equal(text(json.encode(message.slice(0, 3 + (i % 4)))), JSON.stringify(message.slice(0, 3 + (i % 4))));
    }
    assert.equal(text(json.encode([1, 2 ** 53, -0, Number.NaN, Infinity])), '[1,9007199254740992,0,null,null]');
  });

  it('a spliced message decodes to the head followed by the original payload', () => {
    const random = prng(5);
    const values = (): unknown => {
      const pick = Math.floor(random() * 6);
      if (pick === 0) return Math.floor(random() * 1e6) / 7;
      if (pick === 1) return `s${'],"{'.charAt(Math.floor(random() * 4))}\\${random()}`;
      if (pick === 2) return [values(), values()].slice(0, Math.floor(random() * 3));
      if (pick === 3) return { [`k${Math.floor(random() * 9)}`]: random() < 0.5 ? null : values() };
      return random() < 0.5;
    };
    for (let i = 0; i < 500; i++) {
      const args = [values(), values()];
      const kwargs = i % 2 === 0 ? { a: values() } : undefined;
      const call = [48, i + 1, { timeout: i }, 'com.example.proc', args, ...(kwargs ? [kwargs] : [])];
      const source = JSON.stringify(call, null, i % 3 === 0 ? 1 : undefined);
      const out = JSON.parse(splice(source, 4, [68, i + 7, 2 ** 40, {}], kwargs ? 2 : 1)) as unknown[];
      assert.deepEqual(out, [68, i + 7, 2 ** 40, {}, args, ...(kwargs ? [kwargs] : [])]);
    }
  });

  it('has no payload to offer for a message without one', () => {
    assert.equal(json.payloadOf(bytes('[70,5,{}]'), 3, 1), undefined);
  });
  it('passes a large payload on as a view of the message, its closing bracket included', () => {
    const s = new JsonSerializer();
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) & 255));
    const publish = s.encode([16, 3, {}, 'com.example.topic', [bytes], { k: 'v' }]);
    const payload = s.payloadOf(publish, 4, 2)!;
    for (const head of [[36, 2 ** 40 + 1, 2 ** 50 + 3, {}], [36, 5, 6, { topic: 'com.example.topic' }]]) {
      const parts = s.encodeSplicedParts(head, payload);
      assert.deepEqual(Buffer.concat(parts), s.encodeSpliced(head, payload));
      assert.equal(parts.at(-1)!.buffer, (publish as Buffer).buffer);
      assert.deepEqual(s.decode(Buffer.concat(parts)), [...head, [bytes], { k: 'v' }]);
    }
  });
});
