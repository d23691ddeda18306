/**
 * The backplane connects the nodes of a cluster (design/cluster.md §7). The router sees only this
 * interface; `LocalBackplane` is the embedded single-node default and `NatsBackplane` joins nodes
 * over NATS. Inbound traffic arrives through `BackplaneHandlers`.
 *
 * Contract:
 * - `newSessionId()` is unique among live sessions of the whole cluster, in [1, 2^53].
 * - `publish()` hands an event to every other node with interest at most once, in the
 *   publisher's order, never blocking; receivers get each event once (`handlers.event`) however
 *   many of their subscriptions overlap. At-most-once: a node failure can lose events; a NATS outage
 *   loses none that `confirm()` confirmed while the backplane still keeps them (NATS: replay_window).
 * - `addInterest()` resolves once events published afterwards anywhere reach this node.
 * - `register()` is linearizable per procedure: a single registration is unique cluster-wide and
 *   a shared one keeps one invoke policy; the callee order is the global first/last order. Every
 *   change of a registration reaches every node as `handlers.registryChanged` (the registering
 *   node's own change before `register()` resolves).
 * - `invoke()` sends an invocation to a callee on another node; the sink gets exactly one final
 *   outcome: result, error, `undelivered` (provably not delivered: safe to reroute) or `lost`
 *   (the callee's node died). The invocation's, chunks' and answers' payload bytes cross as the
 *   client encoded them, as an event's do.
 * - `retained` holds every realm's retained events where every node reads them (one per topic):
 *   in memory on one node, a replicated JetStream KV bucket in a cluster (it outlives the node
 *   that published). The router bounds it (router/meta/event-store.ts).
 * - `history` keeps each event history rule's last publications, appended by the node a
 *   publication was made through and delivered to every node that follows the rule.
 * - `holdSubscription()` / `releaseSubscription()`: of all nodes holding and releasing one
 *   subscription, exactly one is told it was the first (from none) and one the last (to none).
 */
import type { MatchPolicy } from '../wamp/uri.js';
import type { Args, CancelMode, Content, Dict, InvokePolicy, Kwargs, Receivers } from '../wamp/messages.js';
import type { EncodedPayload } from '../wamp/payload.js';

export type BackplaneHealth = 'standalone' | 'ready' | 'degraded' | 'isolated';

export interface Ident {
  readonly session: number;
  readonly authid: string;
  readonly authrole: string;
  /** The rlink hops a forwarded publication took (EVENT.Details.forward_for). */
  readonly forwardFor?: readonly Ident[];
}

/** A publication as it crosses to other nodes; receivers match and filter their own sessions. */
export interface EventOut {
  readonly realm: string;
  readonly topic: string;
  readonly publication: number;
  readonly publisher?: Ident;
  /** The publication's exclude/eligible lists; undefined when it has none. */
  readonly receivers?: Receivers;
  readonly args: Args;
  readonly kwargs: Kwargs;
  /** PUBLISH.Options `_mqtt`: MQTT message attributes, forwarded as EVENT.Details `_mqtt` (router/broker.ts). */
  readonly mqtt?: Dict;
  /** PUBLISH.Options describing a transparent payload (wamp/transparency.ts), forwarded as EVENT.Details. */
  readonly ppt?: Dict;
  /**
   * The publisher's own Arguments|ArgumentsKw bytes, when its serializer could locate them: they
   * cross to the other nodes as they are, and receivers there on the same serializer get them
   * spliced in, as on one node. Given to `publish` only (it may be a view of a read buffer).
   */
  readonly payload?: EncodedPayload;
}

export interface ClusterCallee {
  readonly node: string;
  readonly session: number;
  readonly authid: string;
  readonly authrole: string;
  readonly concurrency?: number;
  readonly discloseCaller: boolean;
}

export interface ClusterReg {
  readonly realm: string;
  readonly uri: string;
  readonly match: MatchPolicy;
  readonly invoke: InvokePolicy;
  readonly regId: number;
  readonly callees: readonly ClusterCallee[];
}

export type RegisterOutcome = { readonly regId: number } | { readonly error: string; readonly message: string };

export interface RemoteInvocation {
  readonly realm: string;
  /** The URI the caller called (differs from the registration's for pattern registrations). */
  readonly procedure: string;
  readonly regId: number;
  readonly callee: number;
  readonly details: Dict;
  readonly args: Args;
  readonly kwargs: Kwargs;
  /**
   * The caller's own Arguments|ArgumentsKw bytes, as for `EventOut.payload`: the callee gets them
   * spliced in when it is on the same serializer. Given to `invoke` only (it may be a view of a
   * read buffer); on the callee's node `args`/`kwargs` are then decoded from it on first read.
   */
  readonly payload?: EncodedPayload;
}

/**
 * Caller side: where a remote callee's answers land. An answer's content carries the callee's own
 * bytes when it had them (its `args`/`kwargs` are then read from them on first use).
 */
export interface ReplySink {
  progress(answer: Content): void;
  result(answer: Content): void;
  error(uri: string, answer: Content, details: Dict): void;
  /** Provably not delivered (no such node, callee gone, or busy): rerouting is safe. */
  undelivered(why: 'gone' | 'busy'): void;
}

