/**
 * The node directory: the last advert of every live node (backplane.ts `NodeAdvert`). The
 * backplane feeds it from heartbeats and takes nodes out when membership declares them gone;
 * this node's own entry is read from its advert source whenever the directory is read. It
 * remembers the start time of the last nodes that left (bounded), so a node heard again can be
 * told apart: the same start time came back, another one restarted.
 */
import type { NodeAdvert, NodeEntry } from './backplane.js';

const NOTHING: NodeAdvert = { startedAt: Date.now(), addresses: [], load: { sessions: 0, connections: 0, cpu: 0, queuedBytes: 0 }, state: 'ready' };

/** Nodes that left whose start time is remembered. */
const MAX_LEFT = 1024;

export class NodeDirectory {
  private readonly others = new Map<string, NodeEntry>();
  private source: () => NodeAdvert = () => NOTHING;
  private readonly left = new Map<string, number>();

  constructor(readonly self: string) {}

  advertise(source: () => NodeAdvert): void {
    this.source = source;
  }

  /** This node's advert now. */
  own(): NodeAdvert {
    return this.source();
  }

  /** Another node's advert; true when the node is new to the directory. */
  update(node: string, advert: NodeAdvert, now = Date.now()): boolean {
    const known = this.others.has(node);
    this.others.set(node, { node, seenAt: now, ...advert });
    return !known;
  }

  /** Takes a node out; its last entry, or undefined if it never advertised. */
  remove(node: string): NodeEntry | undefined {
    const entry = this.others.get(node);
    if (!entry) return undefined;
    this.others.delete(node);
    this.left.delete(node);
    this.left.set(node, entry.startedAt);
    if (this.left.size > MAX_LEFT) this.left.delete(this.left.keys().next().value!);
    return entry;
  }

  /** Whether `entry` is a node that left and came back without restarting. */
  returned(entry: NodeEntry): boolean {
    return this.left.get(entry.node) === entry.startedAt;
  }

  get(node: string): NodeEntry | undefined {
    return node === this.self ? this.selfEntry() : this.others.get(node);
  }

  list(): NodeEntry[] {
    return [this.selfEntry(), ...this.others.values()];
  }

  private selfEntry(): NodeEntry {
    return { node: this.self, seenAt: Date.now(), ...this.source() };
  }
}
