import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessCodes } from '../../../src/relay/access-codes.js';
import { DenyList } from '../../../src/relay/deny-list.js';
import { RelayRefusal } from '../../../src/relay/errors.js';
import { Flow } from '../../../src/relay/flow.js';
import { frame } from '../../../src/relay/frame.js';
import { parseRoute } from '../../../src/relay/route.js';
import { checkGrant, grantOf } from '../../../src/relay/token.js';
import { parseServerFrames } from '../../helpers/ws-frames.js';

describe('relay frame', () => {
  it('frames that ws parses back to the same payload and type; small ones in one buffer, large ones by reference', () => {
    for (const size of [0, 1, 125, 126, 65535, 65536, 70_000, 1 << 20]) {
      for (const binary of [false, true]) {
        const payload = Buffer.alloc(size, 'a');
        const f = frame(payload, binary);
        assert.equal(f.size, size);
        assert.equal(f.wireBytes, f.buffers.reduce((n, b) => n + b.length, 0));
        assert.equal(f.buffers.length, size > 64 * 1024 ? 2 : 1);
        if (size > 64 * 1024) assert.equal(f.buffers[1], payload, 'the payload is not copied');
        const [m] = parseServerFrames(f.buffers);
        assert.deepEqual([m!.data.equals(payload), m!.binary], [true, binary]);
      }
    }
  });
});

describe('relay routes', () => {
  it('reads practable paths', () => {
    assert.deepEqual(parseRoute('expt'), { kind: 'topic', path: 'expt', channel: 'expt', writable: true });
    assert.deepEqual(parseRoute('in/demo'), { kind: 'topic', path: 'in/demo', channel: 'out/demo', writable: true });
    assert.deepEqual(parseRoute('out/demo'), { kind: 'topic', path: 'out/demo', channel: 'out/demo', writable: false });
    assert.deepEqual(parseRoute('session/abc-1_2'), { kind: 'topic', path: 'session/abc-1_2', channel: 'session/abc-1_2', writable: true });
    assert.deepEqual(parseRoute('in/a/b'), { kind: 'topic', path: 'in/a/b', channel: 'out/a/b', writable: true });
    assert.deepEqual(parseRoute('stats'), { kind: 'stats' });
    assert.deepEqual(parseRoute('bids/deny'), { kind: 'api', path: 'bids/deny' });
  });

  it('refuses empty, reserved and malformed paths with a status', () => {
    const status = (p: string) => {
      try {
        parseRoute(p);
      } catch (e) {
        return (e as RelayRefusal).status;
      }
      return 0;
    };
    assert.deepEqual(['', 'in', 'out', 'stats/x', 'a b', 'a//b', 'a/../b', '.', 'x'.repeat(257)].map(status), [404, 404, 404, 404, 400, 400, 400, 400, 414]);
  });
});

describe('relay flow statistics', () => {
  it('reports never-used flows as practable does ("last" null, zeros)', () => {
    assert.deepEqual(new Flow().report(1000), { last: null, size: 0, fps: 0, count: 0, bytes: 0, dropped: 0 });
  });

  it('measures mean size, recent rate and time since the last message', () => {
    const f = new Flow();
    for (let i = 0; i < 60; i++) f.record(i % 2 === 0 ? 1000 : 3000, i * (1000 / 30));
    const now = 59 * (1000 / 30) + 10;
    const r = f.report(now);
    assert.deepEqual([r.count, r.bytes, r.size, r.last], [60, 120_000, 2000, 0.01]);
    assert.ok(Math.abs(r.fps - 30) < 0.5, `fps ${r.fps}`);
  });

  it('lets the rate fall when the flow stops', () => {
    const f = new Flow();
    for (let i = 0; i < 10; i++) f.record(10, i * 100);
    assert.ok(Math.abs(f.report(900).fps - 10) < 0.1);
    assert.equal(f.report(900 + 5000).fps, 0.2);
  });
});

