/**
 * Zod schema of the `relay` path service of a `web` transport (xbar's own; Crossbar.io has no
 * such service). The keys mirror the practable relay's options (`RELAY_SECRET`, `RELAY_AUDIENCE`,
 * `RELAY_BUFFER_SIZE`, `RELAY_STATS_EVERY`, the 30 s code TTL) in Crossbar.io's snake_case style;
 * times are milliseconds, like Crossbar.io's timeouts.
 *
 *   "relay": {"type": "relay",
 *             "tokens": {"secret": "…", "audience": "https://relay.example.org", "required": true},
 *             "admin_token": "…", "code_ttl": 30000, "queue_messages": 128, "queue_bytes": 8388608,
 *             "max_message_size": 16777216, "max_connections_per_topic": 1000,
 *             "stats": "public", "stats_interval": 5000,
 *             "bridge": {"realm": "realm1", "prefix": "xbar.relay"}}
 */
import { z } from 'zod';
import { bool, expect, int, nonEmpty, oneOf, strict, tag } from './schema-kit.js';
import { originPatterns } from './schema-network.js';

const MiB = 1024 * 1024;
const ONE_HOUR_MS = 3_600_000;

/** A loose WAMP URI with non-empty components (realm names and the bridge prefix). */
const LOOSE_URI = /^([^\s.#]+\.)*([^\s.#]+)$/;

/** How connections prove their right to a topic: JWTs signed with one key. */
const relayTokens = strict({
  /** HS256 shared secret. */
  secret: nonEmpty().optional(),
  /** PEM file (SPKI) of an Ed25519 or RSA public key: EdDSA, RS256/384/512 or PS256/384/512 tokens. */
  public_key_file: nonEmpty().optional(),
  /** Required `aud` claim; absent = any audience. */
  audience: nonEmpty().optional(),
  /** false: connections without a token or code are let in with read and write access. */
  required: bool().optional(),
}).check((ctx) => {
  const { secret, public_key_file: file } = ctx.value;
  if ((secret === undefined) === (file === undefined)) {
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      message: 'set exactly one of "secret" (HS256) or "public_key_file" (Ed25519 or RSA public key, PEM)',
    });
  }
});

const relayBridge = strict({
  realm: z.string(expect('realm name')).regex(LOOSE_URI, expect('realm name (a WAMP URI)')),
  /** Relay topic `a/b` ↔ WAMP topic `<prefix>.a.b`. */
  prefix: z.string(expect('URI prefix')).regex(LOOSE_URI, expect('URI prefix (a WAMP URI without a trailing ".")')),
});

export const relayPath = strict({
  type: tag('relay', 'path service type'),
  tokens: relayTokens.optional(),
  /** Bearer token for the deny-list API (and the stats when `stats` is "admin"). */
  admin_token: z.string(expect('string of at least 16 characters')).min(16).optional(),
  /** Lifetime of a single-use access code. */
  code_ttl: int(1000, ONE_HOUR_MS, 'milliseconds').optional(),
  /**
   * Accepted for older configs, not enforced: a receiver's queue is bounded in bytes (`queue_bytes`),
   * since a count of messages trips on any burst of small ones the write batcher hands the kernel at once.
   */
  queue_messages: int(1, 65_536, 'messages').optional(),
  /** Bytes queued for one receiver before further messages are dropped for it. */
  queue_bytes: int(1024, 1024 * MiB, 'bytes').optional(),
  /** ms a receiver's queue may go without draining before messages are dropped for it; 0 = never. */
  slow_consumer_timeout: int(0, ONE_HOUR_MS, 'milliseconds').optional(),
  /** Largest message a client may send (larger: closed with 1009). */
  max_message_size: int(1, 256 * MiB, 'bytes').optional(),
  /** Connections on one topic; more are refused with HTTP 503. */
  max_connections_per_topic: int(1, 1_000_000).optional(),
  /** Who may see the stats page and channel: anyone, holders of the admin token, or nobody. */
  stats: oneOf(['public', 'admin', 'off'], 'stats access').optional(),
  /** How often the stats channel pushes a report. */
  stats_interval: int(100, ONE_HOUR_MS, 'milliseconds').optional(),
  bridge: relayBridge.optional(),
  /** As a WebSocket path's options (web/origin-check.ts); default ["*"]: lab pages live on other origins. */
  allowed_origins: originPatterns().optional(),
  allow_null_origin: bool().optional(),
});

export type RelayPathDocument = z.output<typeof relayPath>;
