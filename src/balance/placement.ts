/**
 * Where sessions should go, from the node directory (backplane.ts `NodeEntry`): pure rules shared
 * by admission (the alternatives a refusal names), the rendezvous service (the least loaded node
 * first) and shedding (the cluster's mean).
 */
import type { NodeEntry, NodeLoad, NodeState } from '../backplane/backplane.js';
import type { PlacementConfig } from '../config/types.js';

/** A node's state from its load: `full` at max_sessions, `busy` at the high-water mark. */
export function stateOf(load: NodeLoad, cfg: PlacementConfig | undefined): NodeState {
  if (cfg?.maxSessions !== undefined && load.sessions >= cfg.maxSessions) return 'full';
  if (cfg?.highWater !== undefined && load.sessions >= cfg.highWater) return 'busy';
  return 'ready';
}

const RANK: Record<NodeState, number> = { ready: 0, busy: 1, full: 2, stopping: 3 };

/** Nodes that take sessions (ready, then busy), each group least loaded first (sessions, then CPU). */
export function byLoad(nodes: readonly NodeEntry[]): NodeEntry[] {
  return nodes
    .filter((n) => n.state === 'ready' || n.state === 'busy')
    .sort((a, b) => RANK[a.state] - RANK[b.state] || a.load.sessions - b.load.sessions || a.load.cpu - b.load.cpu || (a.node < b.node ? -1 : 1));
}

/** Other nodes that take sessions and have fewer than `self`, least loaded first. */
export function lighterThan(nodes: readonly NodeEntry[], self: NodeEntry): NodeEntry[] {
  return byLoad(nodes).filter((n) => n.node !== self.node && n.load.sessions < self.load.sessions && n.addresses.length > 0);
}

/**
 * The most sessions a node should keep: the mean over the nodes that take sessions (counting
 * `inFlight` sessions this node sent away that have not arrived elsewhere yet), plus `margin`
 * percent, and at least one more than the mean so two nodes never trade one session back and forth.
 */
export function fairShare(nodes: readonly NodeEntry[], inFlight: number, margin: number): number {
  const taking = nodes.filter((n) => n.state !== 'stopping');
  if (taking.length === 0) return Infinity;
  const mean = (taking.reduce((sum, n) => sum + n.load.sessions, 0) + inFlight) / taking.length;
  return Math.max(Math.ceil((mean * (100 + margin)) / 100), Math.floor(mean) + 1);
}

/** The URLs of `nodes` in their order, each node's own order kept. */
export function urlsOf(nodes: readonly NodeEntry[]): string[] {
  return nodes.flatMap((n) => n.addresses);
}
