/**
 * Call latency percentiles over the last minute (`LatencyWindow`): known latencies in, the real
 * percentiles out (HDR: within 0.1 %), and values older than the window forgotten. Time is
 * passed in, so the window is tested on a made-up clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencyWindow } from '../../../src/stats/latency-window.js';
import { RealmCounters } from '../../../src/stats/realm-counters.js';

/** `actual` within 0.1 % (3 significant figures) plus a microsecond of `expected`. */
function near(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= expected * 0.001 + 0.001, `${what}: ${actual}, expected ${expected}`);
}

describe('latency percentiles over a recent window', () => {
  it('reports the percentiles of the latencies recorded, not bucket bounds', () => {
    const w = new LatencyWindow(60_000, 6);
    // 1, 2, … 1000 ms in shuffled order.
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    for (let i = values.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [values[i], values[j]] = [values[j]!, values[i]!];
    }
    values.forEach((v, i) => w.record(v, 1000 + i));
    const r = w.report(2000);
    assert.equal(r.count, 1000);
    near(r.p50, 500, 'p50');
    near(r.p90, 900, 'p90');
    near(r.p99, 990, 'p99');
    near(r.max, 1000, 'max');
    near(r.mean, 500.5, 'mean');
  });

  it('gives 12 ms for calls of 12 ms (buckets said 25), with sub-millisecond precision', () => {
    const w = new LatencyWindow();
    for (let i = 0; i < 100; i++) w.record(12, i);
    for (let i = 0; i < 100; i++) w.record(0.35, i);
    const r = w.report(100);
    near(r.p99, 12, 'p99');
    near(r.p50, 0.35, 'p50');
    near(r.mean, (12 + 0.35) / 2, 'mean');
  });

  it('forgets what is older than the window, a slot at a time', () => {
    const w = new LatencyWindow(60_000, 6);
    w.record(100, 0); // slot [0, 10 s)
    w.record(5, 15_000); // slot [10 s, 20 s)
    assert.equal(w.report(15_000).count, 2);
    near(w.report(59_999).max, 100, 'still in the window at 59.999 s');
    // At 60 s the slot of t=0 is cleared: only the 5 ms call remains.
    const r = w.report(60_000);
    assert.equal(r.count, 1);
    near(r.p99, 5, 'p99 after the slow call left the window');
    assert.equal(w.report(70_000).count, 0);
    assert.deepEqual(w.report(70_000), { count: 0, mean: null, p50: null, p90: null, p99: null, max: null });
  });

  it('starts afresh after a long quiet time', () => {
    const w = new LatencyWindow(60_000, 6);
    for (let i = 0; i < 50; i++) w.record(40, i * 1000);
    w.record(3, 10 * 60_000);
    const r = w.report(10 * 60_000);
    assert.equal(r.count, 1);
    near(r.p50, 3, 'p50');
  });

  it('is what a realm\'s call counters fill', () => {
    const c = new RealmCounters({ maxTopics: 10, topTopics: 5 });
    const started = c.callStarted();
    c.callEnded(started);
    assert.equal(c.recent.report(performance.now()).count, 1);
    assert.equal(c.latency.count, 1);
    assert.equal(c.callsInFlight, 0);
  });
});
