/**
 * The cookie store (auth/cookie-store.ts, auth/cookie-file.ts) on a fake clock: cookie values,
 * the Cookie header, Set-Cookie as Crossbar.io writes it, expiry, the cap and who goes first, and
 * the file — Crossbar.io's record format, older Crossbar.io files (the crossbar-examples'
 * cookies.dat), deletions that survive a reload, garbage lines, a file that stays bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CookieStore, cookieValue, newCookieId } from '../../../src/auth/cookie-store.js';
import type { CookieConfig } from '../../../src/config/types.js';
import type { CookiePrincipal } from '../../../src/connection/tracking-cookie.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'xbar-cookies-'));
  dirs.push(d);
  return join(d, 'cookies.dat');
}

function config(o: Partial<CookieConfig> = {}): CookieConfig {
  return { name: 'cbtid', length: 24, maxAge: 604_800, secure: false, httpStrict: false, store: { type: 'memory' }, maxCookies: 100, ...o };
}

const JOE: CookiePrincipal = { authid: 'joe', authrole: 'frontend', authmethod: 'wampcra', authrealm: 'realm1' };
const noKick = () => undefined;

/** A store on a clock the test moves. */
function clocked(c: CookieConfig): { store: CookieStore; clock: { now: number } } {
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  return { store: CookieStore.open(c, undefined, () => clock.now).store, clock };
}

describe('cookie values and headers', () => {
  it('makes values of the configured length from base64 characters, never the same twice', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = newCookieId(24);
      assert.match(id, /^[A-Za-z0-9+/]{24}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 2000);
    assert.match(newCookieId(6), /^[A-Za-z0-9+/]{6}$/);
    assert.match(newCookieId(64), /^[A-Za-z0-9+/]{64}$/);
  });

  it('reads its cookie from a Cookie header among others, quoted or not; a value no store makes is no cookie', () => {
    assert.equal(cookieValue('a=1; cbtid=abc+/DEF; b=2', 'cbtid'), 'abc+/DEF');
    assert.equal(cookieValue('cbtid="abcdef"', 'cbtid'), 'abcdef');
    assert.equal(cookieValue('xcbtid=zzz;cbtid=first; cbtid=second', 'cbtid'), 'first');
    assert.equal(cookieValue('cbtid=has space', 'cbtid'), undefined);
    assert.equal(cookieValue(`cbtid=${'a'.repeat(65)}`, 'cbtid'), undefined);
    assert.equal(cookieValue('cbtid=<script>', 'cbtid'), undefined);
    assert.equal(cookieValue(undefined, 'cbtid'), undefined);
    assert.equal(cookieValue('other=abc', 'cbtid'), undefined);
  });

  it('sets a new cookie as Crossbar.io does: name=value;max-age=N, then Secure, HttpOnly (http_strict), SameSite', () => {
    const plain = CookieStore.open(config()).store.track(undefined, noKick);
    assert.match(plain.setCookie!, /^cbtid=[A-Za-z0-9+/]{24};max-age=604800$/);
    assert.equal(plain.setCookie, `cbtid=${plain.cookie.id};max-age=604800`);
    const all = CookieStore.open(config({ name: 'session_id', maxAge: 60, secure: true, httpStrict: true, sameSite: 'Strict' })).store.track(undefined, noKick);
    assert.equal(all.setCookie, `session_id=${all.cookie.id};max-age=60;Secure;HttpOnly;SameSite=Strict`);
  });

  it('knows a cookie it made again (no Set-Cookie), and makes a new one for a cookie it never made', () => {
    const { store } = clocked(config());
    const first = store.track(undefined, noKick);
    const again = store.track(`cbtid=${first.cookie.id}`, noKick);
    assert.equal(again.cookie.id, first.cookie.id);
    assert.equal(again.setCookie, undefined);
    const forged = store.track(`cbtid=${newCookieId(24)}`, noKick);
    assert.notEqual(forged.cookie.id, first.cookie.id);
    assert.ok(forged.setCookie);
  });
});

