/**
 * Static authentication methods over real sockets, configured as Crossbar.io users write them:
 * anonymous, ticket, wampcra (plain and salted) and cryptosign, each with Autobahn|JS, wampy (with
 * wampy-cra / wampy-cryptosign) and Debian's Autobahn|Python, success with the right role in WELCOME
 * and failure with nothing that helps an attacker; no matching method; a CHALLENGE left unanswered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn } from '../../helpers/clients.js';
import { RawWsClient } from '../../helpers/raw-wamp.js';
import {
  ALLOW_ALL, autobahnAuth, ed25519Pair, realm, runPython, startDoc, tcp, wampyCra, wampyCryptosign, wampyJoin, withAuth, type AuthNode,
} from './support.js';

const device = ed25519Pair();
const stranger = ed25519Pair();
const SALTED = { salt: 'pepper-17', iterations: 100, keylen: 16 };
const SALTY_KEY = autobahnAuth.auth_cra.derive_key('secret-of-salty', SALTED.salt, SALTED.iterations, SALTED.keylen);

describe('static authentication methods', () => {
  let n: AuthNode;
  let url: string;
  let ticketOnlyUrl: string;
  let slowUrl: string;

  before(async () => {
    process.env.XBAR_TEST_TICKET_BOB = 'ticket-of-bob';
    n = await startDoc({
      realms: [realm('realm1', { frontend: [ALLOW_ALL], backend: [ALLOW_ALL], device: [ALLOW_ALL] })],
      transports: [
        {
          type: 'web',
          endpoint: tcp(),
          paths: {
            ws: {
              type: 'websocket',
              auth: {
                anonymous: { type: 'static', role: 'frontend' },
                ticket: {
                  type: 'static',
                  principals: {
                    alice: { ticket: 'ticket-of-alice', role: 'frontend' },
                    bob: { ticket: '${XBAR_TEST_TICKET_BOB}', role: 'backend' },
                  },
                },
                wampcra: {
                  type: 'static',
                  users: {
                    joe: { secret: 'secret-of-joe', role: 'backend' },
                    // Crossbar.io's salted user: the secret configured is the key derived from the password.
                    salty: { secret: SALTY_KEY, role: 'frontend', ...SALTED },
                  },
                },
                cryptosign: { type: 'static', principals: { device1: { authorized_keys: [device.pub], role: 'device' } } },
              },
            },
            ticketonly: { type: 'websocket', auth: { ticket: { type: 'static', principals: { alice: { ticket: 't', role: 'frontend' } } } } },
            slow: {
              type: 'websocket',
              options: { hello_timeout: 400 },
              auth: { ticket: { type: 'static', principals: { alice: { ticket: 't', role: 'frontend' } } } },
            },
          },
        },
      ],
    });
    const base = `ws://127.0.0.1:${n.ports[0]}`;
    url = `${base}/ws`;
    ticketOnlyUrl = `${base}/ticketonly`;
    slowUrl = `${base}/slow`;
  });

  after(() => n.stop());

  const rejected = async (p: Promise<unknown>): Promise<{ reason: string; message: unknown }> => {
    const e = (await p.then(() => assert.fail('the router accepted the session'), (err: unknown) => err)) as {
      details?: { reason?: string; message?: unknown }; errorUri?: string;
    };
    // Autobahn|JS reports ABORT in the close details; wampy as an AbortError.
    return { reason: e.errorUri ?? e.details?.reason ?? '', message: e.details?.message };
  };

  describe('anonymous', () => {
    it('welcomes with the configured role and a random authid', async () => {
      const c = await connectAutobahn(url);
      assert.equal(c.details.authrole, 'frontend');
      assert.equal(c.details.authmethod, 'anonymous');
      assert.equal(c.details.authprovider, 'static');
      assert.match(String(c.details.authid), /^[A-Z0-9]{4}(-[A-Z0-9]{4}){5}$/);
      await c.close();
    });
  });

  describe('ticket', () => {
    it('welcomes Autobahn|JS with the principal\'s authid and role', async () => {
      const c = await connectAutobahn(url, { authmethods: ['ticket'], authid: 'alice', onchallenge: () => 'ticket-of-alice' });
      assert.deepEqual(
        [c.details.authid, c.details.authrole, c.details.authmethod, c.details.authprovider],
        ['alice', 'frontend', 'ticket', 'static'],
      );
      await c.close();
    });

    it('reads a ${VAR} ticket from the environment (wampy)', async () => {
      const { client, details } = await wampyJoin(url, { authmethods: ['ticket'], authid: 'bob', onChallenge: () => 'ticket-of-bob' });
      assert.equal(details.authrole, 'backend');
      await client.disconnect();
    });

    it('refuses a wrong ticket and an unknown authid with the same ABORT', async () => {
      const wrong = await rejected(connectAutobahn(url, { authmethods: ['ticket'], authid: 'alice', onchallenge: () => 'ticket-of-bob' }));
      const unknown = await rejected(connectAutobahn(url, { authmethods: ['ticket'], authid: 'mallory', onchallenge: () => 'x' }));
      assert.deepEqual(wrong, { reason: 'wamp.error.authentication_failed', message: 'authentication failed' });
      assert.deepEqual(unknown, wrong);
    });

    it('keeps serving after failures', async () => {
      const c = await connectAutobahn(url, { authmethods: ['ticket'], authid: 'alice', onchallenge: () => 'ticket-of-alice' });
      await c.session.register('com.example.echo', (args) => args[0]);
      assert.equal(await c.session.call('com.example.echo', ['still here']), 'still here');
      await c.close();
    });
  });

  describe('wampcra', () => {
    const autobahnCra = (secret: string) => (_s: unknown, _m: string, extra: Record<string, unknown>) => {
      const key = extra.salt === undefined
        ? secret
        : autobahnAuth.auth_cra.derive_key(secret, extra.salt as string, extra.iterations as number, extra.keylen as number);
      return autobahnAuth.auth_cra.sign(key, extra.challenge as string);
    };

    it('welcomes Autobahn|JS with a plain secret', async () => {
      const c = await connectAutobahn(url, { authmethods: ['wampcra'], authid: 'joe', onchallenge: autobahnCra('secret-of-joe') });
      assert.deepEqual([c.details.authid, c.details.authrole, c.details.authmethod], ['joe', 'backend', 'wampcra']);
      await c.close();
    });

    it('sends salt, iterations and keylen for a salted secret; Autobahn|JS derives the same key', async () => {
      let challenge: Record<string, unknown> = {};
      const sign = autobahnCra('secret-of-salty');
      const c = await connectAutobahn(url, {
        authmethods: ['wampcra'], authid: 'salty', onchallenge: (s, m, extra) => ((challenge = extra), sign(s, m, extra)),
      });
      assert.equal(c.details.authrole, 'frontend');
      assert.deepEqual({ salt: challenge.salt, iterations: challenge.iterations, keylen: challenge.keylen }, SALTED);
      const inner = JSON.parse(challenge.challenge as string) as Record<string, unknown>;
      assert.deepEqual([inner.authid, inner.authmethod, inner.authprovider], ['salty', 'wampcra', 'static']);
      await c.close();
    });

    it('welcomes wampy with wampy-cra, plain and salted', async () => {
      const plain = await wampyJoin(url, { authmethods: ['wampcra'], authid: 'joe', onChallenge: wampyCra.sign('secret-of-joe') });
      const salted = await wampyJoin(url, { authmethods: ['wampcra'], authid: 'salty', onChallenge: wampyCra.sign('secret-of-salty') });
      assert.deepEqual([plain.details.authrole, salted.details.authrole], ['backend', 'frontend']);
      await Promise.all([plain.client.disconnect(), salted.client.disconnect()]);
    });

    it('welcomes Autobahn|Python, which derives the salted key with its own derive_key', async () => {
      const r = await runPython({ url, realm: 'realm1', method: 'wampcra', authid: 'salty', secret: 'secret-of-salty' });
      assert.deepEqual(r.joined, { realm: 'realm1', authid: 'salty', authrole: 'frontend', authmethod: 'wampcra', authprovider: 'static' });
      assert.equal(r.challenge?.salt, SALTED.salt);
    });

    it('all three clients derive the same key', () => {
      const js = autobahnAuth.auth_cra.derive_key('secret-of-salty', SALTED.salt, SALTED.iterations, SALTED.keylen);
      assert.equal(wampyCra.deriveKey('secret-of-salty', SALTED.salt, SALTED.iterations, SALTED.keylen), js);
    });

    it('refuses a wrong secret, and an unknown authid the same way (wampcra-crossbar.test.ts: its CHALLENGE)', async () => {
      const wrong = await rejected(connectAutobahn(url, { authmethods: ['wampcra'], authid: 'salty', onchallenge: autobahnCra('guess') }));
      const unknown = await rejected(connectAutobahn(url, { authmethods: ['wampcra'], authid: 'nobody', onchallenge: autobahnCra('guess') }));
      assert.deepEqual(wrong, { reason: 'wamp.error.authentication_failed', message: 'authentication failed' });
      assert.deepEqual(unknown, wrong);
    });
  });

  describe('cryptosign', () => {
    it('welcomes wampy with wampy-cryptosign', async () => {
      const { client, details } = await wampyJoin(url, {
        authmethods: ['cryptosign'], authid: 'device1', authextra: { pubkey: device.pub }, onChallenge: wampyCryptosign.sign(device.seed),
      });
      assert.deepEqual([details.authid, details.authrole, details.authmethod, details.authprovider], ['device1', 'device', 'cryptosign', 'static']);
      await client.disconnect();
    });

    it('welcomes Autobahn|JS signing with its own auth_cryptosign, identified by its public key alone', async () => {
      const pkey = autobahnAuth.nacl.sign.keyPair.fromSeed(Buffer.from(device.seed, 'hex'));
      assert.equal(autobahnAuth.auth_cryptosign.public_key(pkey), device.pub);
      const c = await connectAutobahn(url, withAuth({
        authmethods: ['cryptosign'], authextra: { pubkey: device.pub },
        onchallenge: (_s, _m, extra) => autobahnAuth.auth_cryptosign.sign_challenge(pkey, extra),
      }));
      assert.deepEqual([c.details.authid, c.details.authrole], ['device1', 'device']);
      await c.close();
    });

    it('welcomes Autobahn|Python', async () => {
      const r = await runPython({ url, realm: 'realm1', method: 'cryptosign', authid: 'device1', privkey: device.seed });
      assert.equal(r.joined?.authrole, 'device');
      assert.equal(r.challenge?.channel_binding, null);
    });

    it('refuses a key that is not authorized, and a signature by another key', async () => {
      const unknownKey = await rejected(wampyJoin(url, {
        authmethods: ['cryptosign'], authid: 'device1', authextra: { pubkey: stranger.pub }, onChallenge: wampyCryptosign.sign(stranger.seed),
      }));
      const forged = await rejected(wampyJoin(url, {
        authmethods: ['cryptosign'], authid: 'device1', authextra: { pubkey: device.pub }, onChallenge: wampyCryptosign.sign(stranger.seed),
      }));
      assert.deepEqual(unknownKey, { reason: 'wamp.error.authentication_failed', message: 'authentication failed' });
      assert.deepEqual(forged, unknownKey);
    });

    it('refuses a HELLO without a public key with a clear message', async () => {
      const r = await rejected(connectAutobahn(url, { authmethods: ['cryptosign'], authid: 'device1', onchallenge: () => '' }));
      assert.equal(r.reason, 'wamp.error.authentication_failed');
      assert.match(String(r.message), /authextra\.pubkey/);
    });

    it('binds nothing when channel binding is asked for without TLS, as Crossbar.io (its rlinks always ask)', async () => {
      // Signing the bare challenge, as a Crossbar.io rlink does when its connection has no channel id.
      const { client, details } = await wampyJoin(url, {
        authmethods: ['cryptosign'], authid: 'device1', authextra: { pubkey: device.pub, channel_binding: 'tls-unique' },
        onChallenge: wampyCryptosign.sign(device.seed),
      });
      assert.equal(details.authrole, 'device');
      await client.disconnect();
    });

    it('refuses a channel binding type other than tls-unique by name', async () => {
      const r = await rejected(wampyJoin(url, {
        authmethods: ['cryptosign'], authid: 'device1', authextra: { pubkey: device.pub, channel_binding: 'tls-exporter' },
        onChallenge: wampyCryptosign.sign(device.seed),
      }));
      assert.deepEqual(r, { reason: 'wamp.error.authentication_failed', message: 'channel binding "tls-exporter" is not supported; the only binding is "tls-unique"' });
    });
  });

  it('answers no_auth_method when none of the client\'s methods is offered', async () => {
    const r = await rejected(connectAutobahn(ticketOnlyUrl, { authmethods: ['wampcra', 'anonymous'], authid: 'alice', onchallenge: () => 'x' }));
    assert.equal(r.reason, 'wamp.error.no_auth_method');
  });

  it('drops a client that never answers the CHALLENGE', async () => {
    const c = await RawWsClient.open(slowUrl);
    c.send([1, 'realm1', { roles: { caller: {} }, authmethods: ['ticket'], authid: 'alice' }]);
    const challenge = await c.next();
    assert.deepEqual(challenge, [4, 'ticket', {}]);
    const abort = await c.expectAbort();
    assert.equal(abort.reason, 'wamp.error.timeout');
    assert.equal(c.isEnded, true);
  });
});
