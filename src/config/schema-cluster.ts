/**
 * `cluster` — xbar's own top-level key (Crossbar.io does not use it): join other nodes over NATS.
 * `{"cluster": {"nats": {"servers": ["nats://127.0.0.1:4222"], "name": "xbar"}}}`.
 */
import { z } from 'zod';
import { int, listOf, nonEmpty, str, strict } from './schema-kit.js';

const natsUrl = z
  .string({ error: () => 'expected a NATS URL such as "nats://127.0.0.1:4222"' })
  .regex(/^(nats|tls|ws|wss):\/\/[^\s]+$/, { error: () => 'expected a NATS URL such as "nats://127.0.0.1:4222"' });

export const clusterDocument = strict({
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
    /** How long a starting node keeps trying to reach NATS before its start fails. */
    connect_timeout: int(0, 3_600_000, ' ms').optional(),
  }),
});

export type ClusterDocument = z.output<typeof clusterDocument>;
