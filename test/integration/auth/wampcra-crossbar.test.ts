/**
 * WAMP-CRA with a Crossbar.io config, as Crossbar.io 22.6 reads it: the `secret` of a salted user
 * is the key derived from the password (what `xbar wampcra-key` prints), and Autobahn|JS, wampy
 * with wampy-cra and Autobahn|Python log in with the password. And no CHALLENGE tells an authid
 * that exists from one that does not: a stranger is shown exactly what some configured user is.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn } from '../../helpers/clients.js';
import { runCli } from '../../helpers/cli.js';
import { RawWsClient } from '../../helpers/raw-wamp.js';
import { ALLOW_ALL, autobahnAuth, realm, runPython, startDoc, tcp, wampyCra, wampyJoin, type AuthNode } from './support.js';

/** The example: password "saltsecret", salt "salt123", 100 iterations, 32 bytes. */
const PETER_KEY = '1x6iur6yBr4qZW8mXLDUQMUPCAU95HrybOgNvjf3qDk=';
/** Crossbar.io's own docs (Challenge-Response-Authentication.rst): "secret1", salt123, 100, 16. */
const ANOHNI_KEY = 'prq7+YkJ1/KlW1X0YczMHw==';

/** Autobahn|JS's onchallenge as Crossbar.io's examples write it (authentication/wampcra). */
const autobahnCra = (password: string) => (_s: unknown, method: string, extra: Record<string, unknown>) => {
  assert.equal(method, 'wampcra');
  const key = extra.salt === undefined
    ? password
    : autobahnAuth.auth_cra.derive_key(password, extra.salt as string, extra.iterations as number, extra.keylen as number);
  return autobahnAuth.auth_cra.sign(key, extra.challenge as string);
};

const refusal = async (p: Promise<unknown>): Promise<string> => {
  const e = (await p.then(() => assert.fail('the router accepted the session'), (err: unknown) => err)) as {
    details?: { reason?: string }; errorUri?: string;
  };
  return e.errorUri ?? e.details?.reason ?? '';
};

/** A node whose one WebSocket path has these static WAMP-CRA users, roles frontend, backend and ops. */
function craNode(users: Record<string, Record<string, unknown>>, limits?: Record<string, unknown>): Promise<AuthNode> {
  return startDoc({
    realms: [realm('realm1', { frontend: [ALLOW_ALL], backend: [ALLOW_ALL], ops: [ALLOW_ALL] })],
    transports: [{ type: 'web', endpoint: tcp(), paths: { ws: { type: 'websocket', auth: { wampcra: { type: 'static', users } } } } }],
  }, limits ? { top: { limits } } : {});
}

