/**
 * Property test: whatever a serializer hands it, decodeMessage never throws and always answers a
 * message, a ProtocolViolation or a RequestRejected, each with a human-readable message. Seeded,
 * so a failure reproduces.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage } from '../../../src/wamp/decode.js';
import { encodeMessage } from '../../../src/wamp/encode.js';
import { ErrorUri } from '../../../src/wamp/errors.js';
import { ProtocolViolation, RequestRejected } from '../../../src/wamp/violation.js';
import { mutate, pick, randomMessageLike, seededRandom, validSamples } from '../../helpers/wamp-samples.js';

const RUNS = 5000;

type Outcome = 'message' | 'violation' | 'rejected';

/** Decodes `raw` and checks the answer; returns which kind it was. */
function check(raw: unknown, label: string, internalAllowed = false): Outcome {
  let m: ReturnType<typeof decodeMessage>;
  try {
    m = decodeMessage(raw, 'loose');
  } catch (e) {
    return assert.fail(`${label}: decodeMessage threw ${String(e)}`);
  }
  if (m instanceof ProtocolViolation) {
    assert.ok(typeof m.message === 'string' && m.message.length > 0, label);
    // The catch-all for internal errors must never be what a peer sees.
    assert.ok(internalAllowed || !m.message.startsWith('malformed message:'), `${label}: internal error: ${m.message}`);
    assert.ok(m.uri === ErrorUri.protocolViolation || m.uri === ErrorUri.invalidUri, `${label}: ${m.uri}`);
    return 'violation';
  }
  if (m instanceof RequestRejected) {
    assert.ok(m.uri === ErrorUri.invalidUri || m.uri === ErrorUri.invalidArgument, `${label}: ${m.uri}`);
    assert.ok(m.message.length > 0, label);
    return 'rejected';
  }
  assert.equal(typeof m.type, 'number', label);
  // A message the decoder accepted encodes, decodes again and encodes to the same array (encoding
  // normalizes: empty trailing Arguments/ArgumentsKw are left off).
  const encoded = encodeMessage(m);
  const again = decodeMessage(encoded, 'loose');
  assert.ok(!(again instanceof ProtocolViolation) && !(again instanceof RequestRejected), `${label}: re-decoding failed`);
  assert.deepEqual(encodeMessage(again), encoded, `${label}: not stable through encode/decode`);
  return 'message';
}

function label(raw: unknown): string {
  try {
    return JSON.stringify(raw, (_k, v: unknown) => (v === undefined ? '<undefined>' : v)).slice(0, 300);
  } catch {
    return String(raw);
  }
}

describe('decodeMessage, fed random input', () => {
  it(`never throws for ${RUNS} random JSON-ish values`, () => {
    const random = seededRandom(0xdec0de);
    const seen = new Map<Outcome, number>();
    for (let run = 0; run < RUNS; run++) {
      const raw = randomMessageLike(random);
      const o = check(raw, `run ${run}: ${label(raw)}`);
      seen.set(o, (seen.get(o) ?? 0) + 1);
    }
    // Random values are nearly always invalid; the point is that none escapes as an exception.
    assert.ok((seen.get('violation') ?? 0) > RUNS * 0.9, JSON.stringify([...seen]));
  });

  it(`never throws for ${RUNS} random mutations of valid messages, and reaches every outcome`, () => {
    const random = seededRandom(0xbadf00d);
    const samples = validSamples();
    const seen = new Map<Outcome, number>();
    for (let run = 0; run < RUNS; run++) {
      const raw = mutate(random, pick(random, samples));
      const o = check(raw, `run ${run}: ${label(raw)}`);
      seen.set(o, (seen.get(o) ?? 0) + 1);
    }
    for (const o of ['message', 'violation', 'rejected'] as const) {
      assert.ok((seen.get(o) ?? 0) > 0, `no ${o} among ${JSON.stringify([...seen])}`);
    }
  });

  it('never throws for hostile values: cycles, getters that throw, sparse arrays, prototype keys', () => {
    const cyclic: unknown[] = [16, 1, {}, 'a.b'];
    const opts: Record<string, unknown> = {};
    opts.self = opts;
    cyclic[2] = opts;
    const throwing = Object.defineProperty({}, 'acknowledge', { enumerable: true, get: () => { throw new Error('boom'); } });
    const sparse: unknown[] = [16];
    sparse[3] = 'a.b';
    const hostile: unknown[] = [
      cyclic,
      [16, 1, throwing, 'a.b'],
      sparse,
      [16, 1, JSON.parse('{"__proto__": {"acknowledge": "yes"}}'), 'a.b'],
      [1, 'realm1', { roles: JSON.parse('{"__proto__": {}}') }],
      [1, 'realm1', { roles: Object.create(null) as object }],
      [8, 48, 1, {}, 'a.b', [cyclic], { x: cyclic }],
      new Proxy([], {}),
      Object.assign([16, 1, {}, 'a.b'], { length: 4 }),
    ];
    // No serializer makes a getter; the decoder's catch-all answers it (and only it) as malformed.
    hostile.forEach((raw, i) => check(raw, `hostile value ${i}`, true));
  });
});
