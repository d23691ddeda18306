/**
 * The `metrics` path service: Prometheus text exposition through prom-client. Nothing is updated
 * per message: every metric is filled from the node's own counters when scraped (`collect`), and
 * the call-duration histogram is exported straight from its fixed buckets. The process's figures
 * (prom-client's default metrics: process_*, nodejs_*) follow the node's.
 */
import { AggregatorRegistry, type Aggregator, collectDefaultMetrics, Counter, Gauge, type Metric, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client';
import type { NodeWorkers, WorkerStatus } from '../multicore/node-channel.js';
import type { EdgeRefusals, LabeledCount } from '../network/refusals.js';
import type { BridgeCounts } from '../stats/bridge-counts.js';
import type { StatsCollector } from '../stats/collector.js';
import type { Refusals } from '../stats/refusals.js';
import type { OutBudget } from '../transports/out-budget.js';
import type { NodeSnapshot, RealmSnapshot, Totals } from '../stats/snapshot.js';
import type { PathHandler } from './http-server.js';
import { notAllowed, notFound } from './stats-page.js';

type Source = () => NodeSnapshot;

/** `aggregator`: how `--workers N` combines the workers' values (default: their sum). */
function gauge(registry: Registry, name: string, help: string, labelNames: string[], fill: (g: Gauge) => void, aggregator: Aggregator = 'sum'): void {
  new Gauge({ name, help, labelNames, aggregator, registers: [registry], collect() { this.reset(); fill(this); } });
}

function counter(registry: Registry, name: string, help: string, labelNames: string[], fill: (c: Counter) => void): void {
  new Counter({ name, help, labelNames, registers: [registry], collect() { this.reset(); fill(this); } });
}

const TRAFFIC: [keyof Totals, string, string][] = [
  ['messages_in', 'messages_received_total', 'WAMP messages received'],
  ['messages_out', 'messages_sent_total', 'WAMP messages sent'],
  ['bytes_in', 'bytes_received_total', 'Bytes of WAMP messages received (payload, before framing)'],
  ['bytes_out', 'bytes_sent_total', 'Bytes of WAMP messages sent (payload, before framing)'],
  ['dropped', 'events_dropped_total', 'Events dropped for slow consumers'],
];

/** A counter filled from one of the edge's refusal counts. */
function refusalCounter<L extends string>(registry: Registry, name: string, help: string, count: LabeledCount<L>): void {
  counter(registry, name, help, [...count.labelNames], (c) => {
    for (const e of count.entries()) c.inc(e.labels, e.value);
  });
}

/**
 * A registry whose metrics read `source()` once per scrape, with `refusals` (the limits' counts)
 * and `edge` (what the edge refused: PROXY protocol, Origin, access control).
 */
export function metricsRegistry(source: Source, refusals?: Refusals, edge?: EdgeRefusals, bridge?: BridgeCounts): Registry {
  const registry = new Registry();
  let current: NodeSnapshot | undefined;
  // One snapshot per scrape, taken by the first metric collected (registry.metrics() collects in order).
  const snap = (): NodeSnapshot => (current ??= source());
  gauge(registry, 'xbar_up', 'Always 1 while the node answers; scraping starts here', [], (g) => {
    current = source();
    g.set(1);
  }, 'max');
  gauge(registry, 'xbar_backplane_ready', '1 when the backplane is standalone or ready, else 0', ['health'], (g) => {
    const h = snap().backplane.health;
    g.set({ health: h }, h === 'standalone' || h === 'ready' ? 1 : 0);
  }, 'min');
  gauge(registry, 'xbar_cluster_members', 'Live nodes of the cluster, this one included', [], (g) => g.set(snap().backplane.members), 'max');
  gauge(registry, 'xbar_cluster_replay_buffer_bytes', 'Bytes of this node\'s recent publications kept to resend and replay after a NATS outage (cluster.nats.replay_buffer bounds them)', [], (g) => g.set(snap().backplane.replay_buffer_bytes ?? 0));
  counter(registry, 'xbar_cluster_replay_overflow_total', 'Publications pushed out of the replay buffer by cluster.nats.replay_buffer before cluster.nats.replay_window ended (an outage then loses them)', [], (c) => c.inc(snap().backplane.replay_overflowed ?? 0));
  counter(registry, 'xbar_cluster_sessions_refused_total', 'Sessions this node refused because it holds cluster.max_sessions: at HELLO (ABORT xbar.error.node_full) or at the WebSocket upgrade (503)', ['at'], (c) => {
    const r = snap().backplane.sessions_refused;
    c.inc({ at: 'hello' }, r?.hello ?? 0);
    c.inc({ at: 'websocket_upgrade' }, r?.websocket_upgrade ?? 0);
  });
  counter(registry, 'xbar_cluster_sessions_shed_total', 'Sessions this node closed (WebSocket 1001) to move them to lighter nodes (cluster.shed)', [], (c) => c.inc(snap().backplane.sessions_shed ?? 0));
  gauge(registry, 'xbar_connections', 'Open client connections', [], (g) => g.set(snap().connections));
  for (const [key, name, help] of TRAFFIC) {
    counter(registry, `xbar_${name}`, `${help}, all connections of this node`, [], (c) => c.inc(snap().totals[key]));
  }
  const perRealm = (fn: (r: RealmSnapshot) => number) => (m: Gauge | Counter) => {
    for (const r of snap().realms) m.inc({ realm: r.name }, fn(r));
  };
  const realmGauge = (name: string, help: string, fn: (r: RealmSnapshot) => number, aggregator: Aggregator = 'sum') =>
    gauge(registry, name, help, ['realm'], (g) => {
      for (const r of snap().realms) g.set({ realm: r.name }, fn(r));
    }, aggregator);
  realmGauge('xbar_realm_sessions', 'Sessions joined to the realm on this node', (r) => r.sessions);
  realmGauge('xbar_realm_subscriptions', 'Subscriptions with subscribers on this node', (r) => r.subscriptions);
  realmGauge('xbar_realm_registrations', 'Registrations of the realm (cluster-wide registry)', (r) => r.registrations, 'max');
  realmGauge('xbar_realm_calls_in_flight', 'Calls from this node\'s callers not answered yet', (r) => r.calls_in_flight);
  realmGauge('xbar_realm_retained_topics', 'Topics with a retained event on this node', (r) => r.retained_topics, 'max');
  for (const [key, name, help] of TRAFFIC) {
    counter(registry, `xbar_realm_${name}`, `${help}, sessions of the realm`, ['realm'], perRealm((r) => r.totals[key]));
  }
  counter(registry, 'xbar_realm_publications_total', 'Publications made on this node by clients (the router\'s own topics apart)', ['realm'], perRealm((r) => r.totals.publications));
  counter(registry, 'xbar_realm_events_sent_total', 'EVENTs sent to this node\'s subscribers', ['realm'], perRealm((r) => r.totals.events));
  counter(registry, 'xbar_realm_meta_publications_total', 'The router\'s own publications made on this node (meta events wamp.*, xbar.stats.on_update)', ['realm'], perRealm((r) => r.totals.meta_publications));
  counter(registry, 'xbar_realm_meta_events_sent_total', 'EVENTs of the router\'s own topics sent to this node\'s subscribers', ['realm'], perRealm((r) => r.totals.meta_events));
  counter(registry, 'xbar_realm_calls_total', 'Calls from this node\'s callers', ['realm'], perRealm((r) => r.totals.calls));
  gauge(registry, 'xbar_topic_events_per_second', 'EVENTs sent per second on the busiest topics (last interval)', ['realm', 'topic'], (g) => {
    for (const r of snap().realms) for (const t of r.top_topics) g.set({ realm: r.name, topic: t.topic }, t.events_per_s);
  });
  if (refusals) {
    counter(registry, 'xbar_limit_refusals_total', 'Requests refused by a limit, by its config key (limits.*)', ['limit'], (c) => {
      for (const [limit, n] of refusals.entries()) c.inc({ limit }, n);
    });
  }
  const outBudget: OutBudget | undefined = refusals?.outBuffers;
  if (outBudget) {
    gauge(registry, 'xbar_out_buffer_bytes', 'Bytes queued in the outgoing buffers of all connections (limits.max_out_buffer_total bounds them)', [], (g) => g.set(outBudget.sweep()));
    counter(registry, 'xbar_connection_limit_total', 'Messages dropped (action="drop") and connections closed (action="disconnect") by a connection limit (limit: max_out_buffer, slow_consumer_timeout, max_out_buffer_total, max_handshake_out_buffer, read_timeout)', ['limit', 'action'], (c) => {
      for (const r of outBudget.refusalCounts()) c.inc({ limit: r.limit, action: r.action }, r.count);
    });
  }
  if (edge) {
    refusalCounter(registry, 'xbar_proxy_protocol_refused_total', 'Connections refused for a missing or invalid PROXY protocol header (reason: missing, invalid, timeout, untrusted, too_large)', edge.proxyProtocol);
    refusalCounter(registry, 'xbar_websocket_origin_refused_total', 'WebSocket upgrades refused for their Origin header (reason: not_allowed, null, invalid)', edge.origin);
    refusalCounter(registry, 'xbar_http_access_refused_total', 'Requests refused by a path service\'s access control (reason: network, token)', edge.access);
  }
  if (bridge) {
    refusalCounter(registry, 'xbar_sse_dropped_total', 'Server-Sent Events a slow stream missed (reason: event) or slow streams closed (reason: stream)', bridge.sseDropped);
    refusalCounter(registry, 'xbar_http_bridge_dropped_total', 'Events and calls the outbound HTTP bridge gave up on (reason: queue_full, failed, stopped)', bridge.outboundDropped);
    refusalCounter(registry, 'xbar_http_bridge_retries_total', 'HTTP requests of the outbound bridge retried after a failure', bridge.outboundRetries);
  }
  registry.registerMetric(callDuration(snap, () => (current = undefined)));
  return registry;
}

/**
 * `xbar_realm_call_duration_seconds`, a Prometheus histogram read from the fixed buckets the
 * dealer fills; prom-client's own Histogram can only be fed one observation at a time. It is
 * registered last and ends the scrape's snapshot.
 */
function callDuration(snap: () => NodeSnapshot, done: () => void): Metric {
  const name = 'xbar_realm_call_duration_seconds';
  const help = 'Call latency seen by the caller\'s node, from CALL to RESULT or ERROR';
  const metric = {
    name, help, type: 'histogram', aggregator: 'sum',
    get: async () => {
      const values: { metricName: string; labels: Record<string, string>; value: number }[] = [];
      for (const r of snap().realms) {
        for (const b of r.call_latency.buckets) {
          values.push({ metricName: `${name}_bucket`, labels: { realm: r.name, le: b.le === null ? '+Inf' : String(b.le / 1000) }, value: b.count });
        }
        values.push({ metricName: `${name}_sum`, labels: { realm: r.name }, value: r.call_latency.sum_ms / 1000 });
        values.push({ metricName: `${name}_count`, labels: { realm: r.name }, value: r.call_latency.count });
      }
      done();
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
    reset: () => undefined,
  };
  return metric as unknown as Metric;
}

let processRegistry: Registry | undefined;

/**
 * prom-client's default metrics (process CPU, resident memory, heap, event-loop lag, GC, handles):
 * one registry per process, as they measure the process, whatever nodes run in it.
 */
export function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The metrics every worker sends: this process's registries as prom-client JSON. */
type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[][];

/** Per-worker copies (`xbar_worker_…{worker}`) of these; the node's own names carry the sum. */
const BREAKDOWN = new Set([
  'xbar_connections', 'xbar_messages_received_total', 'xbar_messages_sent_total', 'xbar_bytes_received_total', 'xbar_bytes_sent_total',
  'xbar_events_dropped_total', 'xbar_realm_sessions', 'process_cpu_seconds_total', 'process_resident_memory_bytes',
]);

function perWorker(index: number, metrics: WorkerMetrics): MetricObjectWithValues<MetricValue<string>>[] {
  return metrics.flat().filter((m) => BREAKDOWN.has(m.name)).map((m) => ({
    ...m,
    name: `xbar_worker_${m.name.replace(/^xbar_/, '')}`,
    help: `${m.help} (one worker of the node)`,
    aggregator: 'sum',
    values: m.values.map((v) => ({ ...v, labels: { ...v.labels, worker: String(index) } })),
  }));
}

function workerSlots(workers: readonly WorkerStatus[], answered: ReadonlySet<number>): MetricObjectWithValues<MetricValue<string>>[] {
  return [
    {
      name: 'xbar_worker_up', help: '1 while the worker is up and answered this scrape, else 0 (starting, restarting after it died, or hung)', type: 'gauge', aggregator: 'sum',
      values: workers.map((w) => ({ labels: { worker: String(w.index), state: w.state }, value: w.state === 'up' && answered.has(w.index) ? 1 : 0 })),
    },
    {
      name: 'xbar_worker_restarts_total', help: 'Times the primary restarted the worker (it died or stopped answering its heartbeat)', type: 'counter', aggregator: 'sum',
      values: workers.map((w) => ({ labels: { worker: String(w.index) }, value: w.restarts })),
    },
  ] as unknown as MetricObjectWithValues<MetricValue<string>>[];
}

function isWorkerMetrics(v: unknown): v is WorkerMetrics {
  return Array.isArray(v) && v.every((r) => Array.isArray(r));
}

/**
 * `--workers N`: this worker's metrics and every other's that answered in time, combined by each
 * metric's aggregator (prom-client's cluster aggregation), with a per-worker breakdown.
 */
async function nodeMetrics(local: () => Promise<WorkerMetrics>, workers: NodeWorkers, kind: string): Promise<string> {
  const [mine, gathered] = await Promise.all([local(), workers.gather(kind)]);
  const answers = [{ index: workers.index, value: mine as unknown }, ...gathered.answers.filter((a) => a.index !== workers.index)]
    .filter((a): a is { index: number; value: WorkerMetrics } => isWorkerMetrics(a.value));
  const node = AggregatorRegistry.aggregate([
    ...answers.flatMap((a) => a.value),
    ...answers.map((a) => perWorker(a.index, a.value)),
    workerSlots(gathered.workers, new Set(answers.map((a) => a.index))),
  ]);
  return node.metrics();
}

/**
 * The metrics path service. With `workers` (a worker of `xbar start --workers N`) it reports the
 * whole node: `kind` names this service's metrics among the workers (every worker mounts the same).
 */
export function metricsHandler(
  collector: Pick<StatsCollector, 'snapshot'>, refusals?: Refusals, edge?: EdgeRefusals, bridge?: BridgeCounts,
  node?: { readonly workers: NodeWorkers; readonly kind: string },
): PathHandler {
  const registry = metricsRegistry(() => collector.snapshot(), refusals, edge, bridge);
  const local = async (): Promise<WorkerMetrics> => [await registry.getMetricsAsJSON(), await processMetrics().getMetricsAsJSON()] as WorkerMetrics;
  node?.workers.serve(node.kind, local);
  const text = node
    ? () => nodeMetrics(local, node.workers, node.kind)
    : () => Promise.all([registry.metrics(), processMetrics().metrics()]).then(([mine, proc]) => `${mine}${mine.endsWith('\n') ? '' : '\n'}${proc}`);
  return {
    request(req, res, rest) {
      if (rest !== '') return notFound(res, req.url);
      if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res);
      text().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`metrics failed: ${(err as Error).message}\n`);
        },
      );
    },
  };
}
