/** `StatsHistory`: a bounded ring of sample points, read oldest first, `since` for the newer ones. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type HistoryPoint, StatsHistory } from '../../../src/stats/history.js';

const at = (time: number): HistoryPoint => ({
  time, sessions: time, connections: 0, publications: 0, events: 0, meta_events: 0, calls: 0, messages_in: 0, messages_out: 0,
  bytes_in: 0, bytes_out: 0, dropped: 0, call_p50_ms: null, call_p99_ms: null, cpu_percent: null, rss_bytes: 0, event_loop_lag_p99_ms: null,
});

describe('statistics history', () => {
  it('keeps the last `capacity` points, oldest first', () => {
    const h = new StatsHistory(3);
    assert.deepEqual(h.read(), []);
    h.add(at(1));
    h.add(at(2));
    assert.deepEqual(h.read().map((p) => p.time), [1, 2]);
    for (const t of [3, 4, 5, 6, 7]) h.add(at(t));
    assert.deepEqual(h.read().map((p) => p.time), [5, 6, 7]);
  });

  it('gives only the points after `since`', () => {
    const h = new StatsHistory(10);
    for (const t of [10, 20, 30, 40]) h.add(at(t));
    assert.deepEqual(h.read(20).map((p) => p.time), [30, 40]);
    assert.deepEqual(h.read(40), []);
    assert.deepEqual(h.read(0).length, 4);
  });
});
