/**
 * The embedded single-node backplane: no other node exists, so interest is always satisfied,
 * nothing leaves the process, and the registry lives in memory under the same rules as the
 * cluster's (registry-rules.ts). Limit: one node only; it cannot form a cluster.
 */
import { randomBytes } from 'node:crypto';
import type { MatchPolicy } from '../../wamp/uri.js';
import type { Dict, InvokePolicy } from '../../wamp/messages.js';
import type {
  Backplane, BackplaneHandlers, BackplaneHealth, CallHandle, ClusterCallee, ClusterReg, NodeAdvert, NodeEntry, RegisterOutcome,
} from '../backplane.js';
import { NodeDirectory } from '../node-directory.js';
import { MemoryRetainedTable } from '../retained-memory.js';
import { MemoryHistoryLog } from '../history-memory.js';
import { applyRegister, applyUnregister } from '../registry-rules.js';
import { SessionIds } from '../session-ids.js';

export class LocalBackplane implements Backplane {
  readonly nodeId = `node-${randomBytes(4).toString('hex')}`;
  /** Retained events live in this process, as the router did before clusters. */
  readonly retained = new MemoryRetainedTable();
  /** Event history rings live in the router (EventStore); appends go straight to them. */
  readonly history = new MemoryHistoryLog();
  private readonly sessionIds = new SessionIds();
  private readonly registry = new Map<string, ClusterReg>();
  private handlers: BackplaneHandlers | undefined;
  private readonly nodes = new NodeDirectory(this.nodeId);

  async start(handlers: BackplaneHandlers): Promise<void> {
    this.handlers = handlers;
  }

  async stop(): Promise<void> {}

  health(): BackplaneHealth {
    return 'standalone';
  }

  members(): ReadonlyMap<string, number> {
    return new Map([[this.nodeId, Date.now()]]);
  }

  advertise(source: () => NodeAdvert): void {
    this.nodes.advertise(source);
  }

  /** Only this node. */
  directory(): readonly NodeEntry[] {
    return this.nodes.list();
  }

  newSessionId(): number {
    return this.sessionIds.next();
  }

  releaseSessionId(id: number): void {
    this.sessionIds.release(id);
  }

  /** This node is the whole cluster: its first subscriber is the first anywhere. */
  holdSubscription(): boolean {
    return true;
  }

  releaseSubscription(): boolean {
    return true;
  }

  async addInterest(): Promise<void> {}

  removeInterest(): void {}

  publish(): 'local-only' {
    return 'local-only';
  }

  async confirm(): Promise<void> {}

  async register(realm: string, uri: string, match: MatchPolicy, invoke: InvokePolicy, callee: ClusterCallee, force: boolean): Promise<RegisterOutcome> {
    const key = registryKey(realm, uri, match);
    const decision = applyRegister(this.registry.get(key), { realm, uri, match, invoke, callee, force });
    if ('error' in decision) return decision;
    this.registry.set(key, decision.next);
    this.handlers?.registryChanged(realm, uri, match, decision.next);
    return { regId: decision.next.regId };
  }

  unregister(realm: string, uri: string, match: MatchPolicy, session: number): boolean {
    const key = registryKey(realm, uri, match);
    const next = applyUnregister(this.registry.get(key), this.nodeId, session);
    if (next === 'unchanged') return false;
    if (next) this.registry.set(key, next);
    else this.registry.delete(key);
    this.handlers?.registryChanged(realm, uri, match, next);
    return next === undefined;
  }

  /** Testaments live in the router's memory: a single node cannot outlive itself. */
  keepTestaments(): void {}

  /** No other node exists to ask. */
  async query(): Promise<Dict[]> {
    return [];
  }

  /** The registry is this process's own: always current. */
  async refresh(): Promise<void> {}

  invoke(): CallHandle {
    // Every callee of a single node is local; the dealer never routes a call here.
    throw new Error('LocalBackplane has no remote callees');
  }
}

function registryKey(realm: string, uri: string, match: MatchPolicy): string {
  return `${realm}\u0000${match}\u0000${uri}`;
}
