/**
 * The NATS backplane: several xbar nodes act as one router (design/cluster.md).
 * - Events are routed by subject: a node subscribes only to subjects its local subscriptions
 *   need; NATS forwards a publication once per interested node; each node fans out locally.
 *   Overlapping subscriptions on one node deliver copies, dropped by (origin, seq).
 * - Registrations live in a JetStream KV bucket written by compare-and-set; each node watches it
 *   into a replica, and routes a call to the chosen callee's node.
 * - Invocations travel to `P.nd.<node>.inv` with a reply subject on the caller's node; a node
 *   that no longer exists answers 503 (no responders), which makes the call safe to reroute.
 * - Heartbeats on `P.hb` detect dead nodes; the lowest live node reaps their registrations.
 *
 * Guarantees as in backplane.ts: pub/sub at-most-once in publisher order; RPC exactly one outcome.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type KV, type Msg, type NatsConnection, RequestStrategy, type Subscription } from 'nats';
import type { Logger } from 'pino';
import type { MatchPolicy } from '../../wamp/uri.js';
import { ErrorUri } from '../../wamp/errors.js';
import { randomId } from '../../wamp/ids.js';
import type { Args, CancelMode, Dict, InvokePolicy, Kwargs } from '../../wamp/messages.js';
import type {
  Backplane, BackplaneHandlers, BackplaneHealth, CallHandle, ClusterCallee, ClusterReg, EventOut,
  RegisterOutcome, RemoteInvocation, ReplyPort, ReplySink, StoredTestament,
} from '../backplane.js';
import { applyNodeLoss, applyRegister, applyUnregister, type RegisterDecision } from '../registry-rules.js';
import { decodeFrame, encodeFrame, FrameKind } from './frame.js';
import { Membership } from './membership.js';
import { casUpdate, RegistryReplica, registryKey } from './registry-kv.js';
import { RecentFrames } from './replay.js';
import { SessionSlot } from './session-slot.js';
import { decodeToken, Subjects } from './subjects.js';

export interface NatsBackplaneOptions {
  readonly servers: readonly string[];
  /** Cluster name: nodes with the same name on the same NATS form one router. */
  readonly cluster: string;
  /** Human-readable node name (the node id adds a random suffix per start). */
  readonly name?: string;
  readonly heartbeatMs?: number;
  readonly deadAfterMs?: number;
  /** How long a REGISTER may wait for the registry (JetStream) before failing. */
  readonly registryTimeoutMs?: number;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** Path of a NATS credentials file. */
  readonly creds?: string;
  /** PEM file paths for TLS to NATS. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

interface PendingRemote {
  readonly node: string;
  readonly sink: ReplySink;
}

/** How often a node refreshes its session-id slot (the slot bucket's TTL is at least 10 s). */
const SLOT_REFRESH_MS = 2000;
/** After a reconnect, replay rounds go on at least this long (interest propagation in NATS)… */
const SETTLE_MS = 600;
/** …and never longer than this (live events are held back meanwhile). */
const REPLAY_MAX_MS = 3000;

export class NatsBackplane implements Backplane {
  readonly nodeId: string;
  private nc: NatsConnection | undefined;
  private kv: KV | undefined;
  private handlers: BackplaneHandlers | undefined;
  private readonly subjects: Subjects;
  private readonly membership: Membership;
  private readonly replica: RegistryReplica;
  private readonly interests = new Map<string, { count: number; sub: Subscription }>();
  private readonly lastSeq = new Map<string, number>();
  private readonly subjectCache = new Map<string, string>();
  /** What this node published lately, for peers that lost some of it in a reconnect. */
  private readonly recent = new RecentFrames(5000, 50_000);
  /** Live events held back while a reconnect's replay is under way. */
  private heldBack: Msg[] | undefined;
  private seq = 0;
  private callSeq = 0;
  private readonly pending = new Map<number, PendingRemote>();
  private readonly served = new Map<string, { origin: string; handle: CallHandle }>();
  private readonly sessionIds = new Set<number>();
  private slot: SessionSlot | undefined;
  private testaments: KV | undefined;
  /** Per-session chain of testament writes, so the last change is the one that stays. */
  private readonly testamentWrites = new Map<number, Promise<unknown>>();
  private slotRefreshedAt = Date.now();
  private readonly writes = new Set<Promise<unknown>>();
  private timers: NodeJS.Timeout[] = [];
  private connected = false;
  private disconnectedSince = 0;
  private stopping = false;
  private readonly heartbeatMs: number;
  private readonly deadAfterMs: number;

