/**
 * WAMP message shapes and seeded generators for robustness tests (unit and over real sockets):
 * one valid sample per message type, the field each position holds, values of the wrong type for
 * each field kind, and random mutations of valid messages. Not a test file itself.
 */
import { Buffer } from 'node:buffer';
import { prng } from './prng.js';

export { prng as seededRandom };

export type Random = () => number;

export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/**
 * What a position of a message holds. `requestOrRevocation` is UNSUBSCRIBED/UNREGISTERED's
 * Request, where 0 is valid when Details follow (router-side revocation).
 */
export type FieldKind =
  | 'id' | 'requestOrRevocation' | 'dict' | 'helloDetails' | 'uri' | 'realm' | 'string' | 'requestType' | 'args' | 'kwargs';

export interface Field {
  /** The name the decoder uses in its messages ("'Request' in PUBLISH: …"). */
  readonly name: string;
  readonly kind: FieldKind;
}

export interface MessageShape {
  readonly name: string;
  readonly code: number;
  /** Fields after the message code, in order; the last `optional` of them may be absent. */
  readonly fields: readonly Field[];
  readonly optional: number;
  /** A valid message with every field present, in canonical form (encodeMessage gives it back). */
  readonly full: readonly unknown[];
}

const f = (name: string, kind: FieldKind): Field => ({ name, kind });
const ARGS = f('Arguments', 'args');
const KWARGS = f('ArgumentsKw', 'kwargs');
const ROLES = { roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} } };

/** Every WAMP message type, as basic/messages.md gives it and src/wamp/decode.ts names its fields. */
export const SHAPES: readonly MessageShape[] = [
  { name: 'HELLO', code: 1, fields: [f('Realm', 'realm'), f('Details', 'helloDetails')], optional: 0, full: [1, 'realm1', ROLES] },
  { name: 'WELCOME', code: 2, fields: [f('Session', 'id'), f('Details', 'dict')], optional: 0, full: [2, 9129137332, { roles: { broker: {} } }] },
  { name: 'ABORT', code: 3, fields: [f('Details', 'dict'), f('Reason', 'uri')], optional: 0, full: [3, { message: 'no' }, 'wamp.error.no_such_realm'] },
  { name: 'CHALLENGE', code: 4, fields: [f('AuthMethod', 'string'), f('Extra', 'dict')], optional: 0, full: [4, 'ticket', {}] },
  { name: 'AUTHENTICATE', code: 5, fields: [f('Signature', 'string'), f('Extra', 'dict')], optional: 0, full: [5, 'secret', {}] },
  { name: 'GOODBYE', code: 6, fields: [f('Details', 'dict'), f('Reason', 'uri')], optional: 0, full: [6, {}, 'wamp.close.close_realm'] },
  {
    name: 'ERROR', code: 8,
    fields: [f('REQUEST.Type', 'requestType'), f('REQUEST.Request', 'id'), f('Details', 'dict'), f('Error', 'uri'), ARGS, KWARGS],
    optional: 2, full: [8, 68, 6131533, {}, 'com.myapp.error.object_write_protected', ['Object is write protected.'], { severity: 3 }],
  },
  {
    name: 'PUBLISH', code: 16, fields: [f('Request', 'id'), f('Options', 'dict'), f('Topic', 'uri'), ARGS, KWARGS],
    optional: 2, full: [16, 239714735, { acknowledge: true }, 'com.myapp.mytopic1', ['Hello, world!'], { color: 'orange' }],
  },
  { name: 'PUBLISHED', code: 17, fields: [f('PUBLISH.Request', 'id'), f('Publication', 'id')], optional: 0, full: [17, 239714735, 4429313566] },
  {
    name: 'SUBSCRIBE', code: 32, fields: [f('Request', 'id'), f('Options', 'dict'), f('Topic', 'uri')],
    optional: 0, full: [32, 713845233, { match: 'prefix' }, 'com.myapp'],
  },
  { name: 'SUBSCRIBED', code: 33, fields: [f('SUBSCRIBE.Request', 'id'), f('Subscription', 'id')], optional: 0, full: [33, 713845233, 5512315355] },
  { name: 'UNSUBSCRIBE', code: 34, fields: [f('Request', 'id'), f('SUBSCRIBED.Subscription', 'id')], optional: 0, full: [34, 85346237, 5512315355] },
  {
    name: 'UNSUBSCRIBED', code: 35, fields: [f('Request', 'requestOrRevocation'), f('Details', 'dict')],
    optional: 1, full: [35, 85346237, { reason: 'wamp.authentication.lost' }],
  },
  {
    name: 'EVENT', code: 36,
    fields: [f('SUBSCRIBED.Subscription', 'id'), f('PUBLISHED.Publication', 'id'), f('Details', 'dict'), ARGS, KWARGS],
    optional: 2, full: [36, 5512315355, 4429313566, {}, ['johnny'], { firstname: 'John' }],
  },
  {
    name: 'CALL', code: 48, fields: [f('Request', 'id'), f('Options', 'dict'), f('Procedure', 'uri'), ARGS, KWARGS],
    optional: 2, full: [48, 7814135, { timeout: 1000 }, 'com.myapp.user.new', ['johnny'], { firstname: 'John' }],
  },
  { name: 'CANCEL', code: 49, fields: [f('CALL.Request', 'id'), f('Options', 'dict')], optional: 0, full: [49, 7814135, { mode: 'kill' }] },
  {
    name: 'RESULT', code: 50, fields: [f('CALL.Request', 'id'), f('Details', 'dict'), ARGS, KWARGS],
    optional: 2, full: [50, 7814135, {}, [30], { userid: 123 }],
  },
  {
    name: 'REGISTER', code: 64, fields: [f('Request', 'id'), f('Options', 'dict'), f('Procedure', 'uri')],
    optional: 0, full: [64, 25349185, { invoke: 'roundrobin' }, 'com.myapp.myprocedure1'],
  },
  { name: 'REGISTERED', code: 65, fields: [f('REGISTER.Request', 'id'), f('Registration', 'id')], optional: 0, full: [65, 25349185, 2103333224] },
  { name: 'UNREGISTER', code: 66, fields: [f('Request', 'id'), f('REGISTERED.Registration', 'id')], optional: 0, full: [66, 788923562, 2103333224] },
  {
    name: 'UNREGISTERED', code: 67, fields: [f('Request', 'requestOrRevocation'), f('Details', 'dict')],
    optional: 1, full: [67, 788923562, { reason: 'wamp.authentication.lost' }],
  },
  {
    name: 'INVOCATION', code: 68,
    fields: [f('Request', 'id'), f('REGISTERED.Registration', 'id'), f('Details', 'dict'), ARGS, KWARGS],
    optional: 2, full: [68, 6131533, 9823529, {}, ['johnny'], { firstname: 'John' }],
  },
  { name: 'INTERRUPT', code: 69, fields: [f('INVOCATION.Request', 'id'), f('Options', 'dict')], optional: 0, full: [69, 6131533, {}] },
  {
    name: 'YIELD', code: 70, fields: [f('INVOCATION.Request', 'id'), f('Options', 'dict'), ARGS, KWARGS],
    optional: 2, full: [70, 6131533, { progress: false }, ['Hello, world!'], { userid: 123 }],
  },
];

