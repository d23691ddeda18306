/**
 * Crossbar.io's cookie tracking and `cookie` authentication over real sockets, with the `ws`
 * client sending the Cookie header a browser would: the upgrade sets a cookie; a session that
 * logs in by ticket on it is remembered; a later connection with the cookie that announces
 * `cookie` joins as that principal at once (WELCOME: the ticket method, provider "cookie", the
 * cookie's realm); a forged or unknown cookie, or `cookie` alone without an authenticated one, never
 * authenticates (a new cookie is set, the other method is used, or ABORT no_auth_method); a HELLO
 * without `cookie` revokes it; `wamp.close.logout` deletes it and closes its other connections; a
 * transport without auth takes the cookie as the anonymous authid; the file store survives a restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newCookieId } from '../../../src/auth/cookie-store.js';
import { Code, RawWsClient, type Msg } from '../../helpers/raw-wamp.js';
import { ALLOW_ALL, realm, startDoc, tcp, type AuthNode } from './support.js';

const TICKET = { type: 'static', principals: { joe: { ticket: 'secret-of-joe', role: 'frontend', realm: 'realm2' } } };
const ROLES = { frontend: [ALLOW_ALL], anonymous: [ALLOW_ALL] };

/** The value of the Set-Cookie of an upgrade (`cbtid=VALUE;max-age=…`). */
function cookieOf(c: RawWsClient): string {
  assert.equal(c.setCookies.length, 1, `one Set-Cookie, got ${JSON.stringify(c.setCookies)}`);
  const m = /^cbtid=([A-Za-z0-9+/]{24});max-age=604800$/.exec(c.setCookies[0]!);
  assert.ok(m, c.setCookies[0]);
  return m[1]!;
}

async function answer(c: RawWsClient, details: Record<string, unknown>, ticket?: string): Promise<Msg> {
  c.send([Code.HELLO, 'realm1', { roles: { subscriber: {} }, ...details }]);
  let m = await c.waitFor((x) => x[0] === Code.WELCOME || x[0] === Code.ABORT || x[0] === 4);
  if (m[0] === 4 && ticket !== undefined) {
    c.send([5, ticket, {}]);
    m = await c.waitFor((x) => x[0] === Code.WELCOME || x[0] === Code.ABORT);
  }
  return m;
}

