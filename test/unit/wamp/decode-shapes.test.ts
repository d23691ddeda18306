/**
 * decodeMessage against a table of every message shape: valid messages decode into typed values
 * and encode back to the same array; wrong arity and a wrong type in each field position are
 * protocol violations that name the field and the message.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType as T } from '../../../src/wamp/codes.js';
import { decodeMessage } from '../../../src/wamp/decode.js';
import { encodeMessage } from '../../../src/wamp/encode.js';
import { ErrorUri } from '../../../src/wamp/errors.js';
import type { WampMessage } from '../../../src/wamp/messages.js';
import { ProtocolViolation, RequestRejected } from '../../../src/wamp/violation.js';
import { SHAPES, validSamples, wrongValues } from '../../helpers/wamp-samples.js';

function decoded(raw: unknown): WampMessage {
  const m = decodeMessage(raw, 'loose');
  if (m instanceof ProtocolViolation || m instanceof RequestRejected) {
    assert.fail(`expected a message for ${show(raw)}, got ${m.constructor.name}: ${m.message}`);
  }
  return m;
}

function violation(raw: unknown): ProtocolViolation {
  const m = decodeMessage(raw, 'loose');
  assert.ok(m instanceof ProtocolViolation, `expected a ProtocolViolation for ${show(raw)}, got ${JSON.stringify(m)}`);
  return m;
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
}

describe('decodeMessage: valid messages of every type', () => {
  for (const sample of validSamples()) {
    it(`decodes ${show(sample)} and encodeMessage gives the same array back`, () => {
      const m = decoded(sample);
      assert.equal(m.type, sample[0]);
      assert.deepEqual(encodeMessage(m), sample);
    });
  }

  it('covers every message code in the codes table', () => {
    const codes = new Set(SHAPES.map((s) => s.code));
    for (const code of Object.values(T)) assert.ok(codes.has(code), `no shape for code ${code}`);
  });

  it('gives typed values: PUBLISH carries request, topic, parsed options, args and kwargs', () => {
    const m = decoded([16, 239714735, { acknowledge: true, exclude: [7], exclude_me: false }, 'com.myapp.t', ['a'], { k: 1 }]);
    assert.equal(m.type, T.PUBLISH);
    if (m.type !== T.PUBLISH) return;
    assert.equal(m.request, 239714735);
    assert.equal(m.topic, 'com.myapp.t');
    assert.deepEqual(m.args, ['a']);
    assert.deepEqual(m.kwargs, { k: 1 });
    assert.equal(m.options.acknowledge, true);
    assert.equal(m.options.excludeMe, false);
    assert.deepEqual(m.options.receivers?.exclude, [7]);
    assert.equal(m.options.discloseMe, false);
  });

  it('applies spec defaults to absent options: PUBLISH excludes the publisher, SUBSCRIBE matches exactly', () => {
    const p = decoded([16, 1, {}, 'a.b']);
    assert.ok(p.type === T.PUBLISH && p.options.excludeMe === true && p.options.acknowledge === false);
    const s = decoded([32, 1, {}, 'a.b']);
    assert.ok(s.type === T.SUBSCRIBE && s.options.match === 'exact');
    const r = decoded([64, 1, {}, 'a.b']);
    assert.ok(r.type === T.REGISTER && r.options.match === 'exact' && r.options.invoke === 'single');
    const c = decoded([48, 1, {}, 'a.b']);
    assert.ok(c.type === T.CALL && c.options.timeout === 0 && c.options.receiveProgress === false);
  });

  it('reads UNSUBSCRIBED and UNREGISTERED with Request 0 and Details as a router-side revocation', () => {
    const m = decoded([35, 0, { subscription: 5, reason: 'wamp.authentication.lost' }]);
    assert.ok(m.type === T.UNSUBSCRIBED && m.request === 0 && m.details?.subscription === 5);
  });

  it('accepts the largest ID, 2^53', () => {
    const m = decoded([17, 2 ** 53, 2 ** 53]);
    assert.ok(m.type === T.PUBLISHED && m.request === 2 ** 53);
  });

  it('omits empty trailing Arguments and ArgumentsKw when encoding (basic/messages.md)', () => {
    assert.deepEqual(encodeMessage(decoded([16, 1, {}, 'a.b', []])), [16, 1, {}, 'a.b']);
    assert.deepEqual(encodeMessage(decoded([16, 1, {}, 'a.b', [], {}])), [16, 1, {}, 'a.b']);
    assert.deepEqual(encodeMessage(decoded([50, 1, {}, ['x'], {}])), [50, 1, {}, ['x']]);
  });
});

describe('decodeMessage: wrong arity', () => {
  for (const shape of SHAPES) {
    const max = shape.full.length;
    const min = max - shape.optional;
    it(`refuses ${shape.name} with ${min - 1} or ${max + 1} elements, naming the message and the length`, () => {
      for (const length of [1, min - 1, max + 1, max + 5]) {
        if (length < 1) continue;
        const raw = [...shape.full, 'extra', 'extra', 'extra', 'extra', 'extra'].slice(0, length);
        const v = violation(raw);
        assert.equal(v.uri, ErrorUri.protocolViolation);
        assert.match(v.message, new RegExp(`^invalid message length ${length} for ${shape.name} \\(expected ${min}( to ${max})?\\)$`));
      }
    });
  }
});

describe('decodeMessage: a wrong type in every field position', () => {
  for (const shape of SHAPES) {
    shape.fields.forEach((field, i) => {
      it(`refuses ${shape.name} with a bad '${field.name}' (position ${i + 1}), naming the field`, () => {
        for (const bad of wrongValues(field.kind)) {
          const raw = [...shape.full];
          raw[i + 1] = bad;
          const v = violation(raw);
          assert.equal(v.uri, ErrorUri.protocolViolation, `${show(raw)}: ${v.message}`);
          // HELLO's Details must also name a role: its message names 'Details.roles'.
          const named = field.kind === 'helloDetails' ? `^'Details(\\.roles)?' in HELLO: ` : `^'${field.name.replace('.', '\\.')}' in ${shape.name}: `;
          assert.match(v.message, new RegExp(named), `${show(raw)}`);
        }
      });
    });
  }
});

describe('decodeMessage: IDs', () => {
  const cases: [string, unknown, string][] = [
    ['0', 0, 'got 0'],
    ['2^53 + 1 (a bigint: no float64 holds it)', 2n ** 53n + 1n, 'got 9007199254740993'],
    ['2^53 + 2', 2 ** 53 + 2, 'got 9007199254740994'],
    ['a float', 1.5, 'got 1.5'],
    ['negative', -7, 'got -7'],
    ['a numeric string', '7', 'got "7"'],
  ];
  for (const [label, value, got] of cases) {
    it(`refuses ${label} as 'Request' in PUBLISH with a message naming the field`, () => {
      const v = violation([16, value, {}, 'a.b']);
      assert.ok(v.message.startsWith(`'Request' in PUBLISH: expected an integer ID in [1, 2^53], `), v.message);
      assert.ok(v.message.endsWith(got), v.message);
    });
  }

  it('refuses 0 as a Subscription ID in UNSUBSCRIBE (only UNSUBSCRIBED may carry 0, for revocation)', () => {
    assert.match(violation([34, 1, 0]).message, /^'SUBSCRIBED\.Subscription' in UNSUBSCRIBE: /);
    assert.match(violation([35, 0]).message, /^'Request' in UNSUBSCRIBED: /);
  });
});

describe('decodeMessage: not a message at all', () => {
  const cases: [string, unknown, RegExp][] = [
    ['a dict', { 0: 16 }, /^message must be an array, got a dict$/],
    ['a string', 'HELLO', /^message must be an array, got string "HELLO"$/],
    ['null', null, /^message must be an array, got null$/],
    ['a number', 16, /^message must be an array, got number 16$/],
    ['an empty list', [], /^message must not be empty$/],
    ['an unknown message code', [7, 1, 2], /^unknown message type 7$/],
    ['a code as a string', ['16', 1, {}, 'a'], /^unknown message type "16"$/],
    ['a float code', [16.5, 1, {}, 'a'], /^unknown message type 16\.5$/],
  ];
  for (const [label, raw, message] of cases) {
    it(`refuses ${label} with a human-readable protocol violation`, () => {
      const v = violation(raw);
      assert.equal(v.uri, ErrorUri.protocolViolation);
      assert.match(v.message, message);
    });
  }
});
