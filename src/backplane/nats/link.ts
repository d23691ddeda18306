/**
 * The node's one NATS connection and its lifecycle: connect, follow disconnects and reconnects,
 * the KV buckets, subscriptions whose handlers can never stop the connection, writes that a
 * stop waits for, and a bounded stop. Every part of the backplane reaches NATS through it.
 */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type KV, type KvOptions, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from 'pino';
import type { BackplaneHealth } from '../backplane.js';
import { FrameError } from './frame.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { Subjects } from './subjects.js';

export interface NatsBackplaneOptions {
  readonly servers: readonly string[];
  /** Cluster name: nodes with the same name on the same NATS form one router. */
  readonly cluster: string;
  /** Human-readable node name (the node id adds a random suffix per start). */
  readonly name?: string;
  readonly heartbeatMs?: number;
  readonly deadAfterMs?: number;
  /** ms a publication stays in its origin's buffer for resending and replay after an outage (default 30 s). */
  readonly replayWindowMs?: number;
  /** Bytes that buffer may hold (default 64 MiB); past them the oldest leave early, counted and logged. */
  readonly replayBufferBytes?: number;
  /** How long a REGISTER may wait for the registry (JetStream) before failing. */
  readonly registryTimeoutMs?: number;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** Path of a NATS credentials file. */
  readonly creds?: string;
  /** How long the first connection is retried before the start fails (ms; default 60 s, 0: once). */
  readonly connectTimeoutMs?: number;
  /** `start()` returns at once and `joining()` is the join (the node listens meanwhile); default: start() joins. */
  readonly listenWhileJoining?: boolean;
  /** PEM file paths for TLS to NATS. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Copies JetStream keeps of each bucket and stream this node creates (default: `replicasFor`). */
  readonly replicas?: number;
}

/**
 * Copies of a bucket or stream: as configured, else one per NATS server up to three — the
 * servers listed or, more, those the connected server advertises (a node given one URL of a
 * three-server cluster still makes its buckets survive the loss of one server).
 */
export function replicasFor(configured: number | undefined, listed: number, advertised: number): number {
  return configured ?? Math.min(3, Math.max(listed, advertised));
}

/** What the rest of the backplane hears of the connection. */
export interface LinkListener {
  disconnected(): void;
  /** `since`: when the connection was lost (ms since epoch). */
  reconnected(since: number): void;
}

