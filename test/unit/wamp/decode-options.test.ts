/**
 * Options of the wrong type are refused with a message that names the option and the message
 * ("'Options.acknowledge' in PUBLISH: expected a boolean, got \"yes\""): a protocol violation, as
 * Autobahn's parser has it, except CALL and REGISTER options, which refuse only that request with
 * wamp.error.invalid_argument. Unknown options are ignored, as the spec asks of routers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType as T } from '../../../src/wamp/codes.js';
import { decodeMessage } from '../../../src/wamp/decode.js';
import { ErrorUri } from '../../../src/wamp/errors.js';
import { ProtocolViolation, RequestRejected } from '../../../src/wamp/violation.js';

/** Options whose bad value ends the session: ABORT wamp.error.protocol_violation. */
const VIOLATIONS: [unknown[], string][] = [
  [[16, 1, { acknowledge: 'yes' }, 'a.b'], `'Options.acknowledge' in PUBLISH: expected a boolean, got "yes"`],
  [[16, 1, { exclude_me: 1 }, 'a.b'], `'Options.exclude_me' in PUBLISH: expected a boolean, got 1`],
  [[16, 1, { exclude: ['x'] }, 'a.b'], `'Options.exclude' in PUBLISH: expected a list of IDs, got ["x"]`],
  [[16, 1, { exclude: 7 }, 'a.b'], `'Options.exclude' in PUBLISH: expected a list of IDs, got 7`],
  [[16, 1, { eligible: [0] }, 'a.b'], `'Options.eligible' in PUBLISH: expected a list of IDs, got [0]`],
  [[16, 1, { exclude_authid: [1] }, 'a.b'], `'Options.exclude_authid' in PUBLISH: expected a list of strings, got [1]`],
  [[16, 1, { eligible_authrole: 'admin' }, 'a.b'], `'Options.eligible_authrole' in PUBLISH: expected a list of strings, got "admin"`],
  [[16, 1, { disclose_me: null }, 'a.b'], `'Options.disclose_me' in PUBLISH: expected a boolean, got null`],
  [[16, 1, { retain: 'true' }, 'a.b'], `'Options.retain' in PUBLISH: expected a boolean, got "true"`],
  [[32, 1, { match: 'fuzzy' }, 'a.b'], `'Options.match' in SUBSCRIBE: expected one of exact, prefix, wildcard, got "fuzzy"`],
  [[32, 1, { get_retained: 1 }, 'a.b'], `'Options.get_retained' in SUBSCRIBE: expected a boolean, got 1`],
  [[49, 1, { mode: 'abort' }], `'Options.mode' in CANCEL: expected one of skip, kill, killnowait, got "abort"`],
  [[70, 1, { progress: 1 }], `'Options.progress' in YIELD: expected a boolean, got 1`],
];

/** Options whose bad value refuses only that request: ERROR wamp.error.invalid_argument. */
const REFUSALS: [unknown[], string][] = [
  [[64, 1, { match: 'regex' }, 'a.b'], `'Options.match' in REGISTER: expected one of exact, prefix, wildcard, got "regex"`],
  [[64, 1, { invoke: 'best' }, 'a.b'], `'Options.invoke' in REGISTER: expected one of single, roundrobin, random, first, last, got "best"`],
  [[64, 1, { concurrency: 0 }, 'a.b'], `'Options.concurrency' in REGISTER: expected a positive integer, got 0`],
  [[64, 1, { concurrency: 1.5 }, 'a.b'], `'Options.concurrency' in REGISTER: expected a positive integer, got 1.5`],
  [[64, 1, { force_reregister: 'no' }, 'a.b'], `'Options.force_reregister' in REGISTER: expected a boolean, got "no"`],
  [[48, 1, { timeout: -1 }, 'a.b'], `'Options.timeout' in CALL: expected a non-negative integer, got -1`],
  [[48, 1, { timeout: 1.5 }, 'a.b'], `'Options.timeout' in CALL: expected a non-negative integer, got 1.5`],
  [[48, 1, { timeout: '100' }, 'a.b'], `'Options.timeout' in CALL: expected a non-negative integer, got "100"`],
  [[48, 1, { receive_progress: 'yes' }, 'a.b'], `'Options.receive_progress' in CALL: expected a boolean, got "yes"`],
];

describe('decodeMessage: options of the wrong type', () => {
  for (const [raw, message] of VIOLATIONS) {
    it(`refuses ${JSON.stringify(raw)} as a protocol violation: ${message}`, () => {
      const m = decodeMessage(raw, 'loose');
      assert.ok(m instanceof ProtocolViolation, JSON.stringify(m));
      assert.equal(m.uri, ErrorUri.protocolViolation);
      assert.equal(m.message, message);
    });
  }

  for (const [raw, message] of REFUSALS) {
    it(`refuses ${JSON.stringify(raw)} for that request only (invalid_argument): ${message}`, () => {
      const m = decodeMessage(raw, 'loose');
      assert.ok(m instanceof RequestRejected, JSON.stringify(m));
      assert.equal(m.uri, ErrorUri.invalidArgument);
      assert.equal(m.requestType, raw[0]);
      assert.equal(m.request, 1);
      assert.equal(m.message, message);
    });
  }

  it('checks options before the URI, so a bad option in a request with a bad URI is still a violation', () => {
    assert.ok(decodeMessage([32, 1, { match: 'fuzzy' }, 'a b'], 'loose') instanceof ProtocolViolation);
  });

  it('ignores options it does not know, whatever their type', () => {
    const m = decodeMessage([16, 1, { x_custom: [1, { a: 2 }], rlink: 'node2' }, 'a.b'], 'loose');
    assert.ok(!(m instanceof ProtocolViolation) && !(m instanceof RequestRejected) && m.type === T.PUBLISH);
    assert.deepEqual(m.rawOptions, { x_custom: [1, { a: 2 }], rlink: 'node2' });
  });

  it('accepts each option at its valid types', () => {
    const valid: unknown[][] = [
      [16, 1, { acknowledge: true, exclude_me: false, exclude: [1, 2 ** 53], eligible: [], exclude_authid: ['a'], eligible_authrole: [], disclose_me: true, retain: false }, 'a.b'],
      [32, 1, { match: 'wildcard', get_retained: true }, 'a..b'],
      [64, 1, { match: 'prefix', invoke: 'last', concurrency: 3, force_reregister: true, disclose_caller: true }, 'a.'],
      [48, 1, { timeout: 0, receive_progress: true, disclose_me: false }, 'a.b'],
      [49, 1, { mode: 'killnowait' }],
      [70, 1, { progress: true }, ['chunk']],
    ];
    for (const raw of valid) {
      const m = decodeMessage(raw, 'loose');
      assert.ok(!(m instanceof ProtocolViolation) && !(m instanceof RequestRejected), `${JSON.stringify(raw)}: ${JSON.stringify(m)}`);
    }
  });
});
