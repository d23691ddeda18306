import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryPoint } from '../../../src/stats/history.js';
import { mergeHistories, mergeNodeSnapshots } from '../../../src/stats/node-merge.js';
import type { NodeSnapshot, RealmSnapshot, Totals } from '../../../src/stats/snapshot.js';

const totals = (n: number): Totals => ({ messages_in: n, messages_out: n, bytes_in: n, bytes_out: n, dropped: 0, publications: n, events: n, meta_publications: 0, meta_events: 0, calls: n });

function realm(sessions: number, topics: [string, number][], p99: number | null, buckets: number[]): RealmSnapshot {
  return {
    name: 'r', sessions, subscriptions: sessions, registrations: 3, calls_in_flight: 1, retained_topics: 2, totals: totals(sessions), rates: totals(sessions),
    top_topics: topics.map(([topic, events_per_s]) => ({ topic, events_per_s, publications_per_s: 0, publications: 0, events: 0 })),
    call_latency: {
      window_s: 60, window_count: 2, mean_ms: p99, p50_ms: p99, p90_ms: p99, p99_ms: p99, max_ms: p99,
      count: buckets.at(-1)!, sum_ms: 10, buckets: buckets.map((count, i) => ({ le: i === buckets.length - 1 ? null : i + 1, count })),
    },
  };
}

function snapshot(node: string, sessions: number, uptime: number, r: RealmSnapshot): NodeSnapshot {
  return {
    node, time: new Date(0).toISOString(), uptime_s: uptime, enabled: true, interval_ms: 1000, backplane: { health: 'ready', members: 2 },
    connections: sessions, sessions, totals: totals(sessions), rates: totals(sessions),
    call_latency: r.call_latency,
    process: { pid: uptime, uptime_s: uptime, cpu_percent: 10, rss_bytes: 100, heap_used_bytes: 1, heap_total_bytes: 2, event_loop_lag_mean_ms: 1, event_loop_lag_p99_ms: uptime, event_loop_lag_max_ms: uptime, gc_ms_per_s: null, gc_count: 1 },
    realms: [r],
  };
}

describe('mergeNodeSnapshots (--workers N)', () => {
  it('adds up counts, keeps what each worker sees whole, merges busiest topics and latency buckets', () => {
    const a = snapshot('w0', 2, 5, realm(2, [['t.a', 5], ['t.b', 1]], 4, [1, 2]));
    const b = snapshot('w1', 3, 9, realm(3, [['t.b', 7]], 9, [0, 3]));
    const s = mergeNodeSnapshots(a, 0, new Map([[1, b]]), [
      { index: 0, pid: 5, state: 'up', restarts: 0 }, { index: 1, pid: 9, state: 'up', restarts: 1 },
    ]);
    assert.equal(s.sessions, 5);
    assert.equal(s.totals.calls, 5);
    const r = s.realms[0]!;
    assert.equal(r.sessions, 5);
    assert.equal(r.registrations, 3, 'one registry for every worker: not summed');
    assert.equal(r.retained_topics, 2);
    assert.deepEqual(r.top_topics.map((t) => [t.topic, t.events_per_s]), [['t.b', 8], ['t.a', 5]]);
    assert.deepEqual(r.call_latency.buckets.map((x) => x.count), [1, 5]);
    assert.equal(r.call_latency.p99_ms, 9, 'percentiles: the slowest worker\'s');
    assert.equal(s.uptime_s, 9, 'the oldest worker\'s uptime');
    assert.equal(s.process.rss_bytes, 200);
    assert.equal(s.process.cpu_percent, 20);
    assert.equal(s.process.event_loop_lag_p99_ms, 9);
    assert.deepEqual(s.workers?.map((w) => [w.index, w.answered, w.sessions, w.restarts]), [[0, true, 2, 0], [1, true, 3, 1]]);
  });

  it('lists a worker that is down or did not answer, without its figures', () => {
    const a = snapshot('w0', 2, 5, realm(2, [], null, [0, 0]));
    const s = mergeNodeSnapshots(a, 0, new Map(), [{ index: 0, pid: 5, state: 'up', restarts: 0 }, { index: 1, pid: null, state: 'restarting', restarts: 1 }]);
    assert.equal(s.sessions, 2);
    assert.deepEqual(s.workers, [
      { index: 0, pid: 5, state: 'up', restarts: 0, answered: true, node: 'w0', uptime_s: 5, connections: 2, sessions: 2, totals: a.totals, rates: a.rates, process: a.process },
      { index: 1, pid: null, state: 'restarting', restarts: 1, answered: false },
    ]);
  });
});

describe('mergeHistories (--workers N)', () => {
  const point = (time: number, sessions: number, p99: number | null): HistoryPoint => ({
    time, sessions, connections: sessions, publications: 1, events: 2, meta_events: 0, calls: 1, messages_in: 1, messages_out: 1, bytes_in: 1, bytes_out: 1,
    dropped: 0, call_p50_ms: p99, call_p99_ms: p99, cpu_percent: 5, rss_bytes: 10, event_loop_lag_p99_ms: 1,
  });
  it('adds each other worker\'s point nearest in time (within half an interval) to the answering worker\'s', () => {
    const merged = mergeHistories([point(1000, 1, 2), point(2000, 1, null)], [[point(1100, 2, 7), point(2600, 5, 1)]], 1000);
    assert.deepEqual(merged.map((p) => [p.time, p.sessions, p.events, p.call_p99_ms, p.cpu_percent]), [[1000, 3, 4, 7, 10], [2000, 1, 2, null, 5]]);
  });
});
