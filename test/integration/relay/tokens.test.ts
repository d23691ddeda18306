import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { Client, refusal, report, type RelayNode, startRelay } from './support.js';
import { eventually } from '../../helpers/eventually.js';

const SECRET = 'relay-test-secret-0123456789';
const AUDIENCE = 'https://relay.example.org';
const ADMIN = 'admin-token-0123456789abcdef';
const now = (): number => Math.floor(Date.now() / 1000);

interface Claims {
  topic?: string;
  prefix?: string;
  scopes?: string[];
  booking_id?: string;
  aud?: string;
  exp?: number;
  nbf?: number;
}

function sign(claims: Claims, key: Uint8Array | KeyObject = new TextEncoder().encode(SECRET), alg = 'HS256'): Promise<string> {
  const { aud = AUDIENCE, exp = now() + 60, nbf, ...rest } = claims;
  const jwt = new SignJWT({ scopes: ['read', 'write'], ...rest }).setProtectedHeader({ alg }).setIssuedAt().setAudience(aud).setExpirationTime(exp);
  if (nbf !== undefined) jwt.setNotBefore(nbf);
  return jwt.sign(key);
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

async function exchange(t: RelayNode, topicPath: string, token: string): Promise<Response> {
  return fetch(`${t.http}/relay/${topicPath}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

async function code(t: RelayNode, topicPath: string, token: string): Promise<{ uri: string; code: string; expires_in: number }> {
  const res = await exchange(t, topicPath, token);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { uri: string; code: string; expires_in: number };
}

describe('relay access with tokens (HS256 secret)', () => {
  let t: RelayNode;
  before(async () => {
    t = await startRelay({ tokens: { secret: SECRET, audience: AUDIENCE, required: true }, adminToken: ADMIN, codeTtl: 1500 });
  });
  after(() => t.stop());

  it('lets a valid token in (Authorization header) with its scopes', async () => {
    const a = await Client.open(`${t.base}/lab1`, bearer(await sign({ topic: 'lab1' })));
    const b = await Client.open(`${t.base}/lab1`, bearer(await sign({ topic: 'lab1', scopes: ['read'] })));
    await a.send('hello');
    assert.equal((await b.waitFor(1))[0]!.data.toString(), 'hello');
    assert.deepEqual(report(t.relay, 'lab1').map((r) => [r.canRead, r.canWrite, r.scopes]).sort(), [
      [true, false, ['read']],
      [true, true, ['read', 'write']],
    ]);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses no token, an expired token, the wrong audience, the wrong topic, a bad signature and garbage', async () => {
    const cases: [string, Promise<string> | string, number, RegExp][] = [
      ['no token', '', 401, /needs a token/],
      ['expired', sign({ topic: 'lab1', exp: now() - 10 }), 401, /token expired/],
      ['wrong audience', sign({ topic: 'lab1', aud: 'https://other.example.org' }), 401, /audience/],
      ['wrong topic', sign({ topic: 'lab2' }), 403, /token is for topic "lab2", not "lab1"/],
      ['not yet valid', sign({ topic: 'lab1', nbf: now() + 60 }), 401, /not valid yet/],
      ['bad signature', sign({ topic: 'lab1' }, new TextEncoder().encode('another-secret-entirely')), 401, /signature invalid/],
      ['garbage', 'not.a.jwt', 401, /malformed token/],
      ['no topic claim', sign({}), 401, /no "topic" claim/],
      ['no usable scope', sign({ topic: 'lab1', scopes: ['shell'] }), 403, /neither "read" nor "write"/],
      ['alg none', 'eyJhbGciOiJub25lIn0.eyJ0b3BpYyI6ImxhYjEifQ.', 401, /algorithm|malformed/],
    ];
    for (const [what, token, status, reason] of cases) {
      const tok = await token;
      const r = await refusal(`${t.base}/lab1`, tok === '' ? {} : bearer(tok));
      assert.equal(r.status, status, what);
      assert.match(r.body, reason, what);
    }
  });

  it('matches practable tokens: prefix "session" + topic "abc" is the path session/abc', async () => {
    const token = await sign({ prefix: 'session', topic: 'abc' });
    const c = await Client.open(`${t.base}/session/abc`, bearer(token));
    await c.close();
    assert.equal((await refusal(`${t.base}/abc`, bearer(token))).status, 403);
  });

  it('drops (and counts) what a read-only client sends', async () => {
    const reader = await Client.open(`${t.base}/ro`, bearer(await sign({ topic: 'ro', scopes: ['read'] })));
    const writer = await Client.open(`${t.base}/ro`, bearer(await sign({ topic: 'ro', scopes: ['read', 'write'] })));
    await reader.send('I am only allowed to read');
    await eventually(() => report(t.relay, 'ro').some((r) => r.stats.tx.dropped === 1), 'the drop to be counted');
    await writer.send('fine');
    await reader.waitFor(1);
    // A write-only client receives nothing.
    const wo = await Client.open(`${t.base}/ro`, bearer(await sign({ topic: 'ro', scopes: ['write'] })));
    await writer.send('second');
    await reader.waitFor(2);
    await wo.send('from write-only');
    await writer.waitFor(1);
    assert.deepEqual(writer.texts(), ['from write-only'], 'the read-only message never reached the writer');
    assert.deepEqual(reader.texts(), ['fine', 'second', 'from write-only']);
    assert.equal(wo.messages.length, 0);
    await Promise.all([reader.close(), writer.close(), wo.close()]);
  });

  it('closes a connection with 4001 when its token expires', async () => {
    const exp = now() + 2;
    const c = await Client.open(`${t.base}/short`, bearer(await sign({ topic: 'short', exp })));
    const peer = await Client.open(`${t.base}/short`, bearer(await sign({ topic: 'short' })));
    const closed = await c.closed;
    assert.deepEqual(closed, { code: 4001, reason: 'token expired' });
    assert.ok(Date.now() >= exp * 1000, 'not before exp');
    assert.ok(Date.now() < exp * 1000 + 1500, 'promptly after exp');
    // The other client is unaffected.
    const again = await Client.open(`${t.base}/short`, bearer(await sign({ topic: 'short' })));
    await again.send('still here');
    await peer.waitFor(1);
    await Promise.all([peer.close(), again.close()]);
  });

  it('exchanges a token for a single-use code with a TTL', async () => {
    const token = await sign({ topic: 'coded', booking_id: 'bk-1' });
    const got = await code(t, 'coded', token);
    assert.equal(got.uri, `${t.base}/coded?code=${got.code}`);
    assert.equal(got.expires_in, 1.5);
    const c = await Client.open(got.uri);
    const replay = await refusal(got.uri);
    assert.equal(replay.status, 401);
    assert.match(replay.body, /access code unknown, already used or expired/);
    await c.close();

    // An expired code takes the same refusal as a used one (AccessCodes.take answers undefined);
    // the expiry itself is tested on a fake clock in test/unit/relay/pure.test.ts.

    const other = await code(t, 'coded', token);
    const wrongPath = await refusal(`${t.base}/elsewhere?code=${other.code}`);
    assert.equal(wrongPath.status, 403, 'a code works only for its own topic');
    assert.equal((await refusal(other.uri)).status, 401, 'and is used up by the failed attempt');
    assert.equal((await refusal(`${t.base}/coded?code=`)).status, 401);
  });

  it('checks the token at the exchange too', async () => {
    const wrongTopic = await exchange(t, 'coded', await sign({ topic: 'other' }));
    assert.equal(wrongTopic.status, 403);
    assert.match(((await wrongTopic.json()) as { error: string }).error, /not "coded"/);
    assert.equal((await exchange(t, 'coded', await sign({ topic: 'coded', exp: now() - 1 }))).status, 401);
    const none = await fetch(`${t.http}/relay/coded`, { method: 'POST' });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  });

  it('deny-list: kicks every connection of a booking at once, refuses new ones and its codes, until allowed again', async () => {
    const booked = await sign({ topic: 'booked', booking_id: 'bk-42' });
    const a = await Client.open(`${t.base}/booked`, bearer(booked));
    const pending = await code(t, 'booked', booked);
    const b = await Client.open(`${t.base}/booked`, bearer(await sign({ topic: 'booked', booking_id: 'bk-42' })));
    const other = await Client.open(`${t.base}/booked`, bearer(await sign({ topic: 'booked', booking_id: 'bk-7' })));
    const exp = now() + 3600;
    const res = await fetch(`${t.http}/relay/bids/deny?bid=bk-42&exp=${exp}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(res.status, 204);
    assert.deepEqual(await a.closed, { code: 4003, reason: 'booking "bk-42" was denied' });
    assert.equal((await b.closed).code, 4003);
    assert.equal(other.ws.readyState, other.ws.OPEN, 'other bookings stay');

    const refused = await refusal(`${t.base}/booked`, bearer(booked));
    assert.equal(refused.status, 403);
    assert.match(refused.body, /deny-listed/);
    assert.equal((await refusal(pending.uri)).status, 401, 'codes issued before the denial are revoked');
    assert.equal((await exchange(t, 'booked', booked)).status, 403);

    const list = await fetch(`${t.http}/relay/bids/deny`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.deepEqual(await list.json(), { booking_ids: [{ booking_id: 'bk-42', exp }] });

    const allow = await fetch(`${t.http}/relay/bids/allow`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ bid: 'bk-42' }),
    });
    assert.equal(allow.status, 204);
    const back = await Client.open(`${t.base}/booked`, bearer(booked));
    await Promise.all([back.close(), other.close()]);
  });

  it('protects the deny-list API with the admin token and validates its input', async () => {
    const post = (query: string, auth?: string, body?: string) =>
      fetch(`${t.http}/relay/bids/deny${query}`, { method: 'POST', headers: auth ? { authorization: `Bearer ${auth}` } : {}, ...(body ? { body } : {}) });
    assert.equal((await post('?bid=x&exp=9999999999')).status, 401);
    assert.equal((await post('?bid=x&exp=9999999999', 'wrong-token-0123456789')).status, 401);
    assert.equal((await post('?bid=x&exp=9999999999', await sign({ topic: 'lab1' }))).status, 401, 'an access token is not an admin token');
    const admin = await sign({ topic: 'admin', scopes: ['relay:admin'] });
    assert.equal((await post('?bid=x&exp=9999999999', admin)).status, 204, 'a signed token with scope relay:admin is');
    const noBid = await post('?exp=9999999999', ADMIN);
    assert.equal(noBid.status, 400);
    assert.match(((await noBid.json()) as { error: string }).error, /bid/);
    assert.equal((await post('?bid=x&exp=1', ADMIN)).status, 400, 'exp in the past');
    assert.equal((await post('?bid=x', ADMIN)).status, 400, 'exp missing');
    assert.equal((await post('?bid=x&exp=soon', ADMIN)).status, 400);
    assert.equal((await post('', ADMIN, '{not json')).status, 400);
    assert.equal((await post('', ADMIN, 'x'.repeat(10_000))).status, 413);
    assert.equal((await fetch(`${t.http}/relay/bids/nothing`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 404);
    assert.equal((await fetch(`${t.http}/relay/bids/allow`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 405);
    const status = await fetch(`${t.http}/relay/status`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(status.status, 200);
    assert.ok(Array.isArray(await status.json()));
    assert.equal((await fetch(`${t.http}/relay/status`)).status, 401);
  });
});

describe('relay access with tokens (public keys)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xbar-relay-keys-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [type, alg] of [['ed25519', 'EdDSA'], ['rsa', 'RS256']] as const) {
    it(`verifies ${type} (${alg}) tokens against a public key file`, async () => {
      const { publicKey, privateKey } = type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
      const file = path.join(dir, `${type}.pem`);
      writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
      const t = await startRelay({ tokens: { publicKeyFile: file, required: true } });
      try {
        const c = await Client.open(`${t.base}/k`, bearer(await sign({ topic: 'k' }, privateKey, alg)));
        await c.close();
        const hs = await refusal(`${t.base}/k`, bearer(await sign({ topic: 'k' })));
        assert.equal(hs.status, 401, 'an HS256 token is not accepted by a public-key relay');
        const other = generateKeyPairSync('ed25519').privateKey;
        assert.equal((await refusal(`${t.base}/k`, bearer(await sign({ topic: 'k' }, other, 'EdDSA')))).status, 401);
      } finally {
        await t.stop();
      }
    });
  }

  it('fails to start with a clear error when the key file is missing', async () => {
    await assert.rejects(startRelay({ tokens: { publicKeyFile: path.join(dir, 'missing.pem'), required: true } }), /public_key_file .*missing\.pem/);
  });
});

describe('relay with optional tokens (required: false)', () => {
  it('lets clients without a token in, and applies the scopes of those with one', async () => {
    const t = await startRelay({ tokens: { secret: SECRET, required: false } });
    try {
      const open = await Client.open(`${t.base}/mixed`);
      const ro = await Client.open(`${t.base}/mixed`, bearer(await sign({ topic: 'mixed', scopes: ['read'] })));
      assert.equal((await refusal(`${t.base}/mixed`, bearer('garbage'))).status, 401, 'a bad token is still refused');
      await open.send('x');
      await ro.waitFor(1);
      assert.deepEqual(report(t.relay, 'mixed').map((r) => r.canWrite).sort(), [false, true]);
      await Promise.all([open.close(), ro.close()]);
    } finally {
      await t.stop();
    }
  });
});