const BYTES = Buffer.from([0, 1, 2, 255]);
const NOT_AN_ID = ['1', null, true, [], {}, BYTES, 1.5, -1, -(2 ** 53), 2 ** 53 + 2, Number.NaN, Infinity, 2n ** 53n + 1n];

/**
 * Values that do not fit a field of `kind`. IDs must be integers in [1, 2^53]: 2^53 + 1 is not a
 * float64 (it rounds to 2^53), so the bigint and 2^53 + 2 stand in for it.
 */
export function wrongValues(kind: FieldKind): readonly unknown[] {
  switch (kind) {
    case 'id': return [0, ...NOT_AN_ID];
    // 0 is the revocation marker when Details follow.
    case 'requestOrRevocation': return NOT_AN_ID;
    case 'dict':
    case 'kwargs': return [null, [], 'x', 1, true, BYTES];
    case 'helloDetails': return [null, [], 'x', 1, true, BYTES, {}, { roles: {} }, { roles: 'publisher' }];
    case 'uri':
    case 'string': return [1, null, [], {}, true, BYTES];
    // HELLO's Realm may be null: the authentication assigns one (as Crossbar.io does).
    case 'realm': return [1, [], {}, true, BYTES];
    case 'requestType': return [0, 1, 17, 36, 99, '16', null, 16.5];
    case 'args': return [null, 'x', 1, {}, true, BYTES];
  }
}

