/**
 * Origin headers read as Autobahn|Python's `_url_to_origin` reads them, and Crossbar.io's
 * wildcard patterns (`wildcards2patterns`), checked against the same strings Python builds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { originPattern, originPatternError, parseOrigin } from '../../../src/network/origin.js';
import { LOOPBACK_ORIGINS } from '../../../src/config/defaults.js';
import { prng } from '../../helpers/prng.js';

const rebuilt = (origin: string): string => {
  const o = parseOrigin(origin);
  return o === 'null' ? 'null' : `${o.scheme}://${o.host}:${o.port ?? 'None'}`;
};

describe('parseOrigin (Autobahn|Python _url_to_origin)', () => {
  it('lowercases scheme and host, fills the default port of http and https, strips IPv6 brackets', () => {
    assert.equal(rebuilt('http://Example.COM'), 'http://example.com:80');
    assert.equal(rebuilt('HTTPS://example.com'), 'https://example.com:443');
    assert.equal(rebuilt('http://localhost:5173'), 'http://localhost:5173');
    assert.equal(rebuilt('http://[::1]:8080'), 'http://::1:8080');
    assert.equal(rebuilt('http://user:pw@host.example:81'), 'http://host.example:81');
    assert.equal(rebuilt('chrome-extension://abcdef'), 'chrome-extension://abcdef:None');
    assert.equal(rebuilt('http://a.example:'), 'http://a.example:80');
  });

  it('reads "null" and file: origins as the null origin', () => {
    assert.equal(parseOrigin('null'), 'null');
    assert.equal(parseOrigin('NULL'), 'null');
    assert.equal(parseOrigin('file://'), 'null');
  });

  it('refuses an origin without a host, with a bad port or a bad IPv6 literal, naming the problem', () => {
    assert.throws(() => parseOrigin('http://'), /No host part in Origin 'http:\/\/'/);
    assert.throws(() => parseOrigin('evil'), /No host part/);
    assert.throws(() => parseOrigin('http://a.example:80x'), /Port could not be cast to integer value as '80x'/);
    assert.throws(() => parseOrigin('http://a.example:99999'), /Port could not be cast/);
    assert.throws(() => parseOrigin('http://[::1'), /Invalid IPv6 URL/);
    assert.throws(() => parseOrigin('http://[evil.example]:80'), /Invalid IPv6 URL/);
  });

  it('never throws anything but an Error on generated garbage', () => {
    const rnd = prng(11);
    const alphabet = 'htps:/[]@.:%0123456789abcdefxyz-_ \t?#';
    for (let i = 0; i < 20_000; i++) {
      const len = Math.floor(rnd() * 40);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        const o = parseOrigin(s);
        if (o !== 'null') assert.ok(o.host.length > 0);
      } catch (e) {
        assert.ok(e instanceof Error);
      }
    }
  });
});

describe("Crossbar.io's origin patterns", () => {
  const matches = (pattern: string, origin: string) => originPattern(pattern).test(rebuilt(origin));

  it('"*" matches anything, "." only a dot, and the whole origin must match', () => {
    assert.ok(matches('*', 'https://evil.example'));
    assert.ok(matches('https://*.example.com:*', 'https://app.example.com:8443'));
    assert.ok(!matches('https://*.example.com:*', 'https://example.com.evil.example'));
    assert.ok(!matches('https://*.example.com:*', 'http://app.example.com'), 'the scheme is part of the match');
    assert.ok(!matches('http://example.com:80', 'http://exampleXcom'));
    assert.ok(matches('http://example.com:80', 'http://example.com'), 'the default port is filled in');
    assert.ok(!matches('http://example.com', 'http://example.com'), 'without a port the pattern never matches: Crossbar.io matches "scheme://host:port"');
  });

  it('compiles the rest as a regular expression, as Crossbar.io does, and refuses one that does not compile', () => {
    assert.ok(matches('https?://a.example:*', 'http://a.example'));
    assert.ok(matches('https?://a.example:*', 'https://a.example'));
    assert.match(originPatternError('http://(a.example:*') ?? '', /"http:\/\/\(a\.example:\*" is not a valid origin pattern/);
    assert.equal(originPatternError('https://*.example.com'), undefined);
  });

  it('the embedded default allows exactly the loopback origins on any port', () => {
    const allowed = (o: string) => LOOPBACK_ORIGINS.some((p) => matches(p, o));
    for (const o of ['http://localhost:8080', 'https://localhost', 'http://127.0.0.1:5173', 'http://127.1.2.3', 'https://127.0.0.1:1', 'http://[::1]:3000', 'https://[::1]']) {
      assert.ok(allowed(o), o);
    }
    for (const o of [
      'https://evil.example', 'http://localhost.evil.example', 'http://127.0.0.1.evil.example', 'http://127.evil.example',
      'http://127.0.0.1.2', 'http://[::2]:80', 'ws://localhost:80', 'http://128.0.0.1', 'http://evil.example:80?x=localhost:1',
      'http://localhost@evil.example', 'http://10.0.0.1:8080',
    ]) {
      assert.ok(!allowed(o), o);
    }
  });
});
