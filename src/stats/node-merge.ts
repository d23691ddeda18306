/**
 * The report of a node of N workers (`xbar start --workers N`) from each worker's own: counts,
 * totals and rates add up; what every worker sees whole (the registry, retained events) is the
 * largest worker's figure, not a sum. Latency percentiles cannot be merged from percentiles: the
 * node's are the slowest worker's (an upper bound); counts, sums and histogram buckets add up.
 * Process figures: CPU, memory and GC summed over the workers, event-loop lag the worst.
 */
import type { HistoryPoint } from './history.js';
import type { ProcessFigures } from './process-figures.js';
import type { LatencyReport, NodeSnapshot, Rates, RealmSnapshot, Totals, WindowLatency, WorkerView } from './snapshot.js';
import type { TopicRate } from './topic-rates.js';

/** A slot of the node as the primary told it (multicore/node-channel.ts WorkerStatus). */
export interface WorkerSlot {
  readonly index: number;
  readonly pid: number | null;
  readonly state: string;
  readonly restarts: number;
}

function addUp<T extends object>(items: readonly T[]): T {
  const out: Record<string, number> = {};
  for (const item of items) for (const [k, v] of Object.entries(item)) out[k] = (out[k] ?? 0) + (typeof v === 'number' ? v : 0);
  return out as T;
}

const max = (xs: readonly (number | null)[]): number | null => xs.reduce<number | null>((m, x) => (x === null ? m : m === null ? x : Math.max(m, x)), null);
const sumOrNull = (xs: readonly (number | null)[]): number | null => xs.reduce<number | null>((m, x) => (x === null ? m : (m ?? 0) + x), null);

function windowOf(ws: readonly WindowLatency[]): WindowLatency {
  const count = ws.reduce((n, w) => n + w.window_count, 0);
  const weighted = ws.reduce((n, w) => n + (w.mean_ms ?? 0) * w.window_count, 0);
  return {
    window_s: ws[0]?.window_s ?? 60, window_count: count, mean_ms: count > 0 ? weighted / count : null,
    p50_ms: max(ws.map((w) => w.p50_ms)), p90_ms: max(ws.map((w) => w.p90_ms)), p99_ms: max(ws.map((w) => w.p99_ms)), max_ms: max(ws.map((w) => w.max_ms)),
  };
}

function latencyOf(ls: readonly LatencyReport[]): LatencyReport {
  const buckets = (ls[0]?.buckets ?? []).map((b, i) => ({ le: b.le, count: ls.reduce((n, l) => n + (l.buckets[i]?.count ?? 0), 0) }));
  return { ...windowOf(ls), count: ls.reduce((n, l) => n + l.count, 0), sum_ms: ls.reduce((n, l) => n + l.sum_ms, 0), buckets };
}

function topicsOf(lists: readonly (readonly TopicRate[])[]): TopicRate[] {
  const by = new Map<string, TopicRate>();
  for (const list of lists) {
    for (const t of list) {
      const had = by.get(t.topic);
      by.set(t.topic, had ? {
        topic: t.topic, publications_per_s: had.publications_per_s + t.publications_per_s, events_per_s: had.events_per_s + t.events_per_s,
        publications: had.publications + t.publications, events: had.events + t.events,
      } : t);
    }
  }
  const keep = Math.max(0, ...lists.map((l) => l.length));
  return [...by.values()].sort((a, b) => b.events_per_s - a.events_per_s || b.publications_per_s - a.publications_per_s).slice(0, keep);
}

function realmsOf(snapshots: readonly NodeSnapshot[]): RealmSnapshot[] {
  const by = new Map<string, RealmSnapshot[]>();
  for (const s of snapshots) for (const r of s.realms) by.set(r.name, [...(by.get(r.name) ?? []), r]);
  return [...by.entries()].map(([name, rs]) => ({
    name,
    sessions: rs.reduce((n, r) => n + r.sessions, 0),
    subscriptions: rs.reduce((n, r) => n + r.subscriptions, 0),
    registrations: Math.max(...rs.map((r) => r.registrations)),
    calls_in_flight: rs.reduce((n, r) => n + r.calls_in_flight, 0),
    retained_topics: Math.max(...rs.map((r) => r.retained_topics)),
    totals: addUp(rs.map((r) => r.totals)),
    rates: addUp(rs.map((r) => r.rates)),
    top_topics: topicsOf(rs.map((r) => r.top_topics)),
    call_latency: latencyOf(rs.map((r) => r.call_latency)),
  }));
}