/** How long a node may be cut off from NATS before it counts as isolated. */
const ISOLATED_AFTER_MS = 5000;
/** First connection attempts: 1 s apart, doubling to 5 s. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 5000;

export class NatsLink {
  private nc: NatsConnection | undefined;
  private connected = false;
  private disconnectedSince = 0;
  private stopping = false;
  /** Ends a wait between first connection attempts when the node stops. */
  private wake: (() => void) | undefined;
  private readonly writes = new Set<Promise<unknown>>();
  /** Complaints about what arrives on our subjects, bounded. */
  readonly complaints: RateLimitedLog;

  constructor(
    readonly nodeId: string,
    readonly subjects: Subjects,
    private readonly options: NatsBackplaneOptions,
    readonly log: Logger,
  ) {
    this.complaints = new RateLimitedLog(log);
  }

  /**
   * Connects, retrying a server that is not there yet (one log line per attempt) for
   * `connectTimeoutMs`; a failure names the servers and what to do.
   */
  async connect(listener: LinkListener): Promise<NatsConnection> {
    const o = this.options;
    const patience = o.connectTimeoutMs ?? 60_000;
    const deadline = Date.now() + patience;
    for (let attempt = 1; ; attempt++) {
      try {
        const nc = await this.connectOnce(Math.max(1000, Math.min(5000, deadline - Date.now())));
        if (attempt > 1) this.log.info({ servers: o.servers, attempts: attempt }, 'NATS reached');
        this.nc = nc;
        this.connected = true;
        this.watchStatus(nc, listener).catch((err: unknown) => this.log.error({ err }, 'NATS status watch ended: disconnects are no longer noticed'));
        return nc;
      } catch (err) {
        const failure = connectFailure(err, o.servers);
        const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempt - 1));
        if (!failure.retry || this.stopping || Date.now() + wait > deadline) {
          throw new Error(failure.retry
            ? `${failure.text}${attempt > 1 ? `, for ${Math.round(patience / 1000)} s` : ''}: start nats-server -js there, or point cluster.nats.servers (or --cluster) at a running one; cluster.nats.connect_timeout says how long to keep trying`
            : failure.text, { cause: err });
        }
        this.log.warn({ servers: o.servers, attempt, why: failure.why, retry_in_ms: wait }, 'NATS not reachable yet; retrying');
        await new Promise<void>((r) => {
          const t = setTimeout(r, wait);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private connectOnce(timeout: number): Promise<NatsConnection> {
    const o = this.options;
    return connect({
      servers: [...o.servers],
      name: this.nodeId,
      noEcho: true,
      timeout,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 2000,
      user: o.user,
      pass: o.pass,
      token: o.token,
      ...(o.creds ? { authenticator: credsAuthenticator(readFileSync(o.creds)) } : {}),
      ...(o.tls ? { tls: { caFile: o.tls.ca, certFile: o.tls.cert, keyFile: o.tls.key } } : {}),
    });
  }

  private async watchStatus(nc: NatsConnection, listener: LinkListener): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        this.disconnectedSince = Date.now();
        this.log.warn({ server: s.data }, 'NATS disconnected');
        listener.disconnected();
      } else if (s.type === 'reconnect') {
        const since = this.disconnectedSince;
        this.connected = true;
        this.disconnectedSince = 0;
        this.log.info({ server: s.data }, 'NATS reconnected');
        listener.reconnected(since);
      }
    }
  }

  /** The connection while it can carry traffic (it may be reconnecting). */
  open(): NatsConnection | undefined {
    const nc = this.nc;
    return nc && !nc.isClosed() ? nc : undefined;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** The NATS server this node is connected to now. */
  server(): string | undefined {
    return this.nc?.getServer();
  }

  /**
   * Subscribes `handle` to `subject`. Whatever it throws is logged here: an exception out of a
   * nats.js callback would end the connection's reader and silence the node.
   */
  subscribe(nc: NatsConnection, subject: string, handle: (msg: Msg) => void): Subscription {
    return nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return this.log.warn({ err, subject }, 'NATS subscription error');
        try {
          handle(msg);
        } catch (err) {
          if (err instanceof FrameError) this.complaints.warn(`frame:${subject}`, { subject: msg.subject, why: err.message }, 'malformed frame dropped');
          else this.complaints.warn(`handler:${subject}`, { err, subject: msg.subject }, 'handling a frame from the backplane failed');
        }
      },
    });
  }

  /**
   * A KV bucket of this cluster, `xbar_<cluster>_<what>`, of `replicas(nc)` copies when this node
   * creates it; each of its requests waits `requestTimeoutMs` for an answer (nats.js's default 5 s).
   */
  kv(nc: NatsConnection, what: string, options: Partial<KvOptions> = {}, requestTimeoutMs = 5000): Promise<KV> {
    const name = `xbar_${this.options.cluster.replace(/[^A-Za-z0-9_-]/g, '_')}_${what}`;
    // Reads go to the stream's leader: a direct get may be answered by a replica on a server that
    // was cut off and has not caught up (a reap read as not done), or by a paused one (a timeout).
    return nc.jetstream({ timeout: requestTimeoutMs }).views.kv(name, { history: 1, replicas: this.replicas(nc), allow_direct: false, ...options });
  }

  /** Copies of a bucket or stream this node creates (`replicasFor`). */
  replicas(nc: NatsConnection): number {
    return replicasFor(this.options.replicas, this.options.servers.length, nc.info?.connect_urls?.length ?? 0);
  }

  /** A write that `stop()` waits for (bounded). */
  track<T>(p: Promise<T>): Promise<T> {
    this.writes.add(p);
    void p.finally(() => this.writes.delete(p)).catch(() => undefined);
    return p;
  }

  health(): BackplaneHealth {
    if (!this.nc || this.stopping) return 'isolated';
    if (this.connected) return 'ready';
    return this.isolatedFor() > 0 ? 'isolated' : 'degraded';
  }

  /** ms this node has been isolated (cut off longer than ISOLATED_AFTER_MS); 0 if it is not. */
  isolatedFor(now = Date.now()): number {
    if (this.connected || this.disconnectedSince === 0) return 0;
    const out = now - this.disconnectedSince;
    return out > ISOLATED_AFTER_MS ? out : 0;
  }

  /**
   * Stops: no new work (`isStopping`), waits for tracked writes, runs `last` (release what this
   * node holds, say bye), drains. Every step is bounded: with NATS gone, a write or a drain would
   * otherwise wait forever and keep the process alive, reconnecting.
   */
  async stop(last: (nc: NatsConnection) => Promise<void>): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.wake?.();
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    if (!(await bounded(Promise.allSettled([...this.writes]), 2000))) this.log.warn({ writes: this.writes.size }, 'stopping with backplane writes unfinished');
    await bounded(last(nc).catch((err: unknown) => this.log.warn({ err }, 'leaving the cluster cleanly failed')), 1000);
    await bounded(nc.drain().catch((err: unknown) => this.log.debug({ err }, 'NATS drain failed')), 2000);
    if (!nc.isClosed()) await nc.close().catch((err: unknown) => this.log.debug({ err }, 'NATS close failed'));
  }
}

/** Why a first connection failed, for people: which servers, what happened, whether to retry. */
export function connectFailure(err: unknown, servers: readonly string[]): { text: string; why: string; retry: boolean } {
  const code = (err as { code?: string }).code;
  const at = servers.join(', ');
  switch (code) {
    case 'CONNECTION_REFUSED':
      return { text: `no NATS server answers at ${at} (connection refused)`, why: 'connection refused', retry: true };
    case 'TIMEOUT':
      return { text: `no NATS server answered at ${at} (timed out)`, why: 'timed out', retry: true };
    case 'AUTHORIZATION_VIOLATION':
    case 'AUTHENTICATION_EXPIRED':
      return { text: `NATS at ${at} refused this node's credentials (${(err as Error).message}): check cluster.nats user and password, token or creds`, why: code, retry: false };
    default:
      return { text: `cannot connect to NATS at ${at}: ${(err as Error).message}`, why: (err as Error).message, retry: code === undefined || code === 'DISCONNECT' };
  }
}

/** Waits for `p` to settle (its outcome is the caller's to handle), but at most `ms`: true if it did. */
export async function bounded(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** `p`, or a rejection after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/**
 * Waits for a KV watch's initial values, but never forever: a missed signal must not stall
 * start-up (updates still arrive).
 */
export async function initialValues(initialized: Promise<void>, what: string, log: Logger): Promise<void> {
  if (!(await bounded(initialized, 5000))) log.warn({ what }, 'initial values not confirmed within 5 s; going on (updates still arrive)');
}
