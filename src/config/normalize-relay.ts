/**
 * A validated `relay` path document → `RelayPathConfig`, with every default and its reason.
 */
import { origins } from './normalize-network.js';
import type { RelayPathDocument } from './schema-relay.js';
import type { RelayPathConfig } from './types.js';

const MiB = 1024 * 1024;

export const RELAY_DEFAULTS = {
  /** practable's access codes live 30 s (`internal/ttlcode`): enough to open a WebSocket. */
  codeTtl: 30_000,
  /** practable's `RELAY_BUFFER_SIZE` default (128 messages); kept in the config, not enforced (schema-relay.ts). */
  queueMessages: 128,
  /**
   * Bytes per receiver: several seconds of a 1-10 Mbit/s stream. The bytes are shared, not copied:
   * every receiver queues the same frame buffer, so N slow receivers cost one queue of memory.
   */
  queueBytes: 64 * MiB,
  /** As a WAMP transport's: a queue that has not drained in 10 s is a slow viewer's (NATS's rule). */
  slowConsumerTimeout: 10_000,
  /** xbar's WebSocket limit (practable reads at most 10 MB). */
  maxMessageSize: 16 * MiB,
  /** A lab stream rarely has more than a few hundred viewers; refuses floods on one topic. */
  maxConnectionsPerTopic: 1000,
  /**
   * Like practable crossbar, whose /stats page is open — on a relay without required tokens. The
   * stats show every client's address, user agent, topic and token expiry, so a relay that
   * requires tokens shows them to holders of the admin token only (`statsDefault`).
   */
  stats: 'public',
  /** practable's `RELAY_STATS_EVERY` and the 5 s refresh of its stats page. */
  statsInterval: 5000,
} as const;

export function relayPath(d: RelayPathDocument): RelayPathConfig {
  const t = d.tokens;
  return {
    type: 'relay',
    ...(t === undefined
      ? {}
      : {
          tokens: {
            ...(t.secret === undefined ? {} : { secret: t.secret }),
            ...(t.public_key_file === undefined ? {} : { publicKeyFile: t.public_key_file }),
            ...(t.audience === undefined ? {} : { audience: t.audience }),
            required: t.required ?? true,
          },
        }),
    ...(d.admin_token === undefined ? {} : { adminToken: d.admin_token }),
    codeTtl: d.code_ttl ?? RELAY_DEFAULTS.codeTtl,
    queueMessages: d.queue_messages ?? RELAY_DEFAULTS.queueMessages,
    queueBytes: d.queue_bytes ?? RELAY_DEFAULTS.queueBytes,
    slowConsumerTimeout: d.slow_consumer_timeout ?? RELAY_DEFAULTS.slowConsumerTimeout,
    maxMessageSize: d.max_message_size ?? RELAY_DEFAULTS.maxMessageSize,
    maxConnectionsPerTopic: d.max_connections_per_topic ?? RELAY_DEFAULTS.maxConnectionsPerTopic,
    stats: d.stats ?? statsDefault(t === undefined ? undefined : { required: t.required ?? true }),
    statsInterval: d.stats_interval ?? RELAY_DEFAULTS.statsInterval,
    ...(d.bridge === undefined ? {} : { bridge: { realm: d.bridge.realm, prefix: d.bridge.prefix } }),
    ...origins(d),
  };
}

/** Who sees the stats unless the config says: the admin on a relay that requires tokens, else anyone. */
export function statsDefault(tokens: Pick<NonNullable<RelayPathConfig['tokens']>, 'required'> | undefined): RelayPathConfig['stats'] {
  return tokens?.required === true ? 'admin' : RELAY_DEFAULTS.stats;
}

/** Defaults for a relay built in code (the `xbar relay` command, tests). */
export function relayDefaults(overrides: Partial<RelayPathConfig> = {}): RelayPathConfig {
  return { ...relayPath({ type: 'relay' }), stats: statsDefault(overrides.tokens), ...overrides };
}