/** Callee side: how the local dealer answers a remote caller. */
export interface ReplyPort {
  /** The content may be a view of a read buffer: it is sent (or copied) before the call returns. */
  progress(answer: Content): void;
  result(answer: Content): void;
  error(uri: string, answer: Content, details: Dict): void;
  reject(why: 'gone' | 'busy'): void;
}

/** Controls an invocation in flight: further progressive chunks, and cancellation. */
export interface CallHandle {
  /** The chunk's content is sent (or copied) before the call returns. */
  chunk(content: Content, last: boolean): void;
  /** `reason` is the INTERRUPT's reason at the callee (wamp.error.canceled or wamp.error.timeout). */
  cancel(mode: CancelMode, reason?: string): void;
}

/** A testament as the backplane keeps it for a session (published if the session's node dies). */
export interface StoredTestament {
  readonly topic: string;
  readonly args: Args;
  readonly kwargs: Kwargs;
  readonly options: Dict;
}

/**
 * What a node is in the cluster's node directory: how clients reach it and how busy it is. Each
 * node's own advert rides on its heartbeats (NATS) and is read again at every beat.
 */
export type NodeState = 'ready' | 'busy' | 'full' | 'stopping';

export interface NodeLoad {
  readonly sessions: number;
  readonly connections: number;
  /** The process's CPU use over the last heartbeat interval, percent of one core. */
  readonly cpu: number;
  /** Bytes queued in every out-buffer of the node together. */
  readonly queuedBytes: number;
}

export interface NodeAdvert {
  /** When the node started, ms since epoch: a node that restarted is told from one that came back. */
  readonly startedAt: number;
  /** Client-facing URLs (`cluster.advertise`, or what the node listens on). */
  readonly addresses: readonly string[];
  readonly load: NodeLoad;
  readonly state: NodeState;
}

/** A node of the directory: its last advert and when it came. */
export interface NodeEntry extends NodeAdvert {
  readonly node: string;
  /** ms since epoch of the advert. */
  readonly seenAt: number;
}

/** A retained event or event history entry as the backplane keeps it: the publication, when and how big it was. */
export interface StoredEntry {
  readonly event: EventOut;
  /** ms since the epoch, when it was retained. */
  readonly time: number;
  /** What it counts against the realm's byte bound (router/meta/value-size.ts, reckoned at its origin). */
  readonly bytes: number;
}

/**
 * The retained event of each topic of each realm, the same on every node. Reads are local and
 * synchronous (a cluster keeps a replica); a write shows in this node's reads at once and on the
 * other nodes an instant later.
 */
export interface RetainedTable {
  get(realm: string, topic: string): StoredEntry | undefined;
  /** The realm's retained events, the longest retained first. */
  entries(realm: string): IterableIterator<StoredEntry>;
  count(realm: string): number;
  /** The sum of the realm's entries' `bytes`. */
  bytes(realm: string): number;
  /** Keeps `entry` as its topic's retained event in place of any other; resolves once every node can read it. */
  put(entry: StoredEntry): Promise<void>;
  delete(realm: string, topic: string): void;
  /**
   * Brings one topic's entry up to date (another node may have just retained it): a promise to
   * wait for, or undefined when the table is always current (one node).
   */
  refresh(realm: string, topic: string): Promise<void> | undefined;
}

/** The bounds of one event history rule's log (a realm's `store.event-history` entry). */
export interface HistoryBounds {
  /** Publications kept. */
  readonly limit: number;
  /** ms; older ones are dropped. undefined = no age limit. */
  readonly maxAgeMs?: number;
}

/**
 * Event history, the cluster's: one log per (realm, history rule id), bounded as the rule says.
 * Whatever any node appends reaches every node that follows the log, in the log's one order.
 */
export interface HistoryLog {
  /**
   * Follows a rule's log: `deliver` gets what it keeps (oldest first), then each entry appended on
   * any node. Resolves once the kept entries have been delivered.
   */
  follow(realm: string, id: number, bounds: HistoryBounds, deliver: (entry: StoredEntry) => void): Promise<void>;
  /**
   * Appends to a rule's log (the publication was made through this node): a promise settled once
   * the log has it, or undefined when it was delivered at once (one node). A log exists once a
   * node follows it (each realm follows its rules when it starts); an append before is lost.
   */
  append(realm: string, id: number, entry: StoredEntry): Promise<void> | undefined;
  /**
   * Waits until this node's follower has had everything appended anywhere before the call: a
   * promise, or undefined when it always has (one node).
   */
  sync(realm: string, id: number): Promise<void> | undefined;
}

