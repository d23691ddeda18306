/**
 * Validated `stats` and realm `store` documents → config, with every default and its reason.
 */
import type { RealmSessionStatsDocument, RealmStoreDocument, StatsDocument } from './schema-stats.js';
import type { RealmStoreConfig, SessionStatsConfig, StatsConfig } from './types.js';

export const STATS_DEFAULTS = {
  enabled: true,
  /** The stats page refreshes every 5 s (practable's RELAY_STATS_EVERY too). */
  interval: 5000,
  topTopics: 10,
  /** Enough for any sane topic layout; a flood of unique topics is counted as "other". */
  maxTopics: 10_000,
} as const;

export const STORE_DEFAULTS = {
  /** Crossbar.io's `MemoryEventStore.GLOBAL_HISTORY_LIMIT`. */
  limit: 100,
  /** Bounds retention memory per realm; the least recently retained topic is forgotten first. */
  maxRetained: 10_000,
} as const;

export function statsConfig(d: StatsDocument | undefined): StatsConfig {
  return {
    enabled: d?.enabled ?? STATS_DEFAULTS.enabled,
    interval: d?.interval ?? STATS_DEFAULTS.interval,
    topTopics: d?.top_topics ?? STATS_DEFAULTS.topTopics,
    maxTopics: d?.max_topics ?? STATS_DEFAULTS.maxTopics,
  };
}

export function realmStoreConfig(d: RealmStoreDocument): RealmStoreConfig {
  const limit = d.limit ?? STORE_DEFAULTS.limit;
  return {
    type: 'memory',
    eventHistory: (d['event-history'] ?? []).map((r) => ({
      uri: r.uri,
      match: r.match ?? 'exact',
      limit: r.limit ?? limit,
      ...(r.max_age === undefined ? {} : { maxAge: r.max_age }),
    })),
    maxRetained: d.max_retained ?? STORE_DEFAULTS.maxRetained,
  };
}

/** A realm's `stats`, with Crossbar.io's defaults (`RouterSession.onJoin`, not its docs: on_join off). */
export function sessionStatsConfig(d: RealmSessionStatsDocument): SessionStatsConfig {
  return {
    ratedMessageSize: d.rated_message_size ?? 512,
    afterRatedMessages: d.trigger_after_rated_messages ?? 0,
    afterDurationMs: (d.trigger_after_duration ?? 0) * 1000,
    onJoin: d.trigger_on_join ?? false,
    onLeave: d.trigger_on_leave ?? true,
  };
}
