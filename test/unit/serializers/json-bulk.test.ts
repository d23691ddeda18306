/**
 * A large JSON message ending in Arguments of one binary value takes a fast way (json-bulk.ts):
 * it must decode exactly as the message decoded whole — the same value, and a DecodeError for
 * every message the whole decoding refuses. The reference here is written apart from xbar's
 * decoder: JSON.parse, then every string starting with "\0" as strict standard base64.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { BULK_MIN_BYTES, decodeBulkBinaryTail } from '../../../src/serializers/json-bulk.js';
import { JsonSerializer } from '../../../src/serializers/json.js';
import { DecodeError } from '../../../src/serializers/serializer.js';
import { seededRandom } from './support.js';

const json = new JsonSerializer();
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** What the message means by WAMP's JSON rules, or 'refused'. */
function reference(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return 'refused';
  }
  const adopt = (v: unknown): unknown => {
    if (typeof v === 'string' && v.charCodeAt(0) === 0) {
      if (!STRICT_BASE64.test(v.slice(1))) throw new Error('not base64');
      return Buffer.from(v.slice(1), 'base64');
    }
    if (Array.isArray(v)) return v.map(adopt);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, adopt(x)]));
    return v;
  };
  try {
    return adopt(value);
  } catch {
    return 'refused';
  }
}

function decoded(bytes: Uint8Array): unknown {
  try {
    return json.decode(bytes);
  } catch (err) {
    assert.ok(err instanceof DecodeError, `threw ${String(err)}, not a DecodeError`);
    return 'refused';
  }
}

const payload = randomBytes(BULK_MIN_BYTES);
const b64 = payload.toString('base64');
const publish = (tail: string, head = '[16,7,{"acknowledge":true},"com.bulk.topic"'): Buffer => Buffer.from(`${head}${tail}`, 'utf8');

describe('JSON: a large message whose Arguments are one binary value', () => {
  it('decodes to the head and the payload bytes, in every whitespace the JSON grammar allows', () => {
    for (const tail of [`,["\\u0000${b64}"]]`, ` , [ "\\u0000${b64}" ] ]\n`, `,\r\n\t["\\u0000${b64}"]\t]`]) {
      assert.ok(decodeBulkBinaryTail(publish(tail), (head) => json.decode(head)), 'the fast way takes it');
      const value = json.decode(publish(tail)) as unknown[];
      assert.deepEqual(value.slice(0, 4), [16, 7, { acknowledge: true }, 'com.bulk.topic']);
      assert.ok(Buffer.isBuffer((value[4] as unknown[])[0]));
      assert.ok(payload.equals((value[4] as Buffer[])[0]!));
      assert.equal(value.length, 5);
    }
  });

  it('decodes as the whole message would where the head has strings with brackets, commas, escapes and binary', () => {
    const heads = [
      '[16,7,{"a":"x,[\\"y\\"]","b":"\\u0000AQID"},"com.t"',
      '[48, 9, {"k": ["\\u0000", [1, "],["]]}, "com.p\\u00e9"',
      '[70,12,{}',
      ' [ 8 , 48 , 3 , { } , "com.error" ',
    ];
    for (const head of heads) {
      const bytes = publish(`,["\\u0000${b64}"]]`, head);
      assert.deepEqual(decoded(bytes), reference(bytes), head);
    }
  });

  it('is refused as the whole message is: bad base64, bytes JSON does not allow, an empty head, a missing element', () => {
    const broken = [
      publish(`,["\\u0000${b64.slice(0, -3)}!=="]]`), // not the base64 alphabet
      publish(`,["\\u0000${b64.slice(1)}"]]`), // a length no bytes have
      publish(`,["\\u0000${b64.slice(0, 100)}\n${b64.slice(100)}"]]`), // a raw control character
      publish(`,["\\u0000${b64.slice(0, 100)}é${b64.slice(100)}"]]`), // not ASCII
      publish(`,["\\u0000${b64.slice(0, 100)}-_${b64.slice(102)}"]]`), // the URL-safe alphabet
      publish(`,["\\u0000${b64}"]]`, '['), // [,[…]]
      publish(`,["\\u0000${b64}"]]`, '[16,7,'), // [16,7,,[…]]
      publish(`,["\\u0000${b64}"]]`, '[16,"open'), // an unterminated string before
      publish(`["\\u0000${b64}"]]`), // no comma
      publish(`,["\\u0000${b64}"]]]`), // one bracket too many
      publish(`,["\\u0000${b64}"]`), // one too few
    ];
    for (const bytes of broken) {
      assert.equal(reference(bytes), 'refused', bytes.subarray(0, 60).toString());
      assert.equal(decoded(bytes), 'refused', bytes.subarray(0, 60).toString());
    }
  });

  it('takes the whole way, with the same meaning, for what is not that shape: escapes in the base64, ArgumentsKw, text, two values', () => {
    const others = [
      publish(`,["\\u0000${b64.slice(0, 8)}\\/${b64.slice(9)}"]]`.replace(b64.slice(8, 9), '/')),
      publish(`,["\\u0000${b64}"],{"k":1}]`),
      publish(`,["${b64}"]]`),
      publish(`,["x","\\u0000${b64}"]]`),
    ];
    for (const bytes of others) assert.deepEqual(decoded(bytes), reference(bytes));
  });

  it('agrees with the whole decoding for 400 messages with random bytes changed, inserted or cut', { timeout: 30_000 }, () => {
    const random = seededRandom(0xb01c);
    const valid = publish(`,["\\u0000${b64}"]]`);
    // Where a change matters most: the head and the last bytes; sometimes anywhere.
    const spot = (n: number): number => {
      const r = random();
      if (r < 0.4) return Math.floor(random() * 60);
      if (r < 0.8) return n - 1 - Math.floor(random() * 12);
      return Math.floor(random() * n);
    };
    const alphabet = Buffer.from(' ,[]{}"\\u0:/+=-_Aé\n\t\u0000x', 'utf8');
    let refused = 0;
    for (let run = 0; run < 400; run++) {
      let bytes = Buffer.from(valid);
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
        const at = spot(bytes.length);
        const b = random() < 0.8 ? alphabet[Math.floor(random() * alphabet.length)]! : Math.floor(random() * 256);
        const op = random();
        if (op < 0.5) bytes[at] = b;
        else if (op < 0.75) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([b]), bytes.subarray(at)]);
        else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
      }
      const expected = reference(bytes);
      if (expected === 'refused') refused++;
      assert.deepEqual(decoded(bytes), expected, `run ${run}: ${bytes.subarray(0, 50).toString()} … ${bytes.subarray(-20).toString()}`);
    }
    assert.ok(refused > 100 && refused < 390, `a mix of refused and accepted messages (${refused} refused)`);
  });
});
