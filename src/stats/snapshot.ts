/**
 * The shape of a statistics report, as `/stats.json`, `xbar.stats.get` and
 * `xbar.stats.on_update` carry it. Totals count since the node started; rates are per second over
 * the last sampling interval.
 */
import type { ProcessFigures } from './process-figures.js';
import type { TopicRate } from './topic-rates.js';

export interface Totals {
  messages_in: number;
  messages_out: number;
  bytes_in: number;
  bytes_out: number;
  /** Events dropped for slow consumers. */
  dropped: number;
  /** Publications made on this node by its clients (testaments included), not the router's own topics. */
  publications: number;
  /** EVENTs of those and other nodes' publications sent to this node's subscribers. */
  events: number;
  /** The router's own publications made on this node: meta events (`wamp.*`) and `xbar.stats.on_update`. */
  meta_publications: number;
  /** EVENTs of the router's own topics sent to this node's subscribers. */
  meta_events: number;
  /** Calls from this node's callers. */
  calls: number;
}

export type Rates = { [K in keyof Totals]: number };

export interface WindowLatency {
  /** Length of the recent window the figures below cover (the last minute, in 10 s steps). */
  readonly window_s: number;
  /** Calls measured in that window. */
  readonly window_count: number;
  /** Latency percentiles, mean and maximum over the window (ms, HDR histogram: 3 significant figures); null while no call ended in it. */
  readonly mean_ms: number | null;
  readonly p50_ms: number | null;
  readonly p90_ms: number | null;
  readonly p99_ms: number | null;
  readonly max_ms: number | null;
}

export interface LatencyReport extends WindowLatency {
  /** Calls measured since the node started, and their summed latency (Prometheus). */
  readonly count: number;
  readonly sum_ms: number;
  /** Cumulative counts per upper bound (ms) since the node started; the last bound is null (+Inf). */
  readonly buckets: readonly { le: number | null; count: number }[];
}

export interface RealmSnapshot {
  readonly name: string;
  readonly sessions: number;
  readonly subscriptions: number;
  readonly registrations: number;
  readonly calls_in_flight: number;
  readonly retained_topics: number;
  readonly totals: Totals;
  readonly rates: Rates;
  readonly top_topics: readonly TopicRate[];
  readonly call_latency: LatencyReport;
}

/** A node of the node directory as /stats.json and `xbar.cluster.nodes` show it. */
export interface NodeView {
  readonly node: string;
  readonly addresses: readonly string[];
  readonly state: string;
  readonly sessions: number;
  readonly connections: number;
  readonly cpu_percent: number;
  readonly queued_bytes: number;
  readonly started_at: string;
  readonly seen_at: string;
}

/** The backplane's state; the counts only on a cluster (NATS) backplane. */
export interface BackplaneFigures {
  readonly health: string;
  readonly members: number;
  /** The node directory: every live node that advertised, this one first. */
  readonly nodes?: readonly NodeView[];
  /** Sessions refused by cluster.max_sessions, by where: at HELLO (ABORT) and at the WebSocket upgrade (503). */
  readonly sessions_refused?: { readonly hello: number; readonly websocket_upgrade: number };
  /** Sessions closed to move them to lighter nodes (cluster.shed). */
  readonly sessions_shed?: number;
  /** Bytes of recent publications kept for resending and replay after an outage. */
  readonly replay_buffer_bytes?: number;
  /** Publications pushed out of that buffer by its byte bound before their window ended. */
  readonly replay_overflowed?: number;
}

/**
 * One worker of `xbar start --workers N` in its node's report: the slot's state as the primary
 * sees it and, when it answered in time, its own figures.
 */
export interface WorkerView {
  readonly index: number;
  readonly pid: number | null;
  /** starting, up, restarting (it died) or unresponsive (it stopped answering the heartbeat). */
  readonly state: string;
  readonly restarts: number;
  /** Whether its figures below are in this report (false: down, or it did not answer in time). */
  readonly answered: boolean;
  readonly node?: string;
  readonly uptime_s?: number;
  readonly connections?: number;
  readonly sessions?: number;
  readonly totals?: Totals;
  readonly rates?: Rates;
  readonly process?: ProcessFigures;
}

export interface NodeSnapshot {
  readonly node: string;
  readonly time: string;
  readonly uptime_s: number;
  /** false: statistics are off; only the structural counts are real. */
  readonly enabled: boolean;
  readonly interval_ms: number;
  readonly backplane: BackplaneFigures;
  readonly connections: number;
  readonly sessions: number;
  readonly totals: Totals;
  readonly rates: Rates;
  /** Call latency over the last minute, every realm's calls together. */
  readonly call_latency: WindowLatency;
  /** The node process: CPU, memory, event-loop lag and GC over the last interval. */
  readonly process: ProcessFigures;
  readonly realms: readonly RealmSnapshot[];
  /**
   * With `--workers N`: every worker. The figures above are then the node's, the answering
   * workers' summed (see stats/node-merge.ts for what does not add up).
   */
  readonly workers?: readonly WorkerView[];
}
