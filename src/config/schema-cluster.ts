/**
 * `cluster` — xbar's own top-level key (Crossbar.io does not use it): join other nodes over NATS.
 * `{"cluster": {"nats": {"servers": ["nats://127.0.0.1:4222"], "name": "xbar"}}}`. Without `nats` the node
 * runs alone (the embedded backplane) and the other keys (`advertise`) still apply to it.
 */
import { z } from 'zod';
import { int, listOf, nonEmpty, str, strict } from './schema-kit.js';

const natsUrl = z
  .string({ error: () => 'expected a NATS URL such as "nats://127.0.0.1:4222"' })
  .regex(/^(nats|tls|ws|wss):\/\/[^\s]+$/, { error: () => 'expected a NATS URL such as "nats://127.0.0.1:4222"' });

const CLIENT_URL = 'expected a client URL such as "ws://node1.example.com:8080/ws" or "rs://node1.example.com:8081" (ws, wss, rs or rss, with a host)';

/** A URL clients can connect to: ws/wss (WebSocket) or rs/rss (RawSocket), with a host. */
function isClientUrl(s: string): boolean {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  return ['ws:', 'wss:', 'rs:', 'rss:'].includes(u.protocol) && u.hostname !== '' && u.username === '' && u.password === '' && u.hash === '';
}

const clientUrl = z.string({ error: () => CLIENT_URL }).max(512, { error: () => `${CLIENT_URL}, at most 512 characters` }).refine(isClientUrl, { error: (iss) => `${CLIENT_URL}, got ${JSON.stringify(iss.input)}` });

export const clusterDocument = strict({
  /** Client-facing URLs this node advertises in the node directory (default: what it listens on). */
  advertise: listOf(clientUrl, 'client URLs', 1).max(32, { error: () => 'expected at most 32 client URLs' }).optional(),
  /** Sessions this node takes at most; a HELLO over it gets ABORT, a WebSocket upgrade 503 (balance/admission.ts). */
  max_sessions: int(1, 10_000_000).optional(),
  /** The soft mark: from here the node says it is busy and the rendezvous service sends clients elsewhere first. */
  high_water: int(1, 10_000_000).optional(),
  /** Seconds a refused WebSocket upgrade tells the client to wait (Retry-After). */
  retry_after: int(1, 3600, 'seconds').optional(),
  /** Gradual shedding towards lighter nodes (balance/shedder.ts); absent = no shedding. */
  shed: strict({
    /** Sessions closed per second at most. */
    rate: int(1, 10_000, 'sessions/s').optional(),
    /** How far above the cluster's mean a node may stay without shedding, percent. */
    margin: int(0, 1000, 'percent').optional(),
    /** How long a shed session counts at most as on its way to another node, ms. */
    settle: int(0, 600_000, 'ms').optional(),
  }).optional(),
  nats: strict({
    servers: listOf(natsUrl, 'servers', 1),
    /** Cluster name: nodes on the same NATS with the same name form one router. */
    name: nonEmpty().optional(),
    /** This node's name (its id in the cluster, logs and statistics); one live node per name. */
    node: nonEmpty().optional(),
    user: str().optional(),
    password: str().optional(),
    token: str().optional(),
    /** A NATS credentials file (JWT + NKey seed), as `nats` CLI users have them. */
    creds: nonEmpty().optional(),
    /** TLS to the NATS servers: CA to trust, and a client certificate if the servers ask for one. */
    tls: strict({ ca: nonEmpty().optional(), cert: nonEmpty().optional(), key: nonEmpty().optional() }).optional(),
    heartbeat_interval: int(50, 60_000, ' ms').optional(),
    dead_after: int(150, 600_000, ' ms').optional(),
    /** How long a node keeps what it published, to resend and replay it after a NATS outage. */
    replay_window: int(1000, 3_600_000, ' ms').optional(),
    /** Bytes of those publications a node may keep (the oldest leave early past them, counted and logged). */
    replay_buffer: int(64 * 1024, 2 ** 40, ' bytes').optional(),
    /** Copies JetStream keeps of each bucket and stream (default: one per NATS server, at most 3). */
    replicas: int(1, 5).optional(),
    /** How long a starting node keeps trying to reach NATS before its start fails. */
    connect_timeout: int(0, 3_600_000, ' ms').optional(),
  }).optional(),
}).check((ctx) => {
  const { max_sessions: max, high_water: high } = ctx.value;
  if (max !== undefined && high !== undefined && high > max) {
    ctx.issues.push({ code: 'custom', input: high, path: ['high_water'], message: `expected at most max_sessions (${max}), got ${high}` });
  }
});

export type ClusterDocument = z.output<typeof clusterDocument>;