describe('cookie tracking and cookie authentication (ws client with a Cookie header)', () => {
  let n: AuthNode;
  let url: string;
  let openUrl: string;
  const clients: RawWsClient[] = [];
  const open = async (path: string, cookie?: string) => {
    const c = await RawWsClient.open(path, cookie === undefined ? {} : { headers: { Cookie: `theme=dark; cbtid=${cookie}` } });
    clients.push(c);
    return c;
  };

  before(async () => {
    n = await startDoc({
      realms: [realm('realm1', ROLES), realm('realm2', ROLES)],
      transports: [{
        type: 'web', endpoint: tcp(),
        paths: {
          ws: { type: 'websocket', cookie: { store: { type: 'memory' } }, auth: { ticket: TICKET, cookie: {} } },
          open: { type: 'websocket', cookie: {} },
        },
      }],
    });
    url = `ws://127.0.0.1:${n.ports[0]}/ws`;
    openUrl = `ws://127.0.0.1:${n.ports[0]}/open`;
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await n?.stop();
  });

  /** A cookie that authenticated joe (by ticket). */
  async function joesCookie(): Promise<string> {
    const first = await open(url);
    const cookie = cookieOf(first);
    const w = await answer(first, { authmethods: ['cookie', 'ticket'], authid: 'joe' }, 'secret-of-joe');
    assert.equal(w[0], Code.WELCOME, JSON.stringify(w));
    assert.deepEqual([(w[2] as Record<string, unknown>).authmethod, (w[2] as Record<string, unknown>).authprovider], ['ticket', 'static']);
    await first.goodbye();
    return cookie;
  }

  it('sets a cookie on the upgrade; a later connection with it that announces "cookie" joins as joe without a CHALLENGE', async () => {
    const cookie = await joesCookie();
    const again = await open(url, cookie);
    assert.deepEqual(again.setCookies, [], 'a known cookie is not set again');
    // "cookie" second in the list, no authid: still the cookie, as Crossbar.io checks it first.
    again.send([Code.HELLO, 'realm1', { roles: { subscriber: {} }, authmethods: ['ticket', 'cookie'] }]);
    const w = await again.next();
    assert.equal(w[0], Code.WELCOME, JSON.stringify(w));
    const d = w[2] as Record<string, unknown>;
    assert.deepEqual({ authid: d.authid, authrole: d.authrole, authmethod: d.authmethod, authprovider: d.authprovider }, {
      authid: 'joe', authrole: 'frontend', authmethod: 'ticket', authprovider: 'cookie',
    });
    assert.equal(d.realm, 'realm2', 'the realm the cookie authenticated for, not the one HELLO named');
    const s = n.node.router.realm('realm2')!.sessions.get(w[1] as number)!;
    assert.equal(s.conn.peer.cookie?.id, cookie);
  });

  it('a forged or unknown cookie never authenticates: a new cookie is set and the other method is used, or "cookie" alone is refused', async () => {
    await joesCookie();
    const forged = newCookieId(24);
    const c = await open(url, forged);
    assert.notEqual(cookieOf(c), forged);
    const challenged = await answer(c, { authmethods: ['cookie', 'ticket'], authid: 'joe' });
    assert.equal(challenged[0], 4, `a CHALLENGE, got ${JSON.stringify(challenged)}`);
    const alone = await open(url, forged);
    const refused = await answer(alone, { authmethods: ['cookie'] });
    assert.deepEqual([refused[0], refused[2]], [Code.ABORT, 'wamp.error.no_auth_method']);
    // A fresh cookie no one authenticated on is no better.
    const fresh = await open(url);
    const cookie = cookieOf(fresh);
    fresh.destroy();
    const unauthenticated = await answer(await open(url, cookie), { authmethods: ['cookie'] });
    assert.deepEqual([unauthenticated[0], unauthenticated[2]], [Code.ABORT, 'wamp.error.no_auth_method']);
  });

  it('a HELLO that does not announce "cookie" revokes the cookie\'s authentication (Crossbar.io), even when its login then fails', async () => {
    const cookie = await joesCookie();
    const c = await open(url, cookie);
    const failed = await answer(c, { authmethods: ['ticket'], authid: 'joe' }, 'wrong');
    assert.deepEqual([failed[0], failed[2]], [Code.ABORT, 'wamp.error.authentication_failed']);
    const later = await answer(await open(url, cookie), { authmethods: ['cookie'] });
    assert.deepEqual([later[0], later[2]], [Code.ABORT, 'wamp.error.no_auth_method']);
  });

  it('wamp.close.logout deletes the cookie and closes the other connections that carry it', async () => {
    const cookie = await joesCookie();
    const a = await open(url, cookie);
    const b = await open(url, cookie);
    const bystander = await open(url);
    assert.equal((await answer(a, { authmethods: ['cookie'] }))[0], Code.WELCOME);
    assert.equal((await answer(b, { authmethods: ['cookie'] }))[0], Code.WELCOME);
    a.send([Code.GOODBYE, {}, 'wamp.close.logout']);
    assert.deepEqual((await a.waitFor((m) => m[0] === Code.GOODBYE))[2], 'wamp.close.goodbye_and_out');
    assert.deepEqual(await b.ended, { code: 1000, reason: 'wamp.close.logout' });
    assert.equal(bystander.isEnded, false);
    const after = await open(url, cookie);
    assert.notEqual(cookieOf(after), cookie, 'the deleted cookie is replaced');
    const refused = await answer(after, { authmethods: ['cookie'] });
    assert.deepEqual([refused[0], refused[2]], [Code.ABORT, 'wamp.error.no_auth_method']);
  });

  it('on a transport without auth, an anonymous session\'s authid is its cookie (Crossbar.io)', async () => {
    const c = await open(openUrl);
    const cookie = cookieOf(c);
    const w = await answer(c, {});
    assert.equal(w[0], Code.WELCOME);
    assert.equal((w[2] as Record<string, unknown>).authid, cookie);
  });
});

describe('file cookie store across a restart', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'xbar-cookie-restart-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const start = (port: number) => startDoc({
    realms: [realm('realm1', ROLES), realm('realm2', ROLES)],
    transports: [{
      type: 'web', endpoint: { ...tcp(), port },
      paths: { ws: { type: 'websocket', cookie: { store: { type: 'file', filename: 'cookies.dat', purge_on_startup: true } }, auth: { ticket: TICKET, cookie: {} } } },
    }],
  }, { dir });

  it('a cookie that authenticated before the node stopped authenticates after it started again', async () => {
    const first = await start(0);
    const url = `ws://127.0.0.1:${first.ports[0]}/ws`;
    let c = await RawWsClient.open(url);
    const cookie = cookieOf(c);
    assert.equal((await answer(c, { authmethods: ['cookie', 'ticket'], authid: 'joe' }, 'secret-of-joe'))[0], Code.WELCOME);
    c.destroy();
    await first.stop();
    const lines = readFileSync(join(dir, 'cookies.dat'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.at(-1), {
      cbtid: cookie, status: 'modified', created: lines[0]!.created, modified: lines.at(-1)!.modified, deleted: null, max_age: 604800,
      authid: 'joe', authrole: 'frontend', authmethod: 'ticket', authrealm: 'realm2', authextra: null,
    });

    const second = await start(first.ports[0]!);
    try {
      c = await RawWsClient.open(url, { headers: { Cookie: `cbtid=${cookie}` } });
      assert.deepEqual(c.setCookies, []);
      const w = await answer(c, { authmethods: ['cookie'] });
      assert.equal(w[0], Code.WELCOME, JSON.stringify(w));
      assert.deepEqual([(w[2] as Record<string, unknown>).authid, (w[2] as Record<string, unknown>).authprovider], ['joe', 'cookie']);
      c.destroy();
    } finally {
      await second.stop();
    }
  });
});
