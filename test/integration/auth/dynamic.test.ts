/**
 * Dynamic authenticators, Crossbar.io's contract: a component (here Autobahn|JS, joined with its
 * own ticket on a separate realm) registers procedures; the router calls them with
 * (realm, authid, details) and takes the role or principal they return, or the error they raise.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import autobahn from 'autobahn';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { eventually } from '../../helpers/eventually.js';
import { RawWsClient } from '../../helpers/raw-wamp.js';
import {
  ALLOW_ALL, autobahnAuth, ed25519Pair, logged, realm, runPython, startDoc, tcp, wampyCra, wampyCryptosign, wampyJoin, withAuth, type AuthNode,
} from './support.js';

const device = ed25519Pair();
const dyn = (authenticator: string, authenticatorRealm?: string) => ({
  type: 'dynamic',
  authenticator,
  ...(authenticatorRealm ? { 'authenticator-realm': authenticatorRealm } : {}),
});

describe('dynamic authenticators', () => {
  let n: AuthNode;
  let url: string;
  let base: string;
  let component: AutobahnClient;
  const calls: { procedure: string; args: unknown[] }[] = [];

  before(async () => {
    n = await startDoc({
      realms: [
        realm('realm1', { user: [ALLOW_ALL], admin: [ALLOW_ALL], authenticator: [ALLOW_ALL] }),
        realm('realm2', { user: [ALLOW_ALL] }),
        realm('auth', { authenticator: [{ uri: 'com.example.', match: 'prefix', allow: { register: true } }] }),
      ],
      transports: [
        {
          type: 'web',
          endpoint: tcp(),
          paths: {
            backend: {
              type: 'websocket',
              auth: { ticket: { type: 'static', principals: { authsvc: { ticket: 'svc-secret', role: 'authenticator' } } } },
            },
            ws: {
              type: 'websocket',
              auth: {
                anonymous: dyn('com.example.authenticate_anonymous', 'auth'),
                ticket: dyn('com.example.authenticate_ticket', 'auth'),
                wampcra: dyn('com.example.authenticate_wampcra', 'auth'),
                cryptosign: dyn('com.example.authenticate_cryptosign', 'auth'),
              },
            },
            samerealm: { type: 'websocket', auth: { ticket: dyn('com.example.authenticate_here') } },
            missing: { type: 'websocket', auth: { ticket: dyn('com.example.nobody_registered_this', 'auth') } },
          },
        },
      ],
    });
    base = `ws://127.0.0.1:${n.ports[0]}`;
    url = `${base}/ws`;
    component = await connectAutobahn(`${base}/backend`, { realm: 'auth', authmethods: ['ticket'], authid: 'authsvc', onchallenge: () => 'svc-secret' });
    const s = component.session;
    const record = (procedure: string) => (args: unknown[]) => calls.push({ procedure, args });
    await s.register('com.example.authenticate_ticket', (args) => {
      record('ticket')(args);
      const [, authid, details] = args as [string, string, Record<string, unknown>];
      if (details.ticket !== `pw-${authid}`) throw new autobahn.Error('com.example.invalid_ticket', ['no such user or wrong ticket']);
      if (authid === 'root') return 'admin';
      if (authid === 'wanderer') return { role: 'user', realm: 'realm2' };
      if (authid === 'ghost') return { role: 'no-such-role' };
      if (authid === 'broken') return 42;
      return { role: 'user', authid: `${authid}@example.com`, extra: { greeting: `hello ${authid}` } };
    });
    await s.register('com.example.authenticate_wampcra', (args) => {
      record('wampcra')(args);
      const authid = args[1] as string;
      // As in Crossbar.io 22.6: a salted secret is the key derived from the password ("salty-pw").
      if (authid === 'salty') return { secret: autobahnAuth.auth_cra.derive_key('salty-pw', 'NaCl', 50, 32), role: 'user', salt: 'NaCl', iterations: 50, keylen: 32 };
      return { secret: `${authid}-pw`, role: 'user' };
    });
    await s.register('com.example.authenticate_cryptosign', (args) => {
      record('cryptosign')(args);
      const details = args[2] as { authextra: { pubkey?: string } };
      if (details.authextra.pubkey !== device.pub) throw new autobahn.Error('wamp.error.not_authorized', ['unknown device']);
      return { pubkey: device.pub, role: 'user', authid: 'device-42' };
    });
    await s.register('com.example.authenticate_anonymous', (args) => {
      record('anonymous')(args);
      return { role: 'user', authid: 'guest' };
    });
  });

  after(async () => {
    await component.close();
    await n.stop();
  });

  const abortOf = async (p: Promise<unknown>) => {
    const e = (await p.then(() => assert.fail('accepted'), (x: unknown) => x)) as { details?: { reason?: string; message?: string }; errorUri?: string };
    return { reason: e.errorUri ?? e.details?.reason, message: e.details?.message };
  };

  describe('ticket', () => {
    it('passes (realm, authid, details with the ticket) and takes the returned principal', async () => {
      const c = await connectAutobahn(url, { authmethods: ['ticket'], authid: 'alice', onchallenge: () => 'pw-alice' });
      assert.deepEqual(
        [c.details.authid, c.details.authrole, c.details.authmethod, c.details.authprovider, c.details.authextra],
        ['alice@example.com', 'user', 'ticket', 'dynamic', { greeting: 'hello alice' }],
      );
      await c.close();
      const call = calls.findLast((x) => x.procedure === 'ticket')!;
      const [realmName, authid, details] = call.args as [string, string, Record<string, unknown>];
      assert.equal(realmName, 'realm1');
      assert.equal(authid, 'alice');
      assert.equal(details.ticket, 'pw-alice');
      assert.equal(details.authmethod, 'ticket');
      const transport = details.transport as Record<string, unknown>;
      assert.match(String(transport.peer), /^tcp4:127\.0\.0\.1:\d+$/);
      assert.deepEqual([transport.channel_type, transport.channel_framing, transport.is_secure], ['tcp', 'websocket', false]);
    });

    it('takes a bare role name (the older contract)', async () => {
      const c = await connectAutobahn(url, { authmethods: ['ticket'], authid: 'root', onchallenge: () => 'pw-root' });
      assert.deepEqual([c.details.authid, c.details.authrole], ['root', 'admin']);
      await c.close();
    });

    it('lets the principal\'s realm override the requested one', async () => {
      const c = await connectAutobahn(url, { authmethods: ['ticket'], authid: 'wanderer', onchallenge: () => 'pw-wanderer' });
      assert.equal(c.details.realm, 'realm2');
      await c.close();
    });

    it('forwards the error the authenticator raises, as Crossbar.io does', async () => {
      const r = await abortOf(connectAutobahn(url, { authmethods: ['ticket'], authid: 'alice', onchallenge: () => 'wrong' }));
      assert.deepEqual(r, { reason: 'com.example.invalid_ticket', message: 'no such user or wrong ticket' });
    });

    it('refuses a principal whose role the realm lacks', async () => {
      const r = await abortOf(connectAutobahn(url, { authmethods: ['ticket'], authid: 'ghost', onchallenge: () => 'pw-ghost' }));
      assert.equal(r.reason, 'wamp.error.no_such_role');
      // …and says so in the log: the mistake is the configuration's, not the client's.
      const line = await eventually(() => logged(n.logs, 'authenticated session refused: its role does not exist on the realm', { authid: 'ghost' }), 'the refusal in the log');
      assert.equal(line.realm, 'realm1');
    });

    it('refuses, with nothing but "authentication failed", an answer that is not a principal', async () => {
      const r = await abortOf(connectAutobahn(url, { authmethods: ['ticket'], authid: 'broken', onchallenge: () => 'pw-broken' }));
      assert.deepEqual(r, { reason: 'wamp.error.authentication_failed', message: 'authentication failed' });
      assert.ok(logged(n.logs, 'dynamic authenticator returned number; expected a role name or an object'));
    });

    it('refuses when no component registered the authenticator, and logs why', async () => {
      const r = await abortOf(connectAutobahn(`${base}/missing`, { authmethods: ['ticket'], authid: 'alice', onchallenge: () => 'pw-alice' }));
      assert.deepEqual(r, { reason: 'wamp.error.authentication_failed', message: 'authentication failed' });
      const line = logged(n.logs, 'dynamic authenticator failed', { authenticator: 'com.example.nobody_registered_this' });
      assert.match(JSON.stringify(line?.err), /no_such_procedure/);
    });

    it('calls an authenticator on the client\'s own realm when no authenticator-realm is set', async () => {
      const reg = await component.session.register('com.example.unused', () => null);
      // The component lives on realm "auth"; this one registers on realm1, where the client joins.
      const local = await connectAutobahn(`${base}/backend`, { realm: 'realm1', authmethods: ['ticket'], authid: 'authsvc', onchallenge: () => 'svc-secret' });
      await local.session.register('com.example.authenticate_here', (args) => ({ role: 'user', extra: { realm: args[0] } }));
      const c = await connectAutobahn(`${base}/samerealm`, { authmethods: ['ticket'], authid: 'carol', onchallenge: () => 'x' });
      assert.deepEqual([c.details.authrole, c.details.authextra], ['user', { realm: 'realm1' }]);
      await Promise.all([c.close(), local.close(), component.session.unregister(reg)]);
    });
  });

  describe('wampcra', () => {
    it('challenges with the secret the authenticator returns (wampy-cra)', async () => {
      const { client, details } = await wampyJoin(url, { authmethods: ['wampcra'], authid: 'dave', onChallenge: wampyCra.sign('dave-pw') });
      assert.deepEqual([details.authid, details.authrole, details.authprovider], ['dave', 'user', 'dynamic']);
      await client.disconnect();
      const r = await abortOf(wampyJoin(url, { authmethods: ['wampcra'], authid: 'dave', onChallenge: wampyCra.sign('guess') }));
      assert.equal(r.reason, 'wamp.error.authentication_failed');
    });

    it('takes a salted secret for the derived key: Autobahn|Python and wampy-cra log in with the password', async () => {
      const r = await runPython({ url, realm: 'realm1', method: 'wampcra', authid: 'salty', secret: 'salty-pw' });
      assert.equal(r.joined?.authprovider, 'dynamic');
      assert.deepEqual([r.challenge?.salt, r.challenge?.iterations, r.challenge?.keylen], ['NaCl', 50, 32]);
      const { client } = await wampyJoin(url, { authmethods: ['wampcra'], authid: 'salty', onChallenge: wampyCra.sign('salty-pw') });
      await client.disconnect();
    });
  });

  describe('cryptosign', () => {
    it('verifies with the public key the authenticator returns (wampy-cryptosign)', async () => {
      const { client, details } = await wampyJoin(url, {
        authmethods: ['cryptosign'], authid: 'anything', authextra: { pubkey: device.pub }, onChallenge: wampyCryptosign.sign(device.seed),
      });
      assert.deepEqual([details.authid, details.authrole, details.authprovider], ['device-42', 'user', 'dynamic']);
      await client.disconnect();
    });

    it('forwards the authenticator\'s refusal of an unknown key', async () => {
      const other = ed25519Pair();
      const r = await abortOf(wampyJoin(url, {
        authmethods: ['cryptosign'], authid: 'x', authextra: { pubkey: other.pub }, onChallenge: wampyCryptosign.sign(other.seed),
      }));
      assert.deepEqual(r, { reason: 'wamp.error.not_authorized', message: 'unknown device' });
    });
  });

  describe('anonymous', () => {
    it('asks the authenticator and welcomes with its principal', async () => {
      const c = await connectAutobahn(url, withAuth({ authmethods: ['anonymous'] }));
      assert.deepEqual([c.details.authid, c.details.authrole, c.details.authmethod, c.details.authprovider], ['guest', 'user', 'anonymous', 'dynamic']);
      await c.close();
    });

    it('aborts a second HELLO sent while the authenticator is asked (before the answer to the first)', async () => {
      const c = await RawWsClient.open(url, { serializer: 'json' });
      const hello = [1, 'realm1', { roles: { subscriber: {} }, authmethods: ['anonymous'] }];
      c.sendTogether([hello, hello]);
      const abort = await c.waitFor((m) => m[0] === 3);
      assert.deepEqual([abort[2], (abort[1] as { message?: string }).message], ['wamp.error.protocol_violation', 'received HELLO before the answer to HELLO']);
      assert.deepEqual(c.received.map((m) => m[0]), [3], 'the first HELLO is not answered');
    });
  });
});
