/**
 * The auth, endpoint TLS and limits config in Crossbar.io's format: what it becomes, and every
 * mistake reported with its key path (unknown method, missing secret, unreadable or wrong key
 * files, unset environment variables, malformed keys and fingerprints).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/issues.js';
import { parseConfig } from '../../../src/config/load.js';
import { LIMIT_DEFAULTS } from '../../../src/config/normalize-auth.js';
import type { RawSocketTransportConfig, WebTransportConfig } from '../../../src/config/types.js';
import { minimalDoc, transportOf, worker, type Doc } from '../config/config-helpers.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'xbar-auth-config-'));
  writeFileSync(join(dir, 'jwt.pem'), generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'x' }] }));
  writeFileSync(join(dir, 'not-pem.txt'), 'hello');
  writeFileSync(join(dir, 'not-jwks.json'), '{"keys": []}');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const parse = (doc: unknown) => parseConfig(doc, 'test.json', dir);

function problems(doc: unknown): string[] {
  try {
    parse(doc);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  return assert.fail('the document was accepted');
}

/** A document whose RawSocket transport has `auth`. */
function withAuth(auth: Doc): Doc {
  const doc = minimalDoc();
  transportOf(doc, 1)['auth'] = auth;
  return doc;
}

const AT = 'workers[0].transports[1].auth';

