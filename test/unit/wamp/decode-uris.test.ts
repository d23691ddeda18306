/**
 * URIs in decodeMessage: an invalid URI in a request (PUBLISH, SUBSCRIBE, CALL, REGISTER) is
 * refused for that request only (ERROR wamp.error.invalid_uri); elsewhere it is a violation.
 * Loose and strict rules, prefix and wildcard forms, the 1,024-byte cap.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { UriCheck } from '../../../src/wamp/uri.js';
import { MessageType as T } from '../../../src/wamp/codes.js';
import { decodeMessage } from '../../../src/wamp/decode.js';
import { ErrorUri } from '../../../src/wamp/errors.js';
import { MAX_URI_BYTES, isValidUri } from '../../../src/wamp/uri.js';
import { ProtocolViolation, RequestRejected } from '../../../src/wamp/violation.js';

function rejected(raw: unknown[], check: UriCheck = 'loose'): RequestRejected {
  const m = decodeMessage(raw, check);
  assert.ok(m instanceof RequestRejected, `expected RequestRejected for ${JSON.stringify(raw)}, got ${JSON.stringify(m)}`);
  return m;
}

function accepted(raw: unknown[], check: UriCheck = 'loose'): void {
  const m = decodeMessage(raw, check);
  assert.ok(!(m instanceof ProtocolViolation) && !(m instanceof RequestRejected), `expected ${JSON.stringify(raw)} to decode (${check}), got ${JSON.stringify(m)}`);
}

const INVALID_ANYWHERE = ['', 'a b', 'com..x', '.com', 'com.#', 'com.x#', 'tab\there', 'new\nline', 'x'.repeat(MAX_URI_BYTES + 1)];

const REQUESTS: { name: string; code: number; make: (uri: string) => unknown[]; field: string }[] = [
  { name: 'PUBLISH', code: T.PUBLISH, make: (u) => [16, 11, {}, u, ['x']], field: 'Topic' },
  { name: 'SUBSCRIBE', code: T.SUBSCRIBE, make: (u) => [32, 11, {}, u], field: 'Topic' },
  { name: 'CALL', code: T.CALL, make: (u) => [48, 11, {}, u, []], field: 'Procedure' },
  { name: 'REGISTER', code: T.REGISTER, make: (u) => [64, 11, {}, u], field: 'Procedure' },
];

describe('decodeMessage: an invalid URI in a request is refused for that request', () => {
  for (const r of REQUESTS) {
    it(`answers ${r.name} with an invalid ${r.field} by RequestRejected wamp.error.invalid_uri for its request ID`, () => {
      for (const uri of INVALID_ANYWHERE) {
        const m = rejected(r.make(uri));
        assert.equal(m.uri, ErrorUri.invalidUri);
        assert.equal(m.requestType, r.code);
        assert.equal(m.request, 11);
        assert.ok(m.message.startsWith(`'${r.field}' in ${r.name}: invalid loose URI `), m.message);
      }
    });
  }

  it('puts the offending URI in the message, shortened when long', () => {
    assert.equal(rejected([16, 1, {}, 'a b']).message, `'Topic' in PUBLISH: invalid loose URI "a b"`);
    const long = rejected([16, 1, {}, 'x'.repeat(2000)]).message;
    assert.ok(long.length < 150 && long.endsWith('…"'), long);
  });

  it('treats an invalid URI outside a request as a protocol violation with wamp.error.invalid_uri', () => {
    for (const raw of [[1, 'a b', { roles: { caller: {} } }], [6, {}, 'not a uri'], [3, {}, ''], [8, 48, 1, {}, 'a..b']]) {
      const m = decodeMessage(raw, 'loose');
      assert.ok(m instanceof ProtocolViolation, JSON.stringify(raw));
      assert.equal(m.uri, ErrorUri.invalidUri);
    }
  });
});

describe('URI rules: loose and strict', () => {
  it('accepts in loose mode what strict refuses: upper case, dashes, non-ASCII', () => {
    for (const uri of ['com.MyApp.topic', 'com.my-app.topic', 'de.zoë.straße', 'a:b.c/d', 'X']) {
      accepted([16, 1, {}, uri], 'loose');
      const m = rejected([16, 1, {}, uri], 'strict');
      assert.ok(m.message.startsWith(`'Topic' in PUBLISH: invalid strict URI `), m.message);
    }
  });

  it('accepts in strict mode [0-9a-z_] components', () => {
    for (const uri of ['com.myapp.topic_1', '0.1.2', 'a', 'wamp.session.on_join']) accepted([16, 1, {}, uri], 'strict');
  });

  it('refuses empty components, whitespace and "#" in both modes', () => {
    for (const check of ['loose', 'strict'] as const) {
      for (const uri of INVALID_ANYWHERE) assert.equal(isValidUri(uri, check), false, `${check} ${JSON.stringify(uri)}`);
    }
  });

  it(`caps URIs at ${MAX_URI_BYTES} UTF-8 bytes`, () => {
    assert.equal(isValidUri('a'.repeat(MAX_URI_BYTES), 'loose'), true);
    assert.equal(isValidUri('a'.repeat(MAX_URI_BYTES + 1), 'loose'), false);
    // 'ö' is two bytes: 513 of them are 1,026 bytes though only 513 characters.
    assert.equal(isValidUri('ö'.repeat(512), 'loose'), true);
    assert.equal(isValidUri('ö'.repeat(513), 'loose'), false);
  });
});

describe('URI rules: prefix and wildcard forms', () => {
  it('accepts an empty last component only for match: prefix', () => {
    accepted([32, 1, { match: 'prefix' }, 'com.myapp.']);
    accepted([64, 1, { match: 'prefix' }, 'com.myapp.']);
    const m = rejected([32, 1, {}, 'com.myapp.']);
    assert.equal(m.message, `'Topic' in SUBSCRIBE: invalid loose URI "com.myapp."`);
    const p = rejected([32, 1, { match: 'prefix' }, 'com..myapp']);
    assert.equal(p.message, `'Topic' in SUBSCRIBE: invalid loose prefix URI "com..myapp"`);
  });

  it('accepts empty components anywhere only for match: wildcard', () => {
    for (const uri of ['com..topic', '.myapp.topic', 'com.myapp.', '..']) {
      accepted([32, 1, { match: 'wildcard' }, uri]);
      accepted([64, 1, { match: 'wildcard' }, uri]);
    }
    rejected([32, 1, {}, 'com..topic']);
    const m = rejected([64, 1, { match: 'wildcard' }, 'com.#.x']);
    assert.equal(m.message, `'Procedure' in REGISTER: invalid loose wildcard URI "com.#.x"`);
  });

  it('applies strict rules to each component of a pattern', () => {
    accepted([32, 1, { match: 'wildcard' }, 'com..topic'], 'strict');
    rejected([32, 1, { match: 'wildcard' }, 'com..Topic'], 'strict');
    accepted([32, 1, { match: 'prefix' }, 'com.my'], 'strict');
    rejected([32, 1, { match: 'prefix' }, 'com.My'], 'strict');
  });

  it('does not accept pattern forms in PUBLISH or CALL (they have no match option)', () => {
    rejected([16, 1, { match: 'wildcard' }, 'com..topic']);
    rejected([48, 1, { match: 'prefix' }, 'com.']);
  });
});
