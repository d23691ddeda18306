/**
 * The backplane connects the nodes of a cluster (design/cluster.md §7). The router sees only
 * this interface; `LocalBackplane` implements it for a single node with no NATS, and the NATS
 * backplane (scale-out issue) extends it with remote events, registry and invocations.
 *
 * Contract so far:
 * - `newSessionId()` returns an id in [1, 2^53] unique among live sessions of the whole cluster.
 * - `publish()` hands an event to every other interested node at most once, preserving the
 *   publisher's order; it never blocks. It returns 'local-only' when no other node exists.
 * - `addInterest()` resolves once remote events for the pattern will reach this node.
 */
import type { MatchPolicy } from '../config/types.js';

export type BackplaneHealth = 'standalone' | 'ready' | 'degraded' | 'isolated';

export interface Backplane {
  readonly nodeId: string;
  health(): BackplaneHealth;
  newSessionId(): number;
  releaseSessionId(id: number): void;
  addInterest(realm: string, uri: string, match: MatchPolicy): Promise<void>;
  removeInterest(realm: string, uri: string, match: MatchPolicy): void;
  stop(): Promise<void>;
}