describe('cookie store', () => {
  it('remembers who authenticated on a cookie, forgets on request, and deletes it at logout, closing its other connections', () => {
    const { store } = clocked(config());
    const kicked: string[] = [];
    const a = store.track(undefined, () => kicked.push('a')).cookie;
    const b = store.track(`cbtid=${a.id}`, () => kicked.push('b')).cookie;
    const other = store.track(undefined, () => kicked.push('other')).cookie;
    assert.equal(a.principal(), undefined);
    a.remember(JOE);
    assert.deepEqual(b.principal(), JOE);
    b.forget();
    assert.equal(a.principal(), undefined);
    a.remember(JOE);
    a.logout();
    assert.deepEqual(kicked, ['b'], 'the other connection of the cookie is closed, not the one that logged out, nor other cookies\'');
    assert.equal(b.principal(), undefined);
    assert.equal(store.lookup(a.id), undefined);
    assert.ok(other.id);
    b.remember(JOE);
    assert.equal(b.principal(), undefined, 'a deleted cookie authenticates no one again');
  });

  it('forgets a cookie once its max_age has passed (the browser has dropped it too)', () => {
    const { store, clock } = clocked(config({ maxAge: 60 }));
    const c = store.track(undefined, noKick).cookie;
    c.remember(JOE);
    clock.now += 59_000;
    assert.deepEqual(c.principal(), JOE);
    clock.now += 1_000;
    assert.equal(c.principal(), undefined);
    assert.ok(store.track(`cbtid=${c.id}`, noKick).setCookie, 'an expired cookie is replaced');
  });

  it('holds at most max_cookies: cookieless clients push out the oldest unauthenticated cookies, never an authenticated one while there are those', () => {
    const { store } = clocked(config({ maxCookies: 3 }));
    const joe = store.track(undefined, noKick).cookie;
    joe.remember(JOE);
    for (let i = 0; i < 1000; i++) store.track(undefined, noKick);
    assert.equal(store.size, 3);
    assert.deepEqual(joe.principal(), JOE);
    // Only authenticated cookies left: the least recently authenticated goes.
    const { store: full } = clocked(config({ maxCookies: 2 }));
    const c1 = full.track(undefined, noKick).cookie;
    c1.remember(JOE);
    const c2 = full.track(undefined, noKick).cookie;
    c2.remember({ ...JOE, authid: 'ann' });
    c1.remember({ ...JOE, authid: 'joe2' });
    full.track(undefined, noKick);
    assert.equal(c2.principal(), undefined);
    assert.equal(c1.principal()?.authid, 'joe2');
  });
});

describe('file cookie store', () => {
  it('writes Crossbar.io\'s records and a new store on the file knows the cookies and who they authenticate', () => {
    const file = tempFile();
    const c = config({ store: { type: 'file', file } });
    const one = CookieStore.open(c).store;
    const joe = one.track(undefined, noKick).cookie;
    joe.remember({ ...JOE, authextra: { x: 1 } });
    const gone = one.track(undefined, noKick).cookie;
    gone.remember({ ...JOE, authid: 'ann' });
    gone.logout();
    const records = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(records.map((r) => r.status), ['created', 'modified', 'created', 'modified', 'deleted']);
    assert.deepEqual(Object.keys(records[1]!).sort(), ['authextra', 'authid', 'authmethod', 'authrealm', 'authrole', 'cbtid', 'created', 'deleted', 'max_age', 'modified', 'status']);
    assert.equal(records[1]!.authid, 'joe');

    const { store: two, loaded } = CookieStore.open(c);
    assert.equal(loaded, 1);
    assert.deepEqual(two.principalOf(joe.id), { ...JOE, authextra: { x: 1 } });
    assert.equal(two.lookup(gone.id), undefined, 'a logout survives the restart');
    // The file was rewritten with the live cookie only.
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1);
  });

  it('reads an older Crossbar.io file ("id", no status; the crossbar-examples\' cookies.dat), skips garbage lines, drops expired cookies', () => {
    const file = tempFile();
    const now = new Date();
    const fresh = now.toISOString();
    writeFileSync(file, [
      // pubsub/retained/.crossbar/cookies.dat of crossbar-examples, long expired:
      '{"id": "/annWB29tNATWoF08QKFtD9B", "created": "2017-04-16T13:31:53.855Z", "max_age": 604800, "authid": null, "authrole": null, "authmethod": null, "authrealm": null, "authextra": null}',
      '{"id": "/annWB29tNATWoF08QKFtD9B", "modified": "2017-04-16T13:31:53.855Z", "max_age": 604800, "authid": "/annWB29tNATWoF08QKFtD9B", "authrole": "anonymous", "authmethod": "anonymous", "authrealm": "realm1", "authextra": null}',
      // the same shape, fresh:
      `{"id": "MXRQadHFItz75_-FSxk9g-xg", "created": "${fresh}", "max_age": 604800, "authid": null, "authrole": null, "authmethod": null}`,
      `{"id": "MXRQadHFItz75_-FSxk9g-xg", "modified": "${fresh}", "max_age": 604800, "authid": "joe", "authrole": "frontend", "authmethod": "wampcra", "authrealm": "realm1"}`,
      'not json',
      '{"cbtid": "bad value!", "created": "2020-01-01T00:00:00Z", "max_age": 1}',
      '[1,2]',
      '',
    ].join('\n'));
    const { store, loaded, skipped } = CookieStore.open(config({ store: { type: 'file', file } }));
    assert.equal(loaded, 1);
    assert.equal(skipped, 3);
    assert.deepEqual(store.principalOf('MXRQadHFItz75_-FSxk9g-xg'), JOE);
    assert.equal(store.lookup('/annWB29tNATWoF08QKFtD9B'), undefined);
  });

  it('stays bounded: the file is rewritten once dead records outnumber the live cookies', () => {
    const file = tempFile();
    const { store } = CookieStore.open(config({ store: { type: 'file', file }, maxCookies: 10 }));
    for (let i = 0; i < 5000; i++) store.track(undefined, noKick);
    assert.equal(store.size, 10);
    const lines = readFileSync(file, 'utf8').trim().split('\n').length;
    assert.ok(lines <= 2 * 10 + 1000 + 1, `${lines} lines`);
  });

  it('an unwritable file fails the start naming it', () => {
    assert.throws(() => CookieStore.open(config({ store: { type: 'file', file: '/nonexistent-dir/cookies.dat' } })), /cookie store \/nonexistent-dir\/cookies\.dat: ENOENT/);
  });
});