/** Canonical valid messages: each shape with all fields, and with each optional tail left off. */
export function validSamples(): (readonly unknown[])[] {
  const out: (readonly unknown[])[] = [];
  for (const s of SHAPES) {
    for (let drop = 0; drop <= s.optional; drop++) out.push(s.full.slice(0, s.full.length - drop));
  }
  // Revocations: Request 0 with Details.
  out.push([35, 0, { subscription: 5512315355, reason: 'wamp.authentication.lost' }]);
  out.push([67, 0, { registration: 2103333224, reason: 'wamp.authentication.lost' }]);
  // Args without kwargs, kwargs with empty args.
  out.push([16, 1, {}, 'a.b', [1, 2]], [16, 1, {}, 'a.b', [], { k: 'v' }]);
  return out;
}

const STRINGS = [
  '', 'a', 'com.myapp.topic', 'com..x', 'com.', '.com', 'a b', 'x#y', 'Zoë', 'wamp.error.protocol_violation',
  'prefix', 'wildcard', 'exact', 'fuzzy', 'kill', 'roundrobin', '\u0000AAEC', 'x'.repeat(300),
];
const KEYS = [
  'acknowledge', 'exclude_me', 'exclude', 'eligible', 'exclude_authid', 'eligible_authrole', 'disclose_me', 'retain',
  'match', 'get_retained', 'timeout', 'receive_progress', 'progress', 'mode', 'invoke', 'concurrency',
  'force_reregister', 'roles', 'authmethods', 'message', '__proto__', 'constructor', 'toString', '',
];
const NUMBERS = [0, 1, -1, 2, 16, 32, 48, 64, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 0.5, -0, 1e300, Number.NaN, Infinity];
const CODES = [...SHAPES.map((s) => s.code), 0, 7, 255, -1, 1.5];

/** A random JSON-ish value (null, booleans, numbers, strings, bytes, lists, dicts), `depth` levels at most. */
export function randomValue(random: Random, depth = 3): unknown {
  const r = random();
  if (depth <= 0 || r < 0.55) {
    const t = random();
    if (t < 0.1) return null;
    if (t < 0.2) return random() < 0.5;
    if (t < 0.5) return random() < 0.6 ? pick(random, NUMBERS) : Math.floor(random() * 2 ** 40) * (random() < 0.2 ? -1 : 1);
    if (t < 0.9) return pick(random, STRINGS);
    if (t < 0.95) return undefined;
    return Buffer.from([Math.floor(random() * 256)]);
  }
  if (r < 0.8) {
    const n = Math.floor(random() * 5);
    return Array.from({ length: n }, () => randomValue(random, depth - 1));
  }
  const o: Record<string, unknown> = {};
  const n = Math.floor(random() * 4);
  for (let i = 0; i < n; i++) Object.defineProperty(o, pick(random, KEYS), { value: randomValue(random, depth - 1), enumerable: true, configurable: true, writable: true });
  return o;
}

/** A random top-level input: mostly arrays that start with a message code, as a decoder meets them. */
export function randomMessageLike(random: Random): unknown {
  const r = random();
  if (r < 0.15) return randomValue(random, 2);
  const n = Math.floor(random() * 8);
  const m: unknown[] = [pick(random, CODES)];
  for (let i = 0; i < n; i++) m.push(randomValue(random, 2));
  return m;
}

/** A deep copy (structures only; bytes are shared, they are never mutated). */
function copy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copy);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(o, k, { value: copy(x), enumerable: true, configurable: true, writable: true });
    return o;
  }
  return v;
}

/**
 * 1–3 random mutations of `valid`: replace, delete or insert an element, truncate, append, change
 * the message code, or set/delete a key of a dict field (options, details).
 */
export function mutate(random: Random, valid: readonly unknown[]): unknown[] {
  const m = copy(valid) as unknown[];
  const times = 1 + Math.floor(random() * 3);
  for (let k = 0; k < times; k++) {
    const i = Math.floor(random() * (m.length + 1));
    switch (Math.floor(random() * 7)) {
      case 0: m[Math.min(i, m.length - 1)] = randomValue(random, 2); break;
      case 1: m.splice(i, 1); break;
      case 2: m.splice(i, 0, randomValue(random, 2)); break;
      case 3: m.length = Math.floor(random() * m.length); break;
      case 4: m.push(randomValue(random, 2)); break;
      case 5: m[0] = pick(random, CODES); break;
      case 6: {
        const dicts = m.filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Uint8Array));
        if (dicts.length === 0) break;
        const d = pick(random, dicts);
        const key = pick(random, KEYS);
        if (random() < 0.2) delete d[key];
        else Object.defineProperty(d, key, { value: randomValue(random, 1), enumerable: true, configurable: true, writable: true });
        break;
      }
    }
  }
  return m;
}
