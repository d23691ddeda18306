/**
 * Samples a node's counters every `interval` ms (an unref'd timer started by `start()`, stopped by
 * `stop()`): totals, per-second rates over the interval, the busiest topics. Reading is O(sessions +
 * tracked topics) per interval; nothing here runs per message. The node adapts the router to
 * `NodeSource`, so this layer knows nothing of WAMP.
 */
import type { StatsConfig } from '../config/types.js';
import { Histogram, LATENCY_BUCKETS_MS } from './histogram.js';
import { LatencyWindow } from './latency-window.js';
import { ProcessSampler } from './process-figures.js';
import type { RealmCounters } from './realm-counters.js';
import { type HistoryPoint, StatsHistory } from './history.js';
import type { BackplaneFigures, LatencyReport, NodeSnapshot, Rates, RealmSnapshot, Totals, WindowLatency } from './snapshot.js';
import type { TrafficSource } from './traffic.js';

export interface RealmSource {
  readonly name: string;
  sessions(): number;
  subscriptions(): number;
  registrations(): number;
  retainedTopics(): number;
  /** Traffic of this realm's sessions, the ended ones included. */
  traffic(): TrafficSource;
  readonly counters: RealmCounters | undefined;
}

export interface NodeSource {
  readonly nodeId: string;
  connections(): number;
  /** Traffic of every connection, the ended ones included. */
  traffic(): TrafficSource;
  realms(): Iterable<RealmSource>;
  backplane(): BackplaneFigures;
}

const ZERO: Totals = { messages_in: 0, messages_out: 0, bytes_in: 0, bytes_out: 0, dropped: 0, publications: 0, events: 0, meta_publications: 0, meta_events: 0, calls: 0 };

function totals(t: TrafficSource, c: RealmCounters | undefined): Totals {
  return {
    messages_in: t.messagesIn, messages_out: t.messagesOut, bytes_in: t.bytesIn, bytes_out: t.bytesOut, dropped: t.dropped,
    publications: c?.publications ?? 0, events: c?.events ?? 0,
    meta_publications: c?.metaPublications ?? 0, meta_events: c?.metaEvents ?? 0, calls: c?.calls ?? 0,
  };
}

function rates(now: Totals, before: Totals | undefined, seconds: number): Rates {
  const r = { ...ZERO };
  if (!before || seconds <= 0) return r;
  for (const k of Object.keys(r) as (keyof Totals)[]) r[k] = Math.max(0, now[k] - before[k]) / seconds;
  return r;
}

/** What an unmeasured realm reports: the same buckets and window, all empty. */
const NO_CALLS = new Histogram(LATENCY_BUCKETS_MS);
const NO_WINDOW = new LatencyWindow();

function windowLatency(windows: LatencyWindow[]): WindowLatency {
  const w = LatencyWindow.reportOf(windows, performance.now());
  return { window_s: NO_WINDOW.windowMs / 1000, window_count: w.count, mean_ms: w.mean, p50_ms: w.p50, p90_ms: w.p90, p99_ms: w.p99, max_ms: w.max };
}

function latency(h: Histogram = NO_CALLS, recent: LatencyWindow = NO_WINDOW): LatencyReport {
  return {
    count: h.count,
    sum_ms: h.sum,
    ...windowLatency([recent]),
    buckets: h.cumulative().map((b) => ({ le: Number.isFinite(b.le) ? b.le : null, count: b.count })),
  };
}

/** The console's charts show about ten minutes. */
const HISTORY_MS = 10 * 60_000;

function point(s: NodeSnapshot): HistoryPoint {
  const r = s.rates;
  return {
    time: Date.parse(s.time), sessions: s.sessions, connections: s.connections,
    publications: r.publications, events: r.events, meta_events: r.meta_events, calls: r.calls,
    messages_in: r.messages_in, messages_out: r.messages_out, bytes_in: r.bytes_in, bytes_out: r.bytes_out, dropped: r.dropped,
    call_p50_ms: s.call_latency.p50_ms, call_p99_ms: s.call_latency.p99_ms,
    cpu_percent: s.process.cpu_percent, rss_bytes: s.process.rss_bytes, event_loop_lag_p99_ms: s.process.event_loop_lag_p99_ms,
  };
}

