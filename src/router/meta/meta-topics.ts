/**
 * The router's own topics: WAMP's meta events (`wamp.*`, which clients may not publish to),
 * xbar's statistics event and its node directory's join and leave events. Statistics count publications to them apart from the clients' traffic.
 */
import { isReservedUri } from '../../wamp/uri.js';

export const STATS_TOPIC = 'xbar.stats.on_update';
export const NODE_JOIN_TOPIC = 'xbar.cluster.on_node_join';
export const NODE_LEAVE_TOPIC = 'xbar.cluster.on_node_leave';
const OWN_TOPICS = new Set([STATS_TOPIC, NODE_JOIN_TOPIC, NODE_LEAVE_TOPIC]);

export function isMetaTopic(topic: string): boolean {
  return isReservedUri(topic) || OWN_TOPICS.has(topic);
}
