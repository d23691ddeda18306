import { createHash } from 'node:crypto';

/**
 * Subscription and registration IDs are a hash of (realm, match, uri), so every node of a cluster
 * gives the same ID to the same subscription (design/cluster.md §4, IDs). Range [1, 2^53].
 */
export function stableId(realm: string, match: string, uri: string): number {
  const digest = createHash('sha256').update(`${realm}\u0000${match}\u0000${uri}`).digest();
  return Number(digest.readBigUInt64BE(0) >> 11n) + 1;
}
