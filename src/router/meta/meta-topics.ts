/**
 * The router's own topics: WAMP's meta events (`wamp.*`, which clients may not publish to) and
 * xbar's statistics event. Statistics count publications to them apart from the clients' traffic.
 */
import { isReservedUri } from '../../wamp/uri.js';

export const STATS_TOPIC = 'xbar.stats.on_update';

export function isMetaTopic(topic: string): boolean {
  return isReservedUri(topic) || topic === STATS_TOPIC;
}