describe('WAMP-CRA with a Crossbar.io config', () => {
  describe('xbar wampcra-key', () => {
    it('prints the derived key Crossbar.io configures for a password', async () => {
      const r = await runCli(['wampcra-key', '--password', 'saltsecret', '--salt', 'salt123', '--iterations', '100', '--keylen', '32']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${PETER_KEY}\n`);
    });

    it('reads the password from standard input, keeping it out of the process list', async () => {
      const r = await runCli(['wampcra-key', '--salt', 'salt123', '--iterations', '100', '--keylen', '16'], { stdin: 'secret1\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${ANOHNI_KEY}\n`);
    });

    it('defaults to 1000 iterations and 32 bytes, as Autobahn does', async () => {
      const r = await runCli(['wampcra-key', '--password', 'pw', '--salt', 's']);
      assert.equal(r.stdout.trim(), autobahnAuth.auth_cra.derive_key('pw', 's', 1000, 32));
    });

    it('refuses parameters the config would refuse', async () => {
      const r = await runCli(['wampcra-key', '--password', 'pw', '--salt', 's', '--keylen', '0']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /--keylen must be an integer from 1 to 1024/);
    });
  });

  describe('logging in with the password', () => {
    let n: AuthNode;
    let url: string;

    before(async () => {
      n = await craNode({
        peter: { secret: PETER_KEY, role: 'frontend', salt: 'salt123', iterations: 100, keylen: 32 },
        anohni: { secret: ANOHNI_KEY, role: 'frontend', salt: 'salt123', iterations: 100, keylen: 16 },
        joe: { secret: 'secret2', role: 'backend' },
        // These tests fail logins on purpose; the throttle is tested elsewhere.
      }, { failed_authentications: false });
      url = `ws://127.0.0.1:${n.ports[0]}/ws`;
    });

    after(() => n.stop());

    it('welcomes Autobahn|JS', async () => {
      for (const [authid, password] of [['peter', 'saltsecret'], ['anohni', 'secret1'], ['joe', 'secret2']] as const) {
        const c = await connectAutobahn(url, { authmethods: ['wampcra'], authid, onchallenge: autobahnCra(password) });
        assert.deepEqual([c.details.authid, c.details.authmethod], [authid, 'wampcra']);
        await c.close();
      }
    });

    it('welcomes wampy with wampy-cra', async () => {
      const { client, details } = await wampyJoin(url, { authmethods: ['wampcra'], authid: 'peter', onChallenge: wampyCra.sign('saltsecret') });
      assert.deepEqual([details.authid, details.authrole], ['peter', 'frontend']);
      await client.disconnect();
    });

    it('welcomes Autobahn|Python, which derives the key with its own derive_key', async () => {
      const r = await runPython({ url, realm: 'realm1', method: 'wampcra', authid: 'peter', secret: 'saltsecret' });
      assert.deepEqual(r.joined, { realm: 'realm1', authid: 'peter', authrole: 'frontend', authmethod: 'wampcra', authprovider: 'static' });
      assert.deepEqual([r.challenge?.salt, r.challenge?.iterations, r.challenge?.keylen], ['salt123', 100, 32]);
    });

    it('refuses a wrong password, and the stored key given as a password', async () => {
      assert.equal(await refusal(connectAutobahn(url, { authmethods: ['wampcra'], authid: 'peter', onchallenge: autobahnCra('saltsecret2') })),
        'wamp.error.authentication_failed');
      assert.equal(await refusal(wampyJoin(url, { authmethods: ['wampcra'], authid: 'peter', onChallenge: wampyCra.sign(PETER_KEY) })),
        'wamp.error.authentication_failed');
      const r = await runPython({ url, realm: 'realm1', method: 'wampcra', authid: 'anohni', secret: ANOHNI_KEY });
      assert.equal(r.aborted?.reason, 'wamp.error.authentication_failed');
    });
  });

  describe('no user enumeration', () => {
    let n: AuthNode;
    let url: string;
    /** What each configured user's CHALLENGE shows besides its authid. */
    const SHAPES = new Map([
      ['joe', { role: 'backend' }],
      ['ann', { role: 'backend' }],
      ['peter', { role: 'frontend', salt: 'salt123', iterations: 100, keylen: 32 }],
      ['sue', { role: 'ops', salt: 'sue-salt', iterations: 1000, keylen: 32 }],
    ]);

    before(async () => {
      n = await craNode({
        joe: { secret: 'joe-pw', role: 'backend' },
        ann: { secret: 'ann-pw', role: 'backend' },
        peter: { secret: PETER_KEY, role: 'frontend', salt: 'salt123', iterations: 100, keylen: 32 },
        // Salt alone: Crossbar.io 22.6 tells the client 1000 iterations and 32 bytes.
        sue: { secret: 'c3VlLWtleQ==', role: 'ops', salt: 'sue-salt' },
      });
      url = `ws://127.0.0.1:${n.ports[0]}/ws`;
    });

    after(() => n.stop());

    /** The CHALLENGE an authid gets, reduced to what could tell users apart: role and salting. */
    async function shapeOf(authid: string): Promise<string> {
      const c = await RawWsClient.open(url);
      c.send([1, 'realm1', { roles: { caller: {} }, authmethods: ['wampcra'], authid }]);
      const m = await c.waitFor((x) => x[0] === 4);
      c.destroy();
      const { challenge, ...salting } = m[2] as { challenge: string };
      const inner = JSON.parse(challenge) as { authid: string; authrole: string; authmethod: string; authprovider: string };
      assert.deepEqual([inner.authid, inner.authmethod, inner.authprovider], [authid, 'wampcra', 'static']);
      return JSON.stringify({ role: inner.authrole, ...salting });
    }

    it('shows each user its own role and salting', async () => {
      for (const [authid, shape] of SHAPES) assert.equal(await shapeOf(authid), JSON.stringify(shape));
    });

    it('shows a stranger what one of the users is shown, the same every time, every user\'s shape among strangers', async () => {
      const users = new Set([...SHAPES.values()].map((s) => JSON.stringify(s)));
      const seen = new Map<string, number>();
      for (let i = 0; i < 120; i++) {
        const shape = await shapeOf(`stranger-${i}`);
        assert.ok(users.has(shape), `stranger-${i} got a shape no user has: ${shape}`);
        seen.set(shape, (seen.get(shape) ?? 0) + 1);
        if (i % 40 === 0) assert.equal(await shapeOf(`stranger-${i}`), shape, 'a stranger asking again sees the same');
      }
      // With 120 strangers, a shape missing by chance has odds below 2^-40.
      assert.deepEqual([...seen.keys()].sort(), [...users].sort());
    });

    it('answers a stranger and a wrong password alike', async () => {
      const wrong = await refusal(connectAutobahn(url, { authmethods: ['wampcra'], authid: 'joe', onchallenge: autobahnCra('guess') }));
      const stranger = await refusal(connectAutobahn(url, { authmethods: ['wampcra'], authid: 'nobody', onchallenge: autobahnCra('guess') }));
      assert.equal(wrong, 'wamp.error.authentication_failed');
      assert.equal(stranger, wrong);
    });
  });
});