export interface BackplaneHandlers {
  /** Testaments of sessions whose node died, to be published in `realm` (by exactly one node). */
  orphanedTestaments(realm: string, testaments: readonly StoredTestament[]): void;
  event(ev: EventOut): void;
  /** Answers another node's scatter-gather query about this node's part of a realm (meta API). */
  metaQuery(realm: string, query: Dict): Dict | undefined;
  invocation(inv: RemoteInvocation, reply: ReplyPort): CallHandle;
  registryChanged(realm: string, uri: string, match: MatchPolicy, reg: ClusterReg | undefined): void;
  memberDown(node: string): void;
  /**
   * The directory gained a node. `announce`: this node is the one that tells the cluster — a
   * node that starts tells of itself, so only a return (a node taken for dead that is heard again,
   * not restarted) is told by another: the lowest live node but the returning one.
   */
  nodeJoined?(entry: NodeEntry, announce: boolean): void;
  /** A node left the directory (its bye, or silence); `announce`: this node tells (the lowest live id). */
  nodeLeft?(entry: NodeEntry, announce: boolean): void;
}

/** What a backplane counts for /metrics. */
export interface BackplaneCounts {
  /** Bytes of this node's recent publications kept for resending and replay after an outage. */
  readonly replayBufferBytes: number;
  /** Publications pushed out of that buffer by its byte bound before their window ended. */
  readonly replayOverflowed: number;
}

export interface Backplane {
  readonly nodeId: string;
  /** Retained events of every realm (see the contract above). */
  readonly retained: RetainedTable;
  /** Event history of every realm: in memory on one node, JetStream streams in a cluster. */
  readonly history: HistoryLog;
  /**
   * This node's first local subscriber to (realm, uri, match) came: whether no other node has one,
   * i.e. this is the cluster's first subscriber (`wamp.subscription.on_create` is this node's to
   * publish). A boolean at once on one node, a promise in a cluster (false if the cluster could
   * not be asked).
   */
  holdSubscription(realm: string, uri: string, match: MatchPolicy): boolean | Promise<boolean>;
  /** This node's last local subscriber left: whether it was the cluster's last (`on_delete`). */
  releaseSubscription(realm: string, uri: string, match: MatchPolicy): boolean | Promise<boolean>;
  start(handlers: BackplaneHandlers): Promise<void>;
  stop(): Promise<void>;
  /**
   * While the backplane is still joining its cluster after `start()` returned (a NATS backplane
   * that listens while it waits for NATS): the join, which rejects if it fails; undefined once joined.
   */
  joining?(): Promise<void> | undefined;
  health(): BackplaneHealth;
  /** Live members with the time their last heartbeat arrived (ms since epoch); includes this node. */
  members(): ReadonlyMap<string, number>;
  /** What this node's adverts say from now on (read again at every heartbeat); sends one at once. */
  advertise(source: () => NodeAdvert): void;
  /** The node directory: every live node's last advert, this node's own first. */
  directory(): readonly NodeEntry[];
  /** Counts for /metrics; absent on one node. */
  counts?(): BackplaneCounts;
  newSessionId(): number;
  releaseSessionId(id: number): void;
  addInterest(realm: string, uri: string, match: MatchPolicy): Promise<void>;
  removeInterest(realm: string, uri: string, match: MatchPolicy): void;
  publish(ev: EventOut): 'sent' | 'local-only' | 'unavailable';
  /**
   * Resolves once everything published so far has reached the backplane (a NATS server), so an
   * acknowledged publication is acknowledged only when it left this node; at once on one node.
   * Across an outage it waits for the reconnect, as long as the publication is still kept to be
   * resent (NATS: `replay_window`, `replay_buffer`); it rejects when it no longer is.
   */
  confirm(): Promise<void>;
  register(realm: string, uri: string, match: MatchPolicy, invoke: InvokePolicy, callee: ClusterCallee, force: boolean): Promise<RegisterOutcome>;
  /**
   * Removes a local callee: whether the registration has no callee left anywhere now (this removal
   * took the registry's last, so `wamp.registration.on_delete` is this node's to publish). A
   * boolean at once on one node, a promise in a cluster (false if the registry could not be written).
   */
  unregister(realm: string, uri: string, match: MatchPolicy, session: number): boolean | Promise<boolean>;
  /**
   * Brings the local replica of one registration up to date (the registry may have changed an
   * instant ago on another node); `registryChanged` fires if it did. Resolves when done.
   */
  refresh(realm: string, uri: string, match: MatchPolicy): Promise<void>;
  invoke(node: string, inv: RemoteInvocation, sink: ReplySink): CallHandle;
  /**
   * Scatter-gather: asks every other live node `query` about `realm` and resolves with the
   * answers that came within `maxWaitMs` (silent nodes are left out and logged). This node's
   * own part is the caller's to add.
   */
  query(realm: string, query: Dict, maxWaitMs?: number): Promise<Dict[]>;
  /**
   * Keeps a copy of one session's testaments (in publication order; empty = none) where the
   * cluster finds them if this node dies; a no-op on one node, whose testaments die with it.
   */
  keepTestaments(realm: string, session: number, testaments: readonly StoredTestament[]): void;
  /**
   * The session ended: resolves true when its testaments are this node's to publish (the
   * cluster's copy is deleted here, or there never was one), false when another node took them —
   * it published them after taking this node for dead. While the cluster cannot be asked (this
   * node is cut off) it waits. Absent on one node, whose testaments are always its own.
   */
  releaseTestaments?(realm: string, session: number): Promise<boolean>;
}
