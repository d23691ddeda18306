/**
 * Caps on what one session, or one client address, may hold (the `limits.*` config keys, with
 * defaults no honest client reaches): subscriptions, registrations, calls in flight, sessions per
 * address. A request over a cap gets ERROR `xbar.error.limit_exceeded` (a HELLO, ABORT) whose
 * message names the key and whose kwargs carry `{limit, max}`; each refusal is counted.
 */
import type { RefusalSink } from '../stats/refusals.js';
import { ErrorUri } from '../wamp/errors.js';

export interface SessionLimits {
  /** Sessions (connections in any state) per client address. */
  readonly maxSessionsPerAddress?: number | undefined;
  readonly maxSubscriptions?: number | undefined;
  readonly maxRegistrations?: number | undefined;
  /** Calls in flight as caller. */
  readonly maxCalls?: number | undefined;
  /** Counts refusals, by config key. */
  readonly refused?: RefusalSink | undefined;
}

export const NO_LIMITS: SessionLimits = {};

/** The config key of each per-session cap. */
export const LimitKey = {
  sessionsPerAddress: 'max_sessions_per_address',
  subscriptions: 'max_subscriptions_per_session',
  registrations: 'max_registrations_per_session',
  calls: 'max_calls_per_session',
  retainedBytes: 'max_retained_bytes_per_realm',
  testamentBytes: 'max_testament_bytes_per_session',
} as const;

/** What a refusal over a cap says, and carries. */
export function overLimit(key: string, max: number, what: string): { uri: string; message: string; kwargs: { limit: string; max: number } } {
  return { uri: ErrorUri.limitExceeded, message: `${what} (at most ${max}, limits.${key})`, kwargs: { limit: key, max } };
}
