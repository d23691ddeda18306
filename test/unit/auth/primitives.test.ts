/**
 * Pure pieces of authentication and authorization: WAMP-CRA key derivation and signatures (a
 * vector computed with Python's hashlib, which Autobahn|Python's derive_key uses), constant-time
 * comparison, what a dynamic authenticator or authorizer may return.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decisionFrom } from '../../../src/auth/authorizer.js';
import { principalFrom } from '../../../src/auth/principal.js';
import { secretsEqual } from '../../../src/auth/secrets.js';
import { computeSignature, deriveKey } from '../../../src/auth/wampcra.js';

describe('WAMP-CRA', () => {
  it('derives base64(PBKDF2-HMAC-SHA256) as Autobahn does', async () => {
    // python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.pbkdf2_hmac('sha256', b'secret', b'salt', 1000, 32)).decode())"
    assert.equal(await deriveKey('secret', { salt: 'salt', iterations: 1000, keylen: 32 }), 'qN+JnzxPIE2WfgrWPAkph8EAVeuwF7PZ0ordIY1Peq0=');
  });

  it('signs base64(HMAC-SHA256(key as text, challenge))', () => {
    // python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b'key', b'challenge', hashlib.sha256).digest()).decode())"
    assert.equal(computeSignature('key', 'challenge'), '/pSWP7rGsIbPhx1COvS7X3o9wOYdN+THjRIqbMdRs+g=');
  });
});

describe('secretsEqual', () => {
  it('compares strings and bytes of any length', () => {
    assert.equal(secretsEqual('abc', 'abc'), true);
    assert.equal(secretsEqual('abc', 'abd'), false);
    assert.equal(secretsEqual('abc', 'abcd'), false);
    assert.equal(secretsEqual(Buffer.from('abc'), 'abc'), true);
    assert.equal(secretsEqual('', ''), true);
  });
});

describe('a dynamic authenticator\'s answer', () => {
  it('is a role name or a principal object', () => {
    assert.deepEqual(principalFrom('user'), { role: 'user' });
    assert.deepEqual(principalFrom({ role: 'user', authid: 'a', extra: { x: 1 }, secret: 's' }), {
      role: 'user', authid: 'a', extra: { x: 1 }, secret: 's', realm: undefined,
    });
  });

  it('says what is wrong with anything else', () => {
    assert.equal(principalFrom(42), 'returned number; expected a role name or an object');
    assert.equal(principalFrom([1]), 'returned a list; expected a role name or an object');
    assert.equal(principalFrom({ role: 7 }), 'returned a non-string "role"');
    assert.equal(principalFrom({ role: 'r', extra: [] }), 'returned an "extra" that is not an object');
  });
});

describe('a dynamic authorizer\'s answer', () => {
  it('is a bool or {allow, disclose?, cache?}', () => {
    assert.deepEqual(decisionFrom(true, 'call'), { allow: true, disclose: false, cache: false });
    assert.deepEqual(decisionFrom({ allow: true, disclose: true, cache: true }, 'publish'), { allow: true, disclose: true, cache: true });
    // Disclosure means nothing for subscribe and register.
    assert.deepEqual(decisionFrom({ allow: true, disclose: true }, 'subscribe'), { allow: true, disclose: false, cache: false });
  });

  it('is nothing else', () => {
    for (const bad of [null, 'yes', 1, [], {}, { allow: 'yes' }, { allow: true, cache: 1 }]) assert.equal(decisionFrom(bad, 'call'), undefined, JSON.stringify(bad));
  });
});
