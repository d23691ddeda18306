/**
 * All subscriptions (broker), registrations (dealer) or permissions (authorizer) of one realm, keyed by (URI, policy),
 * with the lookups WAMP needs: every match for a publication, the single best match for a call.
 *
 * Exact URIs live in a Map, prefixes in a radix trie, wildcards in a component trie, so a
 * lookup costs in proportion to the topic's length and the number of matches, never to the
 * number of stored patterns (the scan-every-pattern loop STYLE.md warns about).
 *
 * Callers validate URIs beforehand (wamp/uri.ts); this module accepts any string.
 */
import type { MatchPolicy } from '../wamp/uri.js';
import type { MatchEntry } from './entry.js';
import { PrefixTrie } from './prefix-trie.js';
import { WildcardTrie } from './wildcard-trie.js';

export type { MatchPolicy };

/** The registration a call is routed to, as best() reports it. */
export interface BestMatch<T> {
  readonly value: T;
  readonly policy: MatchPolicy;
  readonly uri: string;
}

export class MatchIndex<T> {
  private readonly exact = new Map<string, T>();
  private readonly prefix = new PrefixTrie<T>();
  private readonly wildcard = new WildcardTrie<T>();

  /** Stores value under (uri, policy); replaces an existing value for the same key. */
  set(uri: string, policy: MatchPolicy, value: T): void {
    switch (policy) {
      case 'exact':
        this.exact.set(uri, value);
        return;
      case 'prefix':
        this.prefix.set(uri, value);
        return;
      case 'wildcard':
        this.wildcard.set(uri, value);
        return;
    }
  }

  /** The value stored under exactly (uri, policy), not a match. */
  get(uri: string, policy: MatchPolicy): T | undefined {
    switch (policy) {
      case 'exact':
        return this.exact.get(uri);
      case 'prefix':
        return this.prefix.get(uri);
      case 'wildcard':
        return this.wildcard.get(uri);
    }
  }

  /** Removes (uri, policy); returns false if it was not stored. Frees the trie nodes it used. */
  delete(uri: string, policy: MatchPolicy): boolean {
    switch (policy) {
      case 'exact':
        return this.exact.delete(uri);
      case 'prefix':
        return this.prefix.delete(uri);
      case 'wildcard':
        return this.wildcard.delete(uri);
    }
  }

  /** Number of stored (uri, policy) keys. */
  get size(): number {
    return this.exact.size + this.prefix.size + this.wildcard.size;
  }

  /** All stored values, in no particular order. */
  *values(): IterableIterator<T> {
    yield* this.exact.values();
    for (const entry of this.prefix.entries()) yield entry.value;
    for (const entry of this.wildcard.entries()) yield entry.value;
  }

  /**
   * Calls fn for every stored (uri, policy) that matches `topic`: the exact one, then prefixes
   * (shortest first), then wildcards. Pub/sub delivers on each of them ("the event will be
   * delivered for each subscription", ap_pubsub_pattern_based_subscription.md).
   * fn must not modify this index while the walk is in progress.
   */
  forEachMatch(topic: string, fn: (value: T, policy: MatchPolicy, uri: string) => void): void {
    if (this.exact.size > 0) {
      const value = this.exact.get(topic);
      if (value !== undefined || this.exact.has(topic)) fn(value as T, 'exact', topic);
    }
    if (this.prefix.size > 0) this.prefix.forEachMatch(topic, (e) => fn(e.value, 'prefix', e.uri));
    if (this.wildcard.size > 0) this.wildcard.forEachMatch(topic, (e) => fn(e.value, 'wildcard', e.uri));
  }

  /**
   * The single registration a call is routed to, by the algorithm the spec says MUST be
   * applied (ap_rpc_pattern_based_registration.md, "Calls matching multiple registrations"):
   * an exact match; else the longest matching prefix; else the wildcard pattern with the
   * longest portion of URI components matched before each wildcard. undefined means the
   * dealer answers `wamp.error.no_such_procedure`.
   */
  best(topic: string): BestMatch<T> | undefined {
    if (this.exact.has(topic)) return { value: this.exact.get(topic) as T, policy: 'exact', uri: topic };
    const pre = this.prefix.size > 0 ? this.prefix.longest(topic) : undefined;
    if (pre !== undefined) return toBest(pre, 'prefix');
    const wild = this.wildcard.size > 0 ? this.wildcard.best(topic) : undefined;
    return wild === undefined ? undefined : toBest(wild, 'wildcard');
  }

  /** Trie nodes currently allocated (diagnostics and leak tests); 0 when no pattern is stored. */
  nodeCount(): number {
    return this.prefix.nodeCount() + this.wildcard.nodeCount();
  }
}

function toBest<T>(entry: MatchEntry<T>, policy: MatchPolicy): BestMatch<T> {
  return { value: entry.value, policy, uri: entry.uri };
}