function processOf(ps: readonly ProcessFigures[], oldest: ProcessFigures): ProcessFigures {
  return {
    pid: oldest.pid, uptime_s: oldest.uptime_s,
    cpu_percent: sumOrNull(ps.map((p) => p.cpu_percent)),
    rss_bytes: ps.reduce((n, p) => n + p.rss_bytes, 0),
    heap_used_bytes: ps.reduce((n, p) => n + p.heap_used_bytes, 0),
    heap_total_bytes: ps.reduce((n, p) => n + p.heap_total_bytes, 0),
    event_loop_lag_mean_ms: max(ps.map((p) => p.event_loop_lag_mean_ms)),
    event_loop_lag_p99_ms: max(ps.map((p) => p.event_loop_lag_p99_ms)),
    event_loop_lag_max_ms: max(ps.map((p) => p.event_loop_lag_max_ms)),
    gc_ms_per_s: sumOrNull(ps.map((p) => p.gc_ms_per_s)),
    gc_count: ps.reduce((n, p) => n + p.gc_count, 0),
  };
}

/**
 * The node's report: `mine` is the answering worker's own (its answer may be missing from
 * `answers` if the primary did not reach it), `answers` every worker's that came in time.
 */
export function mergeNodeSnapshots(mine: NodeSnapshot, myIndex: number, answers: ReadonlyMap<number, NodeSnapshot>, slots: readonly WorkerSlot[]): NodeSnapshot {
  const by = new Map(answers);
  by.set(myIndex, mine);
  const indexes = new Set([...slots.map((s) => s.index), ...by.keys()]);
  const workers: WorkerView[] = [...indexes].sort((a, b) => a - b).map((index) => {
    const slot = slots.find((s) => s.index === index);
    const s = by.get(index);
    const status = { index, pid: slot?.pid ?? s?.process.pid ?? null, state: slot?.state ?? 'up', restarts: slot?.restarts ?? 0 };
    if (!s) return { ...status, answered: false };
    return {
      ...status, answered: true, node: s.node, uptime_s: s.uptime_s, connections: s.connections, sessions: s.sessions,
      totals: s.totals, rates: s.rates, process: s.process,
    };
  });
  const all = [...by.values()];
  const oldest = all.reduce((a, b) => (b.uptime_s > a.uptime_s ? b : a));
  return {
    ...mine,
    uptime_s: oldest.uptime_s,
    connections: all.reduce((n, s) => n + s.connections, 0),
    sessions: all.reduce((n, s) => n + s.sessions, 0),
    totals: addUp<Totals>(all.map((s) => s.totals)),
    rates: addUp<Rates>(all.map((s) => s.rates)),
    call_latency: windowOf(all.map((s) => s.call_latency)),
    process: processOf(all.map((s) => s.process), oldest.process),
    realms: realmsOf(all),
    workers,
  };
}

/**
 * The node's chart points: the answering worker's points, each with every other worker's point
 * nearest in time (within one interval) added in; latencies and lag the worst, as above.
 */
export function mergeHistories(mine: readonly HistoryPoint[], others: readonly (readonly HistoryPoint[])[], intervalMs: number): HistoryPoint[] {
  return mine.map((p) => {
    const near = others.map((list) => nearest(list, p.time, intervalMs)).filter((x): x is HistoryPoint => x !== undefined);
    if (near.length === 0) return p;
    const all = [p, ...near];
    const sum = (k: 'sessions' | 'connections' | 'publications' | 'events' | 'meta_events' | 'calls' | 'messages_in' | 'messages_out' | 'bytes_in' | 'bytes_out' | 'dropped' | 'rss_bytes') =>
      all.reduce((n, x) => n + x[k], 0);
    return {
      time: p.time, sessions: sum('sessions'), connections: sum('connections'), publications: sum('publications'), events: sum('events'),
      meta_events: sum('meta_events'), calls: sum('calls'), messages_in: sum('messages_in'), messages_out: sum('messages_out'),
      bytes_in: sum('bytes_in'), bytes_out: sum('bytes_out'), dropped: sum('dropped'),
      call_p50_ms: max(all.map((x) => x.call_p50_ms)), call_p99_ms: max(all.map((x) => x.call_p99_ms)),
      cpu_percent: sumOrNull(all.map((x) => x.cpu_percent)), rss_bytes: sum('rss_bytes'), event_loop_lag_p99_ms: max(all.map((x) => x.event_loop_lag_p99_ms)),
    };
  });
}

function nearest(points: readonly HistoryPoint[], time: number, within: number): HistoryPoint | undefined {
  let best: HistoryPoint | undefined;
  for (const q of points) if (Math.abs(q.time - time) <= within / 2 && (!best || Math.abs(q.time - time) < Math.abs(best.time - time))) best = q;
  return best;
}