describe('relay access codes', () => {
  it('are single use and expire after their TTL', () => {
    let now = 0;
    const codes = new AccessCodes<string>(30_000, () => now);
    const a = codes.issue('grant a');
    const b = codes.issue('grant b');
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9_-]{24}$/);
    assert.equal(codes.take(a), 'grant a');
    assert.equal(codes.take(a), undefined, 'used');
    now = 30_000;
    assert.equal(codes.take(b), undefined, 'expired');
    assert.equal(codes.take('made-up'), undefined);
  });

  it('sweeps expired codes as new ones are issued, and revokes by value', () => {
    let now = 0;
    const codes = new AccessCodes<{ booking: string }>(1000, () => now);
    for (let i = 0; i < 100; i++) codes.issue({ booking: i % 2 === 0 ? 'x' : 'y' });
    codes.revoke((g) => g.booking === 'x');
    assert.equal(codes.size, 50);
    now = 2000;
    codes.issue({ booking: 'z' });
    assert.equal(codes.size, 1);
  });
});

describe('relay deny-list', () => {
  it('denies until the given time, lists live entries and lifts denials', () => {
    let now = 0;
    const d = new DenyList(() => now);
    d.deny('b1', 10_000);
    d.deny('b2', 5_000);
    assert.equal(d.isDenied('b1'), true);
    assert.equal(d.isDenied(undefined), false);
    assert.deepEqual(d.list(), [{ booking_id: 'b1', exp: 10 }, { booking_id: 'b2', exp: 5 }]);
    now = 6_000;
    assert.equal(d.isDenied('b2'), false, 'lapsed');
    assert.equal(d.allow('b1'), true);
    assert.equal(d.isDenied('b1'), false);
    assert.deepEqual(d.list(), []);
  });
});

describe('relay token claims', () => {
  it('reads practable claims (prefix/topic, scopes, booking_id, exp, nbf) and OAuth-style scope strings', () => {
    assert.deepEqual(grantOf({ topic: 'abc', prefix: 'session', scopes: ['read'], booking_id: 'b', exp: 10, nbf: 5 }), {
      path: 'session/abc', read: true, write: false, scopes: ['read'], bookingId: 'b', expiresAt: 10_000, notBefore: 5000,
    });
    assert.deepEqual(grantOf({ topic: 'x', scope: 'write  read' }), { path: 'x', read: true, write: true, scopes: ['write', 'read'] });
  });

  it('refuses tokens without the relay claims', () => {
    const refusal = (p: Record<string, unknown>) => {
      try {
        grantOf(p);
      } catch (e) {
        return [(e as RelayRefusal).status, (e as RelayRefusal).message];
      }
      return undefined;
    };
    assert.deepEqual(refusal({ scopes: ['read'] }), [401, 'token has no "topic" claim']);
    assert.deepEqual(refusal({ topic: 't' }), [403, 'token has no "scopes" claim']);
    assert.deepEqual(refusal({ topic: 't', scopes: 'read' }), [401, 'token claim "scopes" must be a list of strings']);
    assert.deepEqual(refusal({ topic: 't', scopes: ['host'] }), [403, 'token grants neither "read" nor "write" scope']);
    assert.deepEqual(refusal({ topic: 't', scopes: ['read'], booking_id: 7 }), [401, 'token claim "booking_id" must be a string']);
  });

  it('checks a grant again for topic and time when a code is used', () => {
    const g = grantOf({ topic: 't', scopes: ['read'], exp: 100, nbf: 10 });
    assert.doesNotThrow(() => checkGrant(g, 't', 50_000));
    assert.throws(() => checkGrant(g, 't', 100_000), /token expired/);
    assert.throws(() => checkGrant(g, 't', 9_000), /not valid yet/);
    assert.throws(() => checkGrant(g, 'u', 50_000), /token is for topic "t", not "u"/);
  });
});
