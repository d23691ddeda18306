/**
 * The node directory over WAMP: the router-answered procedure `xbar.cluster.nodes` (every live
 * node's addresses, load and state; this node first) and the events `xbar.cluster.on_node_join`
 * and `xbar.cluster.on_node_leave`, each published once for the whole cluster by the node the
 * backplane names (`BackplaneHandlers.nodeJoined`). Calling and subscribing need permissions on
 * these URIs like any other; the procedure takes no arguments.
 */
import type { NodeEntry } from '../../backplane/backplane.js';
import type { NodeView } from '../../stats/snapshot.js';
import type { Dict } from '../../wamp/messages.js';
import type { Realm } from '../realm.js';
import { NODE_JOIN_TOPIC, NODE_LEAVE_TOPIC } from './meta-topics.js';

export const NODES_PROCEDURE = 'xbar.cluster.nodes';
export { NODE_JOIN_TOPIC, NODE_LEAVE_TOPIC };

/** A directory entry as WAMP clients read it. */
export function nodeDetails(e: NodeEntry): NodeView {
  return {
    node: e.node, addresses: [...e.addresses], state: e.state,
    sessions: e.load.sessions, connections: e.load.connections, cpu_percent: Math.round(e.load.cpu), queued_bytes: e.load.queuedBytes,
    started_at: new Date(e.startedAt).toISOString(), seen_at: new Date(e.seenAt).toISOString(),
  };
}

export function installClusterDirectory(realm: Realm, directory: () => readonly NodeEntry[]): void {
  realm.meta.addProcedure(NODES_PROCEDURE, () => ({ args: [directory().map(nodeDetails)] }));
}

/** Tells the realm's subscribers on every node that `entry` joined or left the cluster. */
export function publishNodeChange(realm: Realm, change: 'join' | 'leave', entry: NodeEntry): void {
  realm.broker.publishInternal(change === 'join' ? NODE_JOIN_TOPIC : NODE_LEAVE_TOPIC, [nodeDetails(entry) as unknown as Dict], undefined);
}