export class StatsCollector {
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private last: { at: number; node: Totals; realms: Map<string, Totals> } | undefined;
  private latest: NodeSnapshot | undefined;
  private readonly process = new ProcessSampler();
  private readonly points: StatsHistory;
  /** Called after each sample (e.g. to publish `xbar.stats.on_update`). */
  onSample: ((s: NodeSnapshot) => void) | undefined;

  constructor(private readonly source: NodeSource, readonly config: StatsConfig) {
    this.points = new StatsHistory(Math.min(1200, Math.max(10, Math.ceil(HISTORY_MS / config.interval))));
  }

  /** One point per sample over the last minutes, oldest first (after `since`, ms since the epoch). */
  history(since?: number): HistoryPoint[] {
    return this.points.read(since);
  }

  start(): void {
    if (!this.config.enabled || this.timer) return;
    this.process.start();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.config.interval);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.process.stop();
  }

  /**
   * Counts and totals as of now; rates and busiest topics as of the last sample (a rate over a
   * few milliseconds would only be noise). With statistics off there are no rates.
   */
  snapshot(): NodeSnapshot {
    return this.build(Date.now(), false);
  }

  /** Closes an interval: rates since the previous sample, busiest topics. */
  sample(): NodeSnapshot {
    const s = this.build(Date.now(), true);
    this.latest = s;
    this.points.add(point(s));
    this.onSample?.(s);
    return s;
  }

  private latestRates(realm: string): Rates {
    return this.latest?.realms.find((r) => r.name === realm)?.rates ?? { ...ZERO };
  }

  private build(at: number, advance: boolean): NodeSnapshot {
    const seconds = this.last ? (at - this.last.at) / 1000 : 0;
    const realms: RealmSnapshot[] = [];
    const windows: LatencyWindow[] = [];
    const realmTotals = new Map<string, Totals>();
    const sum = { ...ZERO };
    let sessions = 0;
    for (const r of this.source.realms()) {
      const c = r.counters;
      if (c) windows.push(c.recent);
      if (advance && seconds > 0) c?.topics.sample(seconds);
      const t = totals(r.traffic(), c);
      realmTotals.set(r.name, t);
      sum.publications += t.publications;
      sum.events += t.events;
      sum.meta_publications += t.meta_publications;
      sum.meta_events += t.meta_events;
      sum.calls += t.calls;
      const n = r.sessions();
      sessions += n;
      realms.push({
        name: r.name, sessions: n, subscriptions: r.subscriptions(), registrations: r.registrations(),
        calls_in_flight: c?.callsInFlight ?? 0, retained_topics: r.retainedTopics(),
        totals: t, rates: advance ? rates(t, this.last?.realms.get(r.name), seconds) : this.latestRates(r.name),
        top_topics: c?.topics.busiest() ?? [], call_latency: latency(c?.latency, c?.recent),
      });
    }
    const node: Totals = {
      ...totals(this.source.traffic(), undefined),
      publications: sum.publications, events: sum.events, meta_publications: sum.meta_publications, meta_events: sum.meta_events, calls: sum.calls,
    };
    const snapshot: NodeSnapshot = {
      node: this.source.nodeId,
      time: new Date(at).toISOString(),
      uptime_s: (at - this.started) / 1000,
      enabled: this.config.enabled,
      interval_ms: this.config.interval,
      backplane: this.source.backplane(),
      connections: this.source.connections(),
      sessions,
      totals: node,
      rates: advance ? rates(node, this.last?.node, seconds) : (this.latest?.rates ?? { ...ZERO }),
      call_latency: windowLatency(windows),
      process: advance ? this.process.sample() : this.process.figures(),
      realms,
    };
    if (advance) this.last = { at, node, realms: realmTotals };
    return snapshot;
  }
}