describe('auth config', () => {
  it('normalizes every method as Crossbar.io spells it', () => {
    const config = parse(withAuth({
      anonymous: { type: 'static', role: 'guest', authid: 'visitor' },
      ticket: { type: 'static', principals: { alice: { ticket: 't', role: 'user', realm: 'realm1' } } },
      wampcra: { type: 'static', users: { joe: { secret: 's', role: 'user', salt: 'x' } } },
      cryptosign: { type: 'static', principals: { dev: { authorized_keys: ['AB'.repeat(32)], role: 'device' } } },
      tls: { type: 'dynamic', authenticator: 'com.example.auth_tls', 'authenticator-realm': 'auth', 'authenticator-role': 'svc' },
    }));
    const auth = (config.transports[1] as RawSocketTransportConfig).auth!;
    assert.deepEqual(auth.anonymous, { type: 'static', role: 'guest', authid: 'visitor' });
    assert.deepEqual(auth.ticket, { type: 'static', principals: new Map([['alice', { ticket: 't', role: 'user', realm: 'realm1' }]]) });
    // A salt alone gets the spec's (and Autobahn's) PBKDF2 defaults.
    assert.deepEqual(auth.wampcra, { type: 'static', users: new Map([['joe', { secret: 's', role: 'user', salt: 'x', iterations: 1000, keylen: 32 }]]) });
    assert.deepEqual(auth.cryptosign, { type: 'static', principals: new Map([['dev', { authorizedKeys: ['ab'.repeat(32)], role: 'device' }]]) });
    assert.deepEqual(auth.tls, { type: 'dynamic', authenticator: 'com.example.auth_tls', authenticatorRealm: 'auth', authenticatorRole: 'svc' });
  });

  it('reads JWT keys relative to the config file and fills claim defaults', () => {
    const config = parse(withAuth({ ticket: { type: 'jwt', public_key_file: 'jwt.pem', audience: ['a', 'b'] } }));
    const ticket = (config.transports[1] as RawSocketTransportConfig).auth!.ticket!;
    assert.equal(ticket.type, 'jwt');
    if (ticket.type !== 'jwt') return;
    assert.equal(ticket.key.kind, 'public_key');
    assert.match(ticket.key.kind === 'public_key' ? ticket.key.pem : '', /BEGIN PUBLIC KEY/);
    assert.deepEqual([ticket.audience, ticket.claims, ticket.clockTolerance], [['a', 'b'], { authid: 'sub', authrole: 'role', authextra: [] }, 30]);
  });

  it('reads ${VAR} secrets from the environment', () => {
    process.env.XBAR_TEST_CRA_SECRET = 'from-env';
    const config = parse(withAuth({ wampcra: { type: 'static', users: { joe: { secret: '${XBAR_TEST_CRA_SECRET}', role: 'user' } } } }));
    const cra = (config.transports[1] as RawSocketTransportConfig).auth!.wampcra!;
    assert.equal(cra.type === 'static' ? cra.users.get('joe')?.secret : '', 'from-env');
  });

  it('accepts a role with an authorizer instead of permissions', () => {
    const doc = minimalDoc();
    const realm = (worker(doc)['realms'] as Doc[])[0]!;
    realm['roles'] = [{ name: 'frontend', authorizer: 'com.example.authorize' }];
    assert.deepEqual(parse(doc).realms[0]!.roles, [{ name: 'frontend', permissions: [], authorizer: 'com.example.authorize' }]);
  });

  describe('problems name the key path', () => {
    const cases: [string, Doc, string[]][] = [
      ['an unknown method', withAuth({ kerberos: {} }), [`${AT}.kerberos: unknown key; allowed: anonymous, ticket, wampcra, cryptosign, tls, scram, cookie`]],
      ['a key inside "cookie" (Crossbar.io\'s takes none)', withAuth({ cookie: { max_age: 10 } }), [`${AT}.cookie.max_age: unknown key; allowed: (no keys)`]],
      ['a missing secret', withAuth({ wampcra: { type: 'static', users: { joe: { role: 'user' } } } }), [`${AT}.wampcra.users.joe.secret: missing; expected non-empty string`]],
      ['a missing ticket', withAuth({ ticket: { type: 'static', principals: { a: { role: 'user' } } } }), [`${AT}.ticket.principals.a.ticket: missing; expected non-empty string`]],
      ['a missing role', withAuth({ ticket: { type: 'static', principals: { a: { ticket: 't' } } } }), [`${AT}.ticket.principals.a.role: missing; expected non-empty string`]],
      ['a dynamic method without authenticator', withAuth({ ticket: { type: 'dynamic' } }), [`${AT}.ticket.authenticator: missing; expected procedure URI`]],
      [
        'a function authenticator without "create"',
        withAuth({ wampcra: { type: 'function', config: {} } }),
        [`${AT}.wampcra.create: missing; expected module.function`],
      ],
      ['an unset environment variable', withAuth({ ticket: { type: 'static', principals: { a: { ticket: '${XBAR_TEST_UNSET}', role: 'user' } } } }),
        [`${AT}.ticket.principals.a.ticket: environment variable XBAR_TEST_UNSET is not set (referenced as \${XBAR_TEST_UNSET})`]],
      ['PBKDF2 parameters without a salt', withAuth({ wampcra: { type: 'static', users: { joe: { secret: 's', role: 'user', keylen: 16 } } } }),
        [`${AT}.wampcra.users.joe.salt: missing; "iterations" and "keylen" apply to a salted secret only`]],
      ['a malformed public key', withAuth({ cryptosign: { type: 'static', principals: { a: { authorized_keys: ['abc'], role: 'user' } } } }),
        [`${AT}.cryptosign.principals.a.authorized_keys[0]: expected Ed25519 public key (64 hex digits), got "abc"`]],
      ['a malformed fingerprint', withAuth({ tls: { type: 'static', principals: { a: { 'certificate-sha1': 'xyz', role: 'user' } } } }),
        [`${AT}.tls.principals.a["certificate-sha1"]: expected SHA-1 fingerprint (40 hex digits, optionally colon-separated), got "xyz"`]],
      ['a JWT ticket without a key', withAuth({ ticket: { type: 'jwt', audience: 'a' } }),
        [`${AT}.ticket: missing key: set one of "secret" (HMAC), "public_key_file" (PEM) or "jwks_file" (JWKS)`]],
      ['a JWT ticket with two keys', withAuth({ ticket: { type: 'jwt', audience: 'a', secret: 's', jwks_file: 'jwks.json' } }),
        [`${AT}.ticket: set only one of "secret", "jwks_file"`]],
      ['a JWT ticket without audience', withAuth({ ticket: { type: 'jwt', secret: 's' } }),
        [`${AT}.ticket.audience: missing; expected audience string or list of audience strings`]],
      ['an unreadable JWT key file', withAuth({ ticket: { type: 'jwt', audience: 'a', public_key_file: 'missing.pem' } }),
        [`${AT}.ticket.public_key_file: cannot read "${'DIR'}/missing.pem": no such file`]],
      ['a JWT key file that is not a key', withAuth({ ticket: { type: 'jwt', audience: 'a', public_key_file: 'not-pem.txt' } }),
        [`${AT}.ticket.public_key_file: "${'DIR'}/not-pem.txt" is not a PEM public key`]],
      ['a JWKS file without keys', withAuth({ ticket: { type: 'jwt', audience: 'a', jwks_file: 'not-jwks.json' } }),
        [`${AT}.ticket.jwks_file: "${'DIR'}/not-jwks.json" is not a JWK Set (expected {"keys": [...]} with at least one key)`]],
    ];
    for (const [what, doc, expected] of cases) {
      it(`reports ${what}`, () => {
        assert.deepEqual(problems(doc), expected.map((p) => p.replaceAll('DIR', dir)));
      });
    }

    it('reports unreadable TLS key and certificate files', () => {
      const doc = minimalDoc();
      (transportOf(doc, 0)['endpoint'] as Doc)['tls'] = { key: 'server.key', certificate: '/nonexistent/server.crt' };
      assert.deepEqual(problems(doc), [
        `workers[0].transports[0].endpoint.tls.key: cannot read "${dir}/server.key": no such file`,
        'workers[0].transports[0].endpoint.tls.certificate: cannot read "/nonexistent/server.crt": no such file',
      ]);
    });

    it('reports a role with both permissions and an authorizer', () => {
      const doc = minimalDoc();
      ((worker(doc)['realms'] as Doc[])[0]!['roles'] as Doc[])[0]!['authorizer'] = 'com.example.authorize';
      assert.deepEqual(problems(doc), [
        'workers[0].realms[0].roles[0].authorizer: a role has either "permissions" (static) or an "authorizer" (dynamic), not both',
      ]);
    });
  });
});

