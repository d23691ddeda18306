/**
 * JWT tickets (xbar's `ticket.type: jwt`): signature against a shared secret, a PEM public key and
 * a JWK Set file (key files relative to the config file's directory); aud, exp, nbf and iss
 * enforced; claims mapped to authid, role and authextra. Clients send the token as their ticket.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, type JWTPayload } from 'jose';
import { connectAutobahn } from '../../helpers/clients.js';
import { ALLOW_ALL, logged, realm, startDoc, tcp, wampyJoin, type AuthNode } from './support.js';

const SECRET = 'a shared secret of at least thirty-two bytes!';
const now = () => Math.floor(Date.now() / 1000);

describe('JWT tickets', () => {
  let n: AuthNode;
  let dir: string;
  let base: string;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const intruder = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xbar-jwt-'));
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'keys', 'rsa-public.pem'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'keys', 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'k1', alg: 'ES256' }] }));
    n = await startDoc(
      {
        realms: [realm('realm1', { user: [ALLOW_ALL], operator: [ALLOW_ALL] })],
        transports: [
          {
            type: 'web',
            endpoint: tcp(),
            paths: {
              hs: {
                type: 'websocket',
                auth: { ticket: { type: 'jwt', secret: SECRET, audience: 'xbar-test', claims: { authextra: ['email', 'groups'] } } },
              },
              pem: {
                type: 'websocket',
                auth: {
                  ticket: {
                    type: 'jwt', public_key_file: 'keys/rsa-public.pem', audience: ['xbar-test', 'xbar-other'], issuer: 'https://issuer.test',
                    claims: { authid: 'preferred_username', authrole: 'realm_access.role' },
                  },
                },
              },
              jwks: { type: 'websocket', auth: { ticket: { type: 'jwt', jwks_file: 'keys/jwks.json', audience: 'xbar-test', role: 'user' } } },
            },
          },
        ],
      },
      { dir },
    );
    base = `ws://127.0.0.1:${n.ports[0]}`;
  });

  after(async () => {
    await n.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const hs = (claims: JWTPayload, o: { secret?: string; alg?: string } = {}) =>
    new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'HS256' }).sign(new TextEncoder().encode(o.secret ?? SECRET));
  const valid = (extra: JWTPayload = {}): JWTPayload => ({ sub: 'alice', role: 'user', aud: 'xbar-test', exp: now() + 60, ...extra });

  const join1 = (path: string, token: string, authid?: string) =>
    connectAutobahn(`${base}/${path}`, { authmethods: ['ticket'], ...(authid ? { authid } : {}), onchallenge: () => token });

  const refused = async (path: string, token: string, authid?: string) => {
    const e = (await join1(path, token, authid).then(() => assert.fail('accepted'), (x: unknown) => x)) as { details: { reason: string; message: string } };
    assert.deepEqual([e.details.reason, e.details.message], ['wamp.error.authentication_failed', 'authentication failed']);
  };

  it('welcomes a valid HS256 token with authid, role and authextra from its claims', async () => {
    const c = await join1('hs', await hs(valid({ email: 'alice@example.com', groups: ['a', 'b'] })));
    assert.deepEqual(
      [c.details.authid, c.details.authrole, c.details.authmethod, c.details.authprovider, c.details.authextra],
      ['alice', 'user', 'ticket', 'jwt', { email: 'alice@example.com', groups: ['a', 'b'] }],
    );
    await c.close();
  });

  it('works with wampy, and with HELLO.authid equal to the subject', async () => {
    const token = await hs(valid({ role: 'operator' }));
    const { client, details } = await wampyJoin(`${base}/hs`, { authmethods: ['ticket'], authid: 'alice', onChallenge: () => token });
    assert.equal(details.authrole, 'operator');
    await client.disconnect();
  });

  it('refuses an expired token, and logs why', async () => {
    await refused('hs', await hs(valid({ exp: now() - 120 })));
    assert.match(String(logged(n.logs, 'JWT refused')?.reason), /ERR_JWT_EXPIRED/);
  });

  it('refuses a token not valid yet (nbf), one without exp, and one for another audience', async () => {
    await refused('hs', await hs(valid({ nbf: now() + 600 })));
    await refused('hs', await hs({ sub: 'alice', role: 'user', aud: 'xbar-test' }));
    await refused('hs', await hs(valid({ aud: 'somebody-else' })));
  });

  it('refuses a wrong signature, an unsigned token and a HELLO.authid that is not the subject', async () => {
    await refused('hs', await hs(valid(), { secret: 'another secret that is long enough to sign with' }));
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(valid())).toString('base64url')}.`;
    await refused('hs', unsigned);
    await refused('hs', await hs(valid()), 'mallory');
    await refused('hs', 'not a jwt at all');
  });

  it('verifies RS256 against a PEM file, with issuer and nested claim mapping', async () => {
    const claims = { preferred_username: 'bob', realm_access: { role: 'operator' }, aud: 'xbar-other', iss: 'https://issuer.test', exp: now() + 60 };
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    const c = await join1('pem', token);
    assert.deepEqual([c.details.authid, c.details.authrole], ['bob', 'operator']);
    await c.close();
    const wrongIssuer = await new SignJWT({ ...claims, iss: 'https://evil.test' }).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    await refused('pem', wrongIssuer);
  });

  it('never verifies an HMAC token with a configured public key (algorithm confusion)', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const claims = { preferred_username: 'bob', realm_access: { role: 'operator' }, aud: 'xbar-test', iss: 'https://issuer.test', exp: now() + 60 };
    await refused('pem', await hs(claims, { secret: pem }));
  });

  it('verifies against a JWK Set by kid and uses the default role for tokens without one', async () => {
    const token = await new SignJWT({ sub: 'carol', aud: 'xbar-test', exp: now() + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(ec.privateKey);
    const c = await join1('jwks', token);
    assert.deepEqual([c.details.authid, c.details.authrole], ['carol', 'user']);
    await c.close();
    const forged = await new SignJWT({ sub: 'carol', aud: 'xbar-test', exp: now() + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(intruder.privateKey);
    await refused('jwks', forged);
  });
});