  private readonly log: Logger;

  constructor(private readonly options: NatsBackplaneOptions, log: Logger) {
    this.nodeId = `${options.name ?? 'node'}-${randomBytes(4).toString('hex')}`;
    this.log = log.child({ self: this.nodeId });
    this.subjects = new Subjects(options.cluster);
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.deadAfterMs = options.deadAfterMs ?? 3 * this.heartbeatMs;
    this.membership = new Membership(this.nodeId, this.deadAfterMs, (node) => this.nodeLost(node));
    this.replica = new RegistryReplica((before, after) => {
      const reg = after ?? before;
      if (!reg) return;
      for (const c of after?.callees ?? []) this.membership.know(c.node);
      this.handlers?.registryChanged(reg.realm, reg.uri, reg.match, after);
    });
  }

  async start(handlers: BackplaneHandlers): Promise<void> {
    this.handlers = handlers;
    const o = this.options;
    const nc = await connect({
      servers: [...o.servers],
      name: this.nodeId,
      noEcho: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 2000,
      user: o.user,
      pass: o.pass,
      token: o.token,
      ...(o.creds ? { authenticator: credsAuthenticator(readFileSync(o.creds)) } : {}),
      ...(o.tls ? { tls: { caFile: o.tls.ca, certFile: o.tls.cert, keyFile: o.tls.key } } : {}),
    });
    this.nc = nc;
    this.connected = true;
    void this.watchStatus(nc);
    nc.subscribe(this.subjects.nodeInbox(this.nodeId), { callback: (err, msg) => !err && this.onInbox(msg) });
    nc.subscribe(`${this.subjects.nodeReplies(this.nodeId)}.*`, { callback: (err, msg) => !err && this.onReply(msg) });
    nc.subscribe(this.subjects.heartbeat, { callback: (err, msg) => !err && this.onHeartbeat(msg) });
    nc.subscribe(`${this.subjects.prefix}.meta.>`, { callback: (err, msg) => !err && this.onMetaQuery(msg) });
    nc.subscribe(`${this.subjects.prefix}.replay`, { callback: (err, msg) => !err && this.onReplayRequest(msg) });
    const js = nc.jetstream();
    this.kv = await js.views.kv(`xbar_${this.options.cluster.replace(/[^A-Za-z0-9_-]/g, '_')}_reg`, {
      history: 1,
      replicas: Math.min(3, o.servers.length),
    });
    await this.watchRegistry(this.kv);
    const slots = await js.views.kv(`xbar_${this.options.cluster.replace(/[^A-Za-z0-9_-]/g, '_')}_slots`, {
      history: 1,
      replicas: Math.min(3, o.servers.length),
      ttl: Math.max(10_000, 3 * this.deadAfterMs),
    });
    this.testaments = await js.views.kv(`xbar_${this.options.cluster.replace(/[^A-Za-z0-9_-]/g, '_')}_testament`, {
      history: 1,
      replicas: Math.min(3, o.servers.length),
    });
    this.slot = new SessionSlot(slots, this.nodeId);
    await this.slot.claim();
    await this.watchSlots(slots);
    await nc.flush();
    this.heartbeat();
    const hb = setInterval(() => this.heartbeat(), this.heartbeatMs);
    const sweep = setInterval(() => {
      this.membership.sweep();
      if (!this.connected && Date.now() - this.disconnectedSince > 5000 && this.disconnectedSince > 0) {
        this.log.warn('isolated from the NATS backplane for over 5 s');
      }
    }, Math.max(50, Math.floor(this.heartbeatMs / 2)));
    hb.unref();
    sweep.unref();
    this.timers.push(hb, sweep);
    this.log.info({ node: this.nodeId, servers: o.servers, cluster: o.cluster }, 'joined NATS backplane');
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        this.disconnectedSince = Date.now();
        // Hold live events from now until the reconnect's replay has filled the gap, so nothing
        // that arrives first on the new server makes the replayed ones look like duplicates.
        this.heldBack ??= [];
        this.log.warn({ server: s.data }, 'NATS disconnected');
      } else if (s.type === 'reconnect') {
        const since = this.disconnectedSince;
        this.connected = true;
        this.disconnectedSince = 0;
        this.log.info({ server: s.data }, 'NATS reconnected');
        this.heartbeat();
        void this.replay(since);
      }
    }
  }

  /**
   * Members also come from the slot bucket: a node that claimed a slot is known even before its
   * first heartbeat reaches us, so one that dies at once is still declared dead and reaped.
   */
  private async watchSlots(kv: KV): Promise<void> {
    let ready!: () => void;
    const initialized = new Promise<void>((r) => (ready = r));
    const iter = await kv.watch({ key: '>', initializedFn: () => ready() });
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') continue;
        const node = new TextDecoder().decode(e.value);
        if (node !== this.nodeId) this.membership.know(node);
      }
    })().catch((err: unknown) => this.log.warn({ err }, 'slot watch ended'));
    await this.settled(initialized, 'KV watch');
  }

  /** Waits for a watch's initial values, but never forever: a missed signal must not stall start-up. */
  private async settled(initialized: Promise<void>, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 5000)));
    const outcome = await Promise.race([initialized, late]);
    clearTimeout(timer);
    if (outcome === 'late') this.log.warn({ what }, 'initial values not confirmed within 5 s; going on (updates still arrive)');
  }

  private async watchRegistry(kv: KV): Promise<void> {
    let ready!: () => void;
    const initialized = new Promise<void>((r) => (ready = r));
    const iter = await kv.watch({ key: '>', initializedFn: () => ready() });
    void (async () => {
      for await (const e of iter) this.replica.applyEntry(e);
    })().catch((err: unknown) => this.log.error({ err }, 'registry watch ended'));
    await this.settled(initialized, 'KV watch');
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    // Every step is bounded: with NATS gone, a write or a drain would otherwise wait forever and
    // keep the process alive, reconnecting.
    await bounded(Promise.allSettled([...this.writes]), 2000);
    await bounded(this.slot?.release() ?? Promise.resolve(), 1000);
    nc.publish(this.subjects.heartbeat, encodeFrame(FrameKind.bye, { o: this.nodeId }));
    await bounded(nc.drain().catch(() => undefined), 2000);
    if (!nc.isClosed()) await nc.close().catch(() => undefined);
  }

  health(): BackplaneHealth {
    if (!this.nc || this.stopping) return 'isolated';
    if (this.connected) return 'ready';
    return Date.now() - this.disconnectedSince > 5000 ? 'isolated' : 'degraded';
  }

  members(): ReadonlyMap<string, number> {
    return this.membership.live();
  }

  newSessionId(): number {
    // Unique across the cluster by this node's slot; unique here by the set of live ids.
    const next = () => (this.slot && this.slot.claimed >= 0 ? this.slot.newId() : randomId());
    let id = next();
    while (this.sessionIds.has(id)) id = next();
    this.sessionIds.add(id);
    return id;
  }

  releaseSessionId(id: number): void {
    this.sessionIds.delete(id);
  }

  // ---- pub/sub -------------------------------------------------------------------------

  async addInterest(realm: string, uri: string, match: MatchPolicy): Promise<void> {
    const nc = this.nc;
    if (!nc) return;
    const subject = this.subjects.interest(realm, uri, match);
    const known = this.interests.get(subject);
    if (known) {
      known.count++;
      return;
    }
    const sub = nc.subscribe(subject, { callback: (err, msg) => !err && this.onEvent(msg) });
    this.interests.set(subject, { count: 1, sub });
    await nc.flush().catch(() => undefined);
  }

  removeInterest(realm: string, uri: string, match: MatchPolicy): void {
    const subject = this.subjects.interest(realm, uri, match);
    const known = this.interests.get(subject);
    if (!known) return;
    if (--known.count === 0) {
      this.interests.delete(subject);
      known.sub.unsubscribe();
    }
  }

  publish(ev: EventOut): 'sent' | 'local-only' | 'unavailable' {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return 'unavailable';
    // Alone in the cluster: nobody else can want it (a node that joins later starts from now).
    if (this.membership.live().size <= 1) return 'local-only';
    const meta: Dict = { o: this.nodeId, s: ++this.seq, r: ev.realm, t: ev.topic, p: ev.publication };
    if (ev.publisher) meta.pub = ev.publisher;
    const to = ev.receivers;
    if (to?.exclude) meta.x = to.exclude;
    if (to?.eligible) meta.el = to.eligible;
    if (to?.excludeAuthid) meta.xa = to.excludeAuthid;
    if (to?.excludeAuthrole) meta.xr = to.excludeAuthrole;
    if (to?.eligibleAuthid) meta.ea = to.eligibleAuthid;
    if (to?.eligibleAuthrole) meta.er = to.eligibleAuthrole;
    const subject = this.eventSubject(ev.realm, ev.topic);
    const data = encodeFrame(FrameKind.event, meta, ev.args, ev.kwargs);
    nc.publish(subject, data);
    this.recent.add({ seq: this.seq, subject, at: Date.now(), data });
    return this.connected ? 'sent' : 'unavailable';
  }

  /** Subjects of recently published topics (building one escapes every component). */
  private eventSubject(realm: string, topic: string): string {
    const key = `${realm}\u0000${topic}`;
    let subject = this.subjectCache.get(key);
    if (subject === undefined) {
      if (this.subjectCache.size >= 10_000) this.subjectCache.clear();
      subject = this.subjects.event(realm, topic);
      this.subjectCache.set(key, subject);
    }
    return subject;
  }

  async confirm(): Promise<void> {
    // While reconnecting, flush fails: wait for the new server rather than fail the publisher.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const nc = this.nc;
      if (!nc || nc.isClosed()) throw new Error('NATS connection closed');
      try {
        return await nc.flush();
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** The NATS server this node is connected to now (for operators and tests). */
  server(): string | undefined {
    return this.nc?.getServer();
  }

  private onEvent(msg: Msg): void {
    if (this.heldBack) {
      this.heldBack.push(msg);
      return;
    }
    this.deliverFrame(msg.data);
  }

  private deliverFrame(data: Uint8Array): void {
    const f = decodeFrame(data);
    if (!f || f.kind !== FrameKind.event) return;
    const m = f.meta;
    const origin = String(m.o);
    const seq = Number(m.s);
    // One origin's copies arrive in publish order on our one connection; later copies are duplicates.
    if (seq <= (this.lastSeq.get(origin) ?? 0)) return;
    this.lastSeq.set(origin, seq);
    const receivers = m.x || m.el || m.xa || m.xr || m.ea || m.er ? {
      exclude: m.x as number[] | undefined, eligible: m.el as number[] | undefined,
      excludeAuthid: m.xa as string[] | undefined, excludeAuthrole: m.xr as string[] | undefined,
      eligibleAuthid: m.ea as string[] | undefined, eligibleAuthrole: m.er as string[] | undefined,
    } : undefined;
    this.handlers?.event({
      realm: String(m.r), topic: String(m.t), publication: Number(m.p),
      publisher: m.pub as EventOut['publisher'], receivers, args: f.args, kwargs: f.kwargs,
    });
  }

  /** After a reconnect: fetch what the others published since shortly before the disconnect. */
  private async replay(disconnectedAt: number): Promise<void> {
    const nc = this.nc;
    const others = this.membership.live().size - 1;
    this.heldBack ??= [];
    try {
      if (!nc || others <= 0 || this.interests.size === 0) return;
      await nc.flush(); // our subscriptions are back on the new server before we ask
      // Ask in rounds while holding live events back: a publisher that was on the same dead
      // server may be reconnecting too, and our new subscriptions take a moment to reach every
      // server of the NATS cluster (what is published meanwhile is dropped there). Rounds go on
      // for at least SETTLE_MS and until one brings nothing new.
      const started = Date.now();
      let replayed = 0;
      for (let round = 0; Date.now() - started < REPLAY_MAX_MS; round++) {
        if (round > 0) await new Promise((r) => setTimeout(r, 200));
        const ask = { since: disconnectedAt - 1000, filters: [...this.interests.keys()], after: Object.fromEntries(this.lastSeq) };
        const replies = await nc.requestMany(`${this.subjects.prefix}.replay`, encodeFrame(FrameKind.meta, ask), {
          maxWait: 500, maxMessages: others, strategy: RequestStrategy.Count,
        });
        let got = 0;
        let answers = 0;
        for await (const m of replies) {
          answers++;
          const f = decodeFrame(m.data);
          for (const data of (f?.meta.frames as Uint8Array[] | undefined) ?? []) {
            got++;
            this.deliverFrame(data);
          }
        }
        replayed += got;
        if (got === 0 && answers >= this.membership.live().size - 1 && Date.now() - started >= SETTLE_MS) break;
      }
      this.log.info({ replayed }, 'replayed the events published while this node reconnected');
    } catch (err) {
      this.log.warn({ err }, 'replay after reconnect failed: events published meanwhile may be missing');
    } finally {
      const held = this.heldBack ?? [];
      this.heldBack = undefined;
      for (const msg of held) this.deliverFrame(msg.data);
    }
  }

  private onReplayRequest(msg: Msg): void {
    const f = decodeFrame(msg.data);
    if (!f || !msg.reply) return;
    const after = (f.meta.after as Record<string, number> | undefined)?.[this.nodeId] ?? 0;
    const filters = Array.isArray(f.meta.filters) ? (f.meta.filters as string[]) : [];
    const frames = this.recent.select(Number(f.meta.since) || 0, after, filters);
    msg.respond(encodeFrame(FrameKind.meta, { o: this.nodeId, frames }));
  }

  // ---- registry ------------------------------------------------------------------------

  async register(realm: string, uri: string, match: MatchPolicy, invoke: InvokePolicy, callee: ClusterCallee, force: boolean): Promise<RegisterOutcome> {
    const kv = this.kv;
    if (!kv) return { error: ErrorUri.registryUnavailable, message: 'the cluster registry is not available' };
    const key = registryKey(realm, uri, match);
    const isError = (x: unknown): x is { error: string; message: string } => typeof x === 'object' && x !== null && 'error' in x;
    const change = (current: ClusterReg | undefined): ClusterReg | { error: string; message: string } => {
      const d: RegisterDecision = applyRegister(current, { realm, uri, match, invoke, callee, force });
      return 'error' in d ? d : d.next;
    };
    // While JetStream elects a new leader (a NATS server died) writes fail for seconds: retry
    // until the deadline, then give up with registry_unavailable (design/cluster.md §5).
    const deadline = Date.now() + (this.options.registryTimeoutMs ?? 10_000);
    const write = async () => {
      for (;;) {
        try {
          return await casUpdate(kv, key, change, isError);
        } catch (err) {
          if (Date.now() > deadline || this.stopping) throw err;
          this.log.debug({ err, uri }, 'registry write failed; retrying');
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    const outcome = await this.track(withTimeout(write(), this.options.registryTimeoutMs ?? 10_000)).catch((err: unknown) => {
      this.log.warn({ err, uri }, 'registry write failed');
      return { error: ErrorUri.registryUnavailable, message: 'the cluster registry did not answer in time' };
    });
    if (outcome === 'unchanged') return { error: ErrorUri.registryUnavailable, message: 'registry conflict' };
    if (isError(outcome)) return outcome;
    this.replica.apply(key, outcome.revision, outcome.reg);
    return { regId: outcome.reg!.regId };
  }

  unregister(realm: string, uri: string, match: MatchPolicy, session: number): void {
    const kv = this.kv;
    if (!kv) return;
    const key = registryKey(realm, uri, match);
    // The local replica forgets the callee at once; the KV write follows (retried by casUpdate).
    const known = this.replica.get(key);
    if (known?.reg) {
      const next = applyUnregister(known.reg, this.nodeId, session);
      if (next !== 'unchanged') this.replica.apply(key, known.revision + 0.5, next);
    }
    const never = (_x: unknown): _x is never => false;
    void this.track(casUpdate(kv, key, (current) => applyUnregister(current, this.nodeId, session), never))
      .then((r) => {
        if (r !== 'unchanged') this.replica.apply(key, r.revision, r.reg);
      })
      .catch((err: unknown) => this.log.warn({ err, uri }, 'registry cleanup failed; the reaper will retry when this node is gone'));
  }

  async refresh(realm: string, uri: string, match: MatchPolicy): Promise<void> {
    const kv = this.kv;
    if (!kv) return;
    const key = registryKey(realm, uri, match);
    const e = await kv.get(key).catch(() => null);
    if (e) this.replica.applyEntry(e);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.writes.add(p);
    void p.finally(() => this.writes.delete(p)).catch(() => undefined);
    return p;
  }

  // ---- invocations ---------------------------------------------------------------------

  invoke(node: string, inv: RemoteInvocation, sink: ReplySink): CallHandle {
    const nc = this.nc;
    const call = ++this.callSeq;
    const inbox = this.subjects.nodeInbox(node);
    if (!nc || nc.isClosed() || this.membership.isGone(node)) {
      queueMicrotask(() => sink.undelivered('gone'));
      return { chunk: () => undefined, cancel: () => undefined };
    }
    this.pending.set(call, { node, sink });
    const meta: Dict = { o: this.nodeId, c: call, r: inv.realm, u: inv.procedure, g: inv.regId, cs: inv.callee, d: inv.details };
    nc.publish(inbox, encodeFrame(FrameKind.invoke, meta, inv.args, inv.kwargs), { reply: `${this.subjects.nodeReplies(this.nodeId)}.${call}` });
    return {
      chunk: (args: Args, kwargs: Kwargs, last: boolean) => {
        if (this.pending.has(call)) nc.publish(inbox, encodeFrame(FrameKind.chunk, { o: this.nodeId, c: call, l: last }, args, kwargs));
      },
      cancel: (mode: CancelMode, reason?: string) => {
        // skip: the callee is not told; its late answer finds no pending call here and is dropped.
        if (mode !== 'skip' && this.pending.has(call)) nc.publish(inbox, encodeFrame(FrameKind.cancel, { o: this.nodeId, c: call, m: mode, w: reason }));
        if (mode !== 'kill') this.pending.delete(call);
      },
    };
  }

  private onReply(msg: Msg): void {
    const call = Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
    const p = this.pending.get(call);
    if (!p) return;
    // NATS answers 503 when nobody listens on the callee node's inbox: never delivered.
    if (msg.headers?.code === 503 || msg.data.length === 0) {
      this.pending.delete(call);
      return p.sink.undelivered('gone');
    }
    const f = decodeFrame(msg.data);
    if (!f) return;
    this.membership.seen(p.node);
    switch (f.kind) {
      case FrameKind.progress:
        return p.sink.progress(f.args, f.kwargs);
      case FrameKind.result:
        this.pending.delete(call);
        return p.sink.result(f.args, f.kwargs);
      case FrameKind.error:
        this.pending.delete(call);
        return p.sink.error(String(f.meta.e), f.args, f.kwargs, (f.meta.d as Dict) ?? {});
      case FrameKind.reject:
        this.pending.delete(call);
        return p.sink.undelivered(f.meta.w === 'busy' ? 'busy' : 'gone');
    }
  }

  private onInbox(msg: Msg): void {
    const f = decodeFrame(msg.data);
    if (!f) return;
    const origin = String(f.meta.o);
    const key = `${origin}/${String(f.meta.c)}`;
    this.membership.seen(origin);
    switch (f.kind) {
      case FrameKind.invoke: {
        const reply = msg.reply;
        const nc = this.nc;
        if (!reply || !nc || !this.handlers) return;
        let done = false;
        const send = (kind: number, meta: Dict, args?: Args, kwargs?: Kwargs) => {
          if (done) return;
          if (kind !== FrameKind.progress) {
            done = true;
            this.served.delete(key);
          }
          nc.publish(reply, encodeFrame(kind, meta, args, kwargs));
        };
        const port: ReplyPort = {
          progress: (a, k) => send(FrameKind.progress, {}, a, k),
          result: (a, k) => send(FrameKind.result, {}, a, k),
          error: (uri, a, k, d) => send(FrameKind.error, { e: uri, d }, a, k),
          reject: (why) => send(FrameKind.reject, { w: why }),
        };
        const handle = this.handlers.invocation(
          {
            realm: String(f.meta.r), procedure: String(f.meta.u), regId: Number(f.meta.g), callee: Number(f.meta.cs),
            details: (f.meta.d as Dict) ?? {}, args: f.args, kwargs: f.kwargs,
          },
          port,
        );
        if (!done) this.served.set(key, { origin, handle });
        return;
      }
      case FrameKind.chunk:
        return this.served.get(key)?.handle.chunk(f.args, f.kwargs, f.meta.l === true);
      case FrameKind.cancel: {
        const s = this.served.get(key);
        if (!s) return;
        if (f.meta.m !== 'kill') this.served.delete(key);
        return s.handle.cancel(f.meta.m as CancelMode, typeof f.meta.w === 'string' ? f.meta.w : undefined);
      }
    }
  }

  // ---- testaments ----------------------------------------------------------------------

  keepTestaments(realm: string, session: number, testaments: readonly StoredTestament[]): void {
    const kv = this.testaments;
    if (!kv) return;
    const key = `t.${nodeKey(this.nodeId)}.${session}`;
    const write = async (): Promise<void> => {
      if (testaments.length === 0) await kv.delete(key);
      else await kv.put(key, encodeFrame(FrameKind.meta, { r: realm, t: testaments.map((t) => [t.topic, t.args ?? [], t.kwargs ?? {}, t.options]) }));
    };
    const previous = this.testamentWrites.get(session) ?? Promise.resolve();
    const next = previous.then(write, write).catch((err: unknown) => this.log.warn({ err, session }, 'testament copy not written'));
    this.testamentWrites.set(session, next);
    void this.track(next).finally(() => {
      if (this.testamentWrites.get(session) === next) this.testamentWrites.delete(session);
    });
  }

  /** Publishes (through one node, the reaper) the testaments of a dead node's sessions. */
  private async reapTestaments(node: string): Promise<void> {
    const kv = this.testaments;
    if (!kv) return;
    const keys = await kv.keys(`t.${nodeKey(node)}.>`).catch(() => undefined);
    if (!keys) return;
    let published = 0;
    for await (const key of keys) {
      const e = await kv.get(key).catch(() => null);
      const f = e && e.operation === 'PUT' ? decodeFrame(e.value) : undefined;
      if (f) {
        const list = (f.meta.t as [string, Args, Kwargs, Dict][]).map(([topic, args, kwargs, options]) => ({ topic, args, kwargs, options }));
        this.handlers?.orphanedTestaments(String(f.meta.r), list);
        published += list.length;
      }
      await kv.delete(key).catch(() => undefined);
    }
    if (published > 0) this.log.info({ node, published }, 'published the testaments of a lost node');
  }

  // ---- meta queries --------------------------------------------------------------------

  async query(realm: string, query: Dict, maxWaitMs = 500): Promise<Dict[]> {
    const nc = this.nc;
    const others = this.membership.live().size - 1;
    if (!nc || nc.isClosed() || others <= 0) return [];
    const answers: Dict[] = [];
    try {
      const replies = await nc.requestMany(this.subjects.meta(realm), encodeFrame(FrameKind.meta, { q: query }), {
        maxWait: maxWaitMs, maxMessages: others, strategy: RequestStrategy.Count,
      });
      for await (const m of replies) {
        const f = decodeFrame(m.data);
        if (f && typeof f.meta.a === 'object' && f.meta.a !== null) answers.push(f.meta.a as Dict);
      }
    } catch (err) {
      this.log.warn({ err, realm }, 'meta query failed');
    }
    if (answers.length < others) this.log.debug({ realm, answered: answers.length, expected: others }, 'meta query: some nodes were silent');
    return answers;
  }

  private onMetaQuery(msg: Msg): void {
    const f = decodeFrame(msg.data);
    if (!f || !msg.reply || typeof f.meta.q !== 'object' || f.meta.q === null) return;
    const realm = decodeToken(msg.subject.slice(`${this.subjects.prefix}.meta.`.length));
    let answer: Dict | undefined;
    try {
      answer = this.handlers?.metaQuery(realm, f.meta.q as Dict);
    } catch (err) {
      this.log.warn({ err, realm }, 'meta query handler failed');
    }
    msg.respond(encodeFrame(FrameKind.meta, { a: answer ?? {} }));
  }

  // ---- membership ----------------------------------------------------------------------

  private heartbeat(): void {
    const nc = this.nc;
    if (!nc || nc.isClosed() || this.stopping) return;
    nc.publish(this.subjects.heartbeat, encodeFrame(FrameKind.heartbeat, { o: this.nodeId }));
    const now = Date.now();
    if (this.slot && now - this.slotRefreshedAt >= SLOT_REFRESH_MS) {
      this.slotRefreshedAt = now;
      void this.slot.refresh().then((ok) => {
        if (!ok) this.log.error({ slot: this.slot?.claimed }, 'lost this node\'s session-id slot: restart the node to claim a new one');
      });
    }
  }

  private onHeartbeat(msg: Msg): void {
    const f = decodeFrame(msg.data);
    if (!f) return;
    const node = String(f.meta.o);
    if (f.kind === FrameKind.bye) this.membership.down(node);
    else if (this.membership.seen(node)) this.log.warn({ node }, 'a node taken for dead is back');
  }

  /** A node died: its calls fail, invocations it asked for stop, its registrations go. */
  private nodeLost(node: string): void {
    this.log.warn({ node, why: this.membership.why }, 'cluster node lost');
    for (const [call, p] of this.pending) {
      if (p.node !== node) continue;
      this.pending.delete(call);
      p.sink.error(ErrorUri.canceled, ['callee node lost'], undefined, {});
    }
    for (const [key, s] of this.served) {
      if (s.origin !== node) continue;
      this.served.delete(key);
      s.handle.cancel('killnowait');
    }
    const affected: string[] = [];
    for (const [key, e] of [...this.replica.keyed()]) {
      const next = e.reg ? applyNodeLoss(e.reg, node) : 'unchanged';
      if (next === 'unchanged') continue;
      affected.push(key);
      this.replica.apply(key, e.revision + 0.5, next);
    }
    this.handlers?.memberDown(node);
    if (this.membership.isReaper()) {
      void this.reap(node, affected);
      void this.reapTestaments(node);
    }
  }

  /** Removes a lost node's callees from the registry keys that name it (`keys`, from this replica). */
  private async reap(node: string, keys: readonly string[]): Promise<void> {
    const kv = this.kv;
    if (!kv) return;
    const started = Date.now();
    const never = (_x: unknown): _x is never => false;
    await Promise.all(keys.map((key) =>
      this.track(casUpdate(kv, key, (current) => (current ? applyNodeLoss(current, node) : 'unchanged'), never)).catch(
        (err: unknown) => this.log.warn({ err, key }, 'reaping a lost node failed'),
      ),
    ));
    this.log.info({ node, keys: keys.length, ms: Date.now() - started }, 'reaped the registrations of a lost node');
  }
}

/** Waits for `p`, but at most `ms`. */
function bounded(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}

/** A node id as one KV key token. */
function nodeKey(node: string): string {
  return createHash('sha256').update(node).digest('hex').slice(0, 24);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
