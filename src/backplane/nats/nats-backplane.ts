/**
 * The NATS backplane: several xbar nodes act as one router (design/cluster.md). This class wires
 * the parts, each of which owns one job over the node's one connection (link.ts):
 * - events.ts: interest, publishing, duplicate drop, reconnect replay;
 * - registry.ts: the registrations in a JetStream KV bucket and this node's replica;
 * - rpc.ts: invocations to other nodes' callees and their answers;
 * - testaments.ts: testaments kept in KV, published by the reaper when their node dies;
 * - retained-kv.ts: retained events in KV, replicated to every node;
 * - history-streams.ts: event history, a stream per history rule that every node follows;
 * - subscription-holders.ts: which nodes hold each subscription (first/last for meta events);
 * - meta-queries.ts: scatter-gather queries of the meta API;
 * - heartbeats.ts: membership (heartbeats, dead nodes) and the session-id slot.
 * Every frame between nodes is written and read in frame.ts.
 *
 * Guarantees as in backplane.ts: pub/sub at-most-once in publisher order; RPC exactly one outcome.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { MatchPolicy } from '../../wamp/uri.js';
import type { Dict, InvokePolicy } from '../../wamp/messages.js';
import type {
  Backplane, BackplaneCounts, BackplaneHandlers, BackplaneHealth, CallHandle, ClusterCallee, EventOut, NodeAdvert, NodeEntry, RegisterOutcome, RemoteInvocation,
  ReplySink, StoredTestament,
} from '../backplane.js';
import { randomId } from '../../wamp/ids.js';
import { SessionIds } from '../session-ids.js';
import { NatsEvents, REPLAY_DEFAULTS } from './events.js';
import { Heartbeats } from './heartbeats.js';
import { NatsLink, type NatsBackplaneOptions } from './link.js';
import { NatsMetaQueries } from './meta-queries.js';
import { NatsRegistry } from './registry.js';
import { NatsRpc } from './rpc.js';
import { Subjects } from './subjects.js';
import { NatsTestaments } from './testaments.js';
import { NatsRetained } from './retained-kv.js';
import { NatsHistory } from './history-streams.js';
import { SubscriptionHolders } from './subscription-holders.js';
import { claimNodeName } from './node-name.js';
import type { NatsConnection } from 'nats';

export type { NatsBackplaneOptions } from './link.js';

export class NatsBackplane implements Backplane {
  readonly nodeId: string;
  private handlers: BackplaneHandlers | undefined;
  private readonly link: NatsLink;
  private readonly heartbeats: Heartbeats;
  private readonly events: NatsEvents;
  private readonly registry: NatsRegistry;
  private readonly rpc: NatsRpc;
  private readonly testaments: NatsTestaments;
  private readonly metaQueries: NatsMetaQueries;
  readonly retained: NatsRetained;
  readonly history: NatsHistory;
  private readonly holders: SubscriptionHolders;
  private readonly sessionIds: SessionIds;
  /** The join under way (listenWhileJoining), until it succeeds. */
  private pendingJoin: Promise<void> | undefined;
  /** While disconnected: when this node last heard the cluster before, where a reconnect's replay starts. */
  private gapStart: number | undefined;

  constructor(private readonly options: NatsBackplaneOptions, log: Logger) {
    // The configured name is the node's id (one live node per name: node-name.ts); unnamed nodes get a random one.
    this.nodeId = options.name ?? `node-${randomBytes(4).toString('hex')}`;
    this.link = new NatsLink(this.nodeId, new Subjects(options.cluster), options, log.child({ self: this.nodeId }));
    const heartbeatMs = options.heartbeatMs ?? 1000;
    this.heartbeats = new Heartbeats(this.link, heartbeatMs, options.deadAfterMs ?? 3 * heartbeatMs, (node) => this.nodeLost(node), (entry) => {
      this.handlers?.nodeJoined?.(entry, this.heartbeats.directory.returned(entry) && this.heartbeats.members.isAnnouncerFor(entry.node));
    }, (node) => {
      void this.registry.nodeBack(node);
    }, {
      // Connected, but the server has lost the rest of the NATS cluster: as between a disconnect and its reconnect.
      cut: () => {
        this.gapStart ??= this.heartbeats.heardAt > 0 ? Math.min(Date.now(), this.heartbeats.heardAt) : Date.now();
        this.events.holdBack();
      },
      rejoined: () => {
        const gapStart = this.gapStart ?? Date.now();
        this.gapStart = undefined;
        void this.events.replay(gapStart);
      },
    });
    const members = this.heartbeats.members;
    const handlers = () => this.handlers;
    this.events = new NatsEvents(this.link, members, (ev) => this.handlers?.event(ev), {
      windowMs: options.replayWindowMs ?? REPLAY_DEFAULTS.windowMs, maxBytes: options.replayBufferBytes ?? REPLAY_DEFAULTS.maxBytes,
    });
    this.registry = new NatsRegistry(this.link, options.registryTimeoutMs ?? 10_000, (before, after) => {
      const reg = after ?? before;
      if (!reg) return;
      for (const c of after?.callees ?? []) members.know(c.node);
      this.handlers?.registryChanged(reg.realm, reg.uri, reg.match, after);
    });
    this.rpc = new NatsRpc(this.link, members, handlers);
    this.testaments = new NatsTestaments(this.link, (realm, list) => this.handlers?.orphanedTestaments(realm, list));
    this.metaQueries = new NatsMetaQueries(this.link, members, handlers);
    this.retained = new NatsRetained(this.link);
    this.history = new NatsHistory(this.link, options.cluster);
    this.holders = new SubscriptionHolders(this.link);
    // In this node's slot once claimed (unique across the cluster), random before.
    this.sessionIds = new SessionIds(() => {
      const slot = this.heartbeats.slot;
      return slot && slot.claimed >= 0 ? slot.newId() : randomId();
    });
  }

  async start(handlers: BackplaneHandlers): Promise<void> {
    this.handlers = handlers;
    const join = this.join();
    this.pendingJoin = join;
    join.then(() => (this.pendingJoin = undefined), () => undefined);
    if (!this.options.listenWhileJoining) await join;
  }

  joining(): Promise<void> | undefined {
    return this.pendingJoin;
  }

  private async join(): Promise<void> {
    const nc = await this.link.connect({
      disconnected: () => {
        // Read now: once reconnected, heartbeats on the new connection may come before the event.
        this.gapStart ??= this.heartbeats.heardAt > 0 ? Math.min(Date.now(), this.heartbeats.heardAt) : Date.now();
        this.heartbeats.disconnected();
        this.events.holdBack();
      },
      reconnected: (since) => {
        const gapStart = Math.min(since, this.gapStart ?? since);
        this.gapStart = undefined;
        this.heartbeats.reconnected();
        this.heartbeats.heartbeat();
        void this.events.replay(gapStart); // resends this node's own publications at its end
      },
    });
    await claimNodeName(this.link, nc, this.options.cluster);
    this.rpc.start(nc);
    this.metaQueries.start(nc);
    this.events.start(nc);
    try {
      await this.registry.start(nc);
      await this.testaments.start(nc);
      await this.retained.start(nc);
      await this.history.start(nc);
      await this.holders.start(nc);
      await this.heartbeats.start(nc);
    } catch (err) {
      if ((err as { code?: string }).code === '503') {
        throw new Error(`NATS at ${nc.getServer()} has no JetStream: start nats-server with -js (xbar keeps the cluster's registrations and session-id slots in JetStream key-value buckets)`, { cause: err });
      }
      throw err;
    }
    if (this.options.name !== undefined && (this.heartbeats.earlierSlots > 0 || this.registry.hasCalleesOf(this.nodeId))) await this.takeOver(nc);
    this.testaments.accept();
    await nc.flush();
    this.heartbeats.beat();
    this.link.log.info({ node: this.nodeId, servers: this.options.servers, cluster: this.options.cluster }, 'joined NATS backplane');
  }

  /**
   * The previous node of this name died without leaving (kill -9, a crash) and the others may not
   * have noticed yet: publish what its sessions left as testaments, take its callees out of the
   * registry, and say its bye, so that calls waiting on it fail now.
   */
  private async takeOver(nc: NatsConnection): Promise<void> {
    this.link.log.warn({ node: this.nodeId }, 'the previous node of this name did not leave cleanly: publishing its testaments and removing its registrations');
    await this.testaments.reap(this.nodeId);
    await this.registry.nodeLost(this.nodeId, true);
    await this.holders.nodeLost(this.nodeId);
    this.heartbeats.sayBye(nc);
  }

  async stop(): Promise<void> {
    this.heartbeats.quiet();
    this.events.close();
    this.history.close();
    await this.link.stop((nc) => this.heartbeats.leave(nc));
  }

  /** The link's, but degraded while connected to a server that has lost the rest of the NATS cluster. */
  health(): BackplaneHealth {
    const h = this.link.health();
    return h === 'ready' && this.heartbeats.hearsTooFew ? 'degraded' : h;
  }

  members(): ReadonlyMap<string, number> {
    return this.heartbeats.members.live();
  }

  advertise(source: () => NodeAdvert): void {
    this.heartbeats.directory.advertise(source);
    this.heartbeats.beatNow();
  }

  directory(): readonly NodeEntry[] {
    return this.heartbeats.directory.list();
  }

  counts(): BackplaneCounts {
    return { replayBufferBytes: this.events.bufferedBytes, replayOverflowed: this.events.overflowed };
  }

  newSessionId(): number {
    return this.sessionIds.next();
  }

  releaseSessionId(id: number): void {
    this.sessionIds.release(id);
  }

  /** The NATS server this node is connected to now (for operators and tests). */
  server(): string | undefined {
    return this.link.server();
  }

  holdSubscription(realm: string, uri: string, match: MatchPolicy): Promise<boolean> {
    return this.holders.hold(realm, uri, match);
  }

  releaseSubscription(realm: string, uri: string, match: MatchPolicy): Promise<boolean> {
    return this.holders.release(realm, uri, match);
  }

  addInterest(realm: string, uri: string, match: MatchPolicy): Promise<void> {
    return this.events.addInterest(realm, uri, match);
  }

  removeInterest(realm: string, uri: string, match: MatchPolicy): void {
    this.events.removeInterest(realm, uri, match);
  }

  publish(ev: EventOut): 'sent' | 'local-only' | 'unavailable' {
    return this.events.publish(ev);
  }

  confirm(): Promise<void> {
    return this.events.confirm();
  }

  register(realm: string, uri: string, match: MatchPolicy, invoke: InvokePolicy, callee: ClusterCallee, force: boolean): Promise<RegisterOutcome> {
    return this.registry.register(realm, uri, match, invoke, callee, force);
  }

  unregister(realm: string, uri: string, match: MatchPolicy, session: number): Promise<boolean> {
    return this.registry.unregister(realm, uri, match, session);
  }

  refresh(realm: string, uri: string, match: MatchPolicy): Promise<void> {
    return this.registry.refresh(realm, uri, match);
  }

  invoke(node: string, inv: RemoteInvocation, sink: ReplySink): CallHandle {
    return this.rpc.invoke(node, inv, sink);
  }

  query(realm: string, query: Dict, maxWaitMs?: number): Promise<Dict[]> {
    return this.metaQueries.query(realm, query, maxWaitMs);
  }

  keepTestaments(realm: string, session: number, testaments: readonly StoredTestament[]): void {
    this.testaments.keep(realm, session, testaments);
  }

  releaseTestaments(_realm: string, session: number): Promise<boolean> {
    return this.testaments.release(session);
  }

  /** A node died: its calls fail, invocations it asked for stop, its registrations go. */
  private nodeLost(node: string): void {
    const members = this.heartbeats.members;
    this.link.log.warn({ node, why: members.why }, 'cluster node lost');
    this.rpc.nodeLost(node);
    // A node that is stopping leaves the reaping to the others; a stop waits for a reap under way
    // (a KV listing that started while the connection drains would never end).
    const reaper = members.isReaper() && !this.link.isStopping;
    void this.registry.nodeLost(node, reaper);
    this.handlers?.memberDown(node);
    const entry = this.heartbeats.directory.remove(node);
    if (entry) this.handlers?.nodeLeft?.(entry, members.isReaper());
    if (reaper) void this.link.track(this.testaments.reap(node));
    if (reaper) void this.link.track(this.holders.nodeLost(node));
  }
}