describe('limits config', () => {
  const CAPS = {
    maxPendingAuthenticationsPerAddress: 100, maxSessionsPerAddress: 10_000, maxSubscriptionsPerSession: 10_000,
    maxRegistrationsPerSession: 10_000, maxCallsPerSession: 10_000, maxRetainedBytesPerRealm: 64 * 1024 * 1024,
    maxTestamentBytesPerSession: 1024 * 1024, maxOutBufferTotal: 1024 * 1024 * 1024,
  };

  it('is on by default, with generous limits', () => {
    assert.deepEqual(parse(minimalDoc()).limits, { connections: LIMIT_DEFAULTS.connections, failedAuth: LIMIT_DEFAULTS.failedAuth, ...CAPS });
  });

  it('takes seconds, false to turn a limit off, and an optional session cap per authid', () => {
    const doc = {
      ...minimalDoc(),
      limits: {
        connections: false, failed_authentications: { max: 5, window: 10, block: 30 }, max_sessions_per_authid: 3,
        max_calls_per_session: 7, max_sessions_per_address: false,
      },
    };
    const { maxSessionsPerAddress: _off, ...rest } = CAPS;
    assert.deepEqual(parse(doc).limits, { failedAuth: { max: 5, window: 10_000, block: 30_000 }, maxSessionsPerAuthid: 3, ...rest, maxCallsPerSession: 7 });
  });

  it('reports bad values with their key path', () => {
    const doc = { ...minimalDoc(), limits: { connections: { rate: 0, burst: 5 }, failed_authentications: true, max_subscriptions_per_session: 0, foo: 1 } };
    assert.deepEqual(problems(doc), [
      'limits.connections.rate: expected integer 1-1000000 (connections per second), got 0',
      'limits.failed_authentications: expected false or {max, window, block}, got true',
      'limits.max_subscriptions_per_session: expected integer 1-100000000 (subscriptions), got 0',
      'limits.foo: unknown key; allowed: connections, failed_authentications, max_sessions_per_authid, max_pending_authentications_per_address, '
        + 'max_sessions_per_address, max_subscriptions_per_session, max_registrations_per_session, max_calls_per_session, '
        + 'max_retained_bytes_per_realm, max_testament_bytes_per_session, max_out_buffer_total',
    ]);
  });
});

describe('endpoint TLS config', () => {
  it('keeps Crossbar.io\'s keys and xbar\'s TLS version bounds', () => {
    const doc = minimalDoc();
    (transportOf(doc, 0)['endpoint'] as Doc)['tls'] = { key: 'k', certificate: 'c', max_version: 'TLSv1.4' };
    assert.deepEqual(problems(doc), ['workers[0].transports[0].endpoint.tls.max_version: expected one of "TLSv1.2", "TLSv1.3", got "TLSv1.4"']);
    assert.equal((parse(minimalDoc()).transports[0] as WebTransportConfig).endpoint.type, 'tcp');
  });
});
