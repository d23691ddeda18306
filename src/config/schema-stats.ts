/**
 * Zod schemas of xbar's statistics and event-store settings (Crossbar.io has no statistics
 * section; its realm `store` is ours too, type memory only):
 *
 *   "stats": {"enabled": true, "interval": 5000, "top_topics": 10, "max_topics": 10000}
 *
 *   realm "store": {"type": "memory", "limit": 100, "max_retained": 10000,
 *                   "event-history": [{"uri": "com.example.oncounter", "match": "exact",
 *                                      "limit": 1000, "max_age": 3600000}]}
 *
 * and the `stats`, `metrics` and `health` path services of a web transport:
 *
 *   "stats": {"type": "stats", "access": {"token": "…", "networks": ["10.0.0.0/8"]}, "topic_names": false}
 */
import { z } from 'zod';
import { isValidUri } from '../wamp/uri.js';
import { bool, expect, int, listOf, oneOf, strict, tag } from './schema-kit.js';
import { accessControl } from './schema-network.js';

const ONE_HOUR_MS = 3_600_000;
/** Publications kept per history rule, at most: with 16 MiB messages this is already a lot of memory. */
export const MAX_HISTORY_LIMIT = 1_000_000;

export const statsDocument = strict({
  /** false: no counting at all (the bench compares both). */
  enabled: bool().optional(),
  /** How often rates are computed and `xbar.stats.on_update` is published. */
  interval: int(100, ONE_HOUR_MS, 'milliseconds').optional(),
  /** Rows of the busiest-topics table. */
  top_topics: int(1, 1000).optional(),
  /** Topics counted individually per realm before the rest are lumped together. */
  max_topics: int(10, 1_000_000).optional(),
});

const historyRule = strict({
  uri: z.string(expect('topic URI or pattern')),
  match: oneOf(['exact', 'prefix', 'wildcard'], 'match policy').optional(),
  limit: int(1, MAX_HISTORY_LIMIT, 'publications').optional(),
  /** Ours: publications older than this are dropped (ms). */
  max_age: int(1, 365 * 24 * ONE_HOUR_MS, 'milliseconds').optional(),
}).check((ctx) => {
  const { uri, match = 'exact' } = ctx.value;
  if (!isValidUri(uri, 'loose', match)) {
    ctx.issues.push({ code: 'custom', path: ['uri'], input: uri, message: `${JSON.stringify(uri)} is not a valid WAMP URI for match "${match}"` });
  }
});

export const realmStore = strict(
  {
    type: tag('memory', 'store type', ['cfxdb']),
    /** Crossbar.io: the history limit of rules that set none. */
    limit: int(1, MAX_HISTORY_LIMIT, 'publications').optional(),
    'event-history': listOf(historyRule, 'event history rules').optional(),
    /** Ours: topics whose retained event is kept (least recently retained forgotten first); 0 = none. */
    max_retained: int(0, 1_000_000, 'topics').optional(),
    /**
     * Crossbar.io's call queues: a call waits while every callee is at its `concurrency`. The
     * dealer always does that (bounded at 1,000 calls per registration); Crossbar.io's memory
     * store ignores these rules' limits too (its `maybe_queue_call` accepts every call).
     */
    'call-queue': listOf(strict({
      uri: z.string(expect('procedure URI or pattern')),
      match: oneOf(['exact', 'prefix', 'wildcard'], 'match policy').optional(),
      limit: int(1, Number.MAX_SAFE_INTEGER, 'calls').optional(),
    }), 'call queue rules').optional(),
  },
);

/**
 * A realm's `stats`: Crossbar.io's per-session traffic statistics, published as
 * `wamp.session.on_stats` (crossbar/router/session.py, `RouterSession.onJoin`). Crossbar.io
 * asserts these at each session's join; xbar checks them at load.
 */
export const realmSessionStats = strict({
  /** Bytes of one rated message: Crossbar.io asserts a positive even integer (its docs: a power of two). */
  rated_message_size: int(2, 1 << 30, 'bytes').refine((n) => n % 2 === 0, { message: 'expected an even number of bytes (Crossbar.io asserts it)' }).optional(),
  trigger_after_rated_messages: int(0, Number.MAX_SAFE_INTEGER, 'rated messages; 0 = off').optional(),
  trigger_after_duration: int(0, 365 * 24 * 3600, 'seconds; 0 = off').optional(),
  trigger_on_join: bool().optional(),
  trigger_on_leave: bool().optional(),
}).check((ctx) => {
  if (!ctx.value.trigger_after_rated_messages && !ctx.value.trigger_after_duration) {
    ctx.issues.push({
      code: 'custom',
      path: [],
      input: ctx.value,
      message: 'set trigger_after_rated_messages or trigger_after_duration above 0 (Crossbar.io refuses every session\'s join without one)',
    });
  }
});

/** `access`: who may read (schema-network.ts); `topic_names: false` leaves topic names out. */
export const statsPath = strict({ type: tag('stats', 'path service type'), access: accessControl.optional(), topic_names: bool().optional() });
export const metricsPath = strict({ type: tag('metrics', 'path service type'), access: accessControl.optional(), topic_names: bool().optional() });
export const healthPath = strict({ type: tag('health', 'path service type'), access: accessControl.optional() });

/** "Where should I connect?" (web/rendezvous.ts). */
export const rendezvousPath = strict({ type: tag('rendezvous', 'path service type'), access: accessControl.optional() });

export type StatsDocument = z.output<typeof statsDocument>;
export type RealmStoreDocument = z.output<typeof realmStore>;
export type RealmSessionStatsDocument = z.output<typeof realmSessionStats>;
