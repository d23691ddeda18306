/** The per-address limiters, with an injected clock: no sleeps. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionLimiter, FailureLimiter, clientKey } from '../../../src/auth/rate-limit.js';

describe('clientKey', () => {
  it('keeps IPv4 addresses, unwraps IPv4-mapped IPv6 and groups IPv6 by /64', () => {
    assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:0db8:0001:0002::/64');
    assert.equal(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:0db8:0001:0002::/64');
    assert.equal(clientKey('::1'), '0000:0000:0000:0000::/64');
    assert.equal(clientKey('unix'), 'unix');
  });
});

describe('ConnectionLimiter', () => {
  it('admits a burst, then refills at the rate, per address', () => {
    let now = 0;
    const l = new ConnectionLimiter({ rate: 2, burst: 3 }, () => now);
    assert.deepEqual([1, 2, 3, 4, 5].map(() => l.admit('10.0.0.1')), ['ok', 'ok', 'ok', 'first-refusal', 'refused']);
    assert.equal(l.admit('10.0.0.2'), 'ok');
    now = 500; // half a second: one token at 2/s
    assert.deepEqual([l.admit('10.0.0.1'), l.admit('10.0.0.1')], ['ok', 'first-refusal']);
    now = 10_000;
    assert.deepEqual([1, 2, 3, 4].map(() => l.admit('10.0.0.1')), ['ok', 'ok', 'ok', 'first-refusal']);
  });
});

describe('FailureLimiter', () => {
  it('blocks after max failures within the window, for the block time', () => {
    let now = 0;
    const l = new FailureLimiter({ max: 3, window: 1000, block: 5000 }, () => now);
    assert.equal(l.fail('10.0.0.1'), false);
    now = 600;
    assert.equal(l.fail('10.0.0.1'), false);
    now = 1200; // the first failure left the window
    assert.equal(l.fail('10.0.0.1'), false);
    assert.equal(l.blocked('10.0.0.1').ms, 0);
    now = 1300;
    assert.equal(l.fail('10.0.0.1'), true);
    assert.deepEqual(l.blocked('10.0.0.1'), { ms: 5000, refused: 1 });
    assert.deepEqual(l.blocked('10.0.0.1'), { ms: 5000, refused: 2 });
    assert.equal(l.blocked('10.0.0.2').ms, 0);
    now = 6300;
    assert.equal(l.blocked('10.0.0.1').ms, 0);
  });

  it('treats every address of an IPv6 /64 as one client', () => {
    const l = new FailureLimiter({ max: 2, window: 1000, block: 1000 }, () => 0);
    l.fail('2001:db8::1');
    assert.equal(l.fail('2001:db8::2'), true);
    assert.ok(l.blocked('2001:db8::ffff').ms > 0);
  });
});
