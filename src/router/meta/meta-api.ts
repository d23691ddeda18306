/**
 * The WAMP meta API of one realm, answered by the router itself: session, subscription,
 * registration and testament procedures, meta events, event retention and history.
 *
 * The dealer consults `handles()` before any registration (clients cannot register `wamp.*`), after
 * the caller's `call` permission was checked like for any URI. Meta events are published by the
 * router into the realm (`Broker.publishInternal`), so they reach subscribers on every node; as in
 * Crossbar.io, none is published about subscriptions to `wamp.*` topics nor about the router's own
 * sessions (role `trusted`). Each event follows the reply to the request that caused it.
 *
 * Cluster: session and subscription questions are asked of every node (`Backplane.query`);
 * registrations come from this node's replica of the registry; `subscription.on_create` and
 * `on_delete` are the cluster's: published by the node of the first subscriber anywhere and of the
 * last one to leave (Backplane.holdSubscription / releaseSubscription).
 */
import type { Logger } from 'pino';
import type { SessionStatsConfig } from '../../config/types.js';
import type { EventOut } from '../../backplane/backplane.js';
import { ErrorUri } from '../../wamp/errors.js';
import type { Args, Call, Dict, Kwargs } from '../../wamp/messages.js';
import { MessageType as T } from '../../wamp/codes.js';
import { isReservedUri, type MatchPolicy } from '../../wamp/uri.js';
import { Broker, type BrokerHooks, type Subscription } from '../broker.js';
import type { DealerHooks, InternalProcedures } from '../dealer.js';
import type { Realm } from '../realm.js';
import type { Registration } from '../registration.js';
import type { Session } from '../session.js';
import { EventStore, type HistoryRule, type StoredEvent } from './event-store.js';
import { MetaError, type MetaProcedure } from './meta-call.js';
import { registrationDetails, registrationProcedures } from './registration-meta.js';
import { SessionMeta, sessionDetails, visible } from './session-meta.js';
import { SessionStatistics } from './session-stats.js';
import { SubscriptionMeta } from './subscription-meta.js';
import { testamentProcedures } from './testament-meta.js';
import { ClusterTestamentStore, type Testament, type TestamentStore } from './testaments.js';

export interface MetaOptions {
  /** Event history rules of the realm's `store`. */
  readonly history: readonly HistoryRule[];
  /** Topics whose retained event is kept (0 = no retention). */
  readonly maxRetained: number;
  /** Where testaments wait; default in memory. */
  readonly testaments?: TestamentStore;
  /** Bytes the realm's retained events may take together (limits.max_retained_bytes_per_realm). */
  readonly maxRetainedBytes?: number | undefined;
  /** Bytes one session's testaments may take (limits.max_testament_bytes_per_session), default store only. */
  readonly maxTestamentBytes?: number | undefined;
  /** The realm's `stats`: `wamp.session.on_stats` (session-stats.ts); undefined = none. */
  readonly sessionStats?: SessionStatsConfig | undefined;
}

export class MetaApi implements InternalProcedures, BrokerHooks, DealerHooks {
  private readonly procedures = new Map<string, MetaProcedure>();
  readonly events: EventStore;
  readonly testaments: TestamentStore;
  private readonly quiet = new Set<number>();
  /** Per subscription id, the last of its meta event steps still waiting for the backplane. */
  private readonly metaSteps = new Map<number, Promise<void>>();
  private readonly sessionStats: SessionStatistics | undefined;

  constructor(private readonly realm: Realm, options: MetaOptions, private readonly log: Logger) {
    this.events = new EventStore(realm.name, options.history, options.maxRetained, options.maxRetainedBytes, realm.backplane.retained, realm.backplane.history);
    this.testaments = options.testaments ?? new ClusterTestamentStore(realm.name, realm.backplane, options.maxTestamentBytes);
    if (options.sessionStats) {
      this.sessionStats = new SessionStatistics(options.sessionStats, (args) => this.publish('wamp.session.on_stats', args));
    }
    const sessions = new SessionMeta(realm, this.quiet);
    const subscriptions = new SubscriptionMeta(realm, this.events);
    for (const table of [sessions.procedures(), subscriptions.procedures(), registrationProcedures(realm), testamentProcedures(realm, this.testaments)]) {
      for (const [uri, fn] of Object.entries(table)) this.procedures.set(uri, fn);
    }
    for (const table of [sessions.answers(), subscriptions.answers()]) {
      for (const [kind, fn] of Object.entries(table)) realm.onMetaQuery(kind, fn);
    }
  }

  /** Once the backplane runs: the event history rings follow the cluster's history. */
  async start(): Promise<void> {
    await this.events.start();
  }

  /** Adds a procedure the router answers in this realm (e.g. `xbar.stats.get`). */
  addProcedure(uri: string, fn: MetaProcedure): void {
    this.procedures.set(uri, fn);
  }

  handles(procedure: string): boolean {
    return this.procedures.has(procedure);
  }

  call(session: Session, m: Call): void {
    const fn = this.procedures.get(m.procedure)!;
    const call = { session, procedure: m.procedure, args: m.args, kwargs: m.kwargs };
    new Promise<Awaited<ReturnType<MetaProcedure>>>((resolve) => resolve(fn(call))).then(
      (reply) => {
        if (session.isOpen) session.send({ type: T.RESULT, request: m.request, details: {}, args: reply.args, kwargs: reply.kwargs });
      },
      (err: unknown) => {
        if (!session.isOpen) return;
        if (err instanceof MetaError) return session.sendError(T.CALL, m.request, err.uri, [err.message], err.kwargs);
        this.log.error({ err, procedure: m.procedure }, 'meta procedure failed');
        session.sendError(T.CALL, m.request, ErrorUri.runtimeError, [`${m.procedure} failed inside the router`]);
      },
    );
  }

  // ---- sessions --------------------------------------------------------------------------

  joined(session: Session): void {
    if (!visible(session)) return;
    this.publish('wamp.session.on_join', [sessionDetails(session, this.realm.backplane.nodeId)]);
  }

  /**
   * The session's WELCOME has gone out (`handshake`: the sizes of the messages before it, and of
   * WELCOME): its statistics start, when the realm has `stats`.
   */
  welcomed(session: Session, handshake: readonly number[]): void {
    if (this.sessionStats !== undefined && visible(session)) this.sessionStats.welcomed(session, handshake);
  }

  /** The session has left the realm (GOODBYE, kill, dropped connection): its last statistics, testaments, then on_leave. */
  left(session: Session): void {
    const taken = this.testaments.take(session.id);
    // kill_all: "will not generate session meta events or testament events" (spec).
    const quiet = this.quiet.delete(session.id);
    this.sessionStats?.left(session, !quiet);
    if (quiet) return;
    const publish = (testaments: readonly Testament[]) => {
      for (const t of testaments) this.realm.broker.publishInternal(t.topic, t.args, t.kwargs, t.options, t.options.retain === true, t.options.mqtt);
    };
    const leave = () => {
      // As Crossbar.io (RouterSession.onLeave): the session id alone. Its examples' handlers take one
      // argument (`def on_session_leave(session_id)`), which (session, authid, authrole) breaks.
      if (session.authrole !== 'trusted') this.publish('wamp.session.on_leave', [session.id]);
    };
    if (Array.isArray(taken)) {
      publish(taken);
      return leave();
    }
    // In a cluster the testaments come once the cluster's copy is released; on_leave follows them.
    taken.then(publish, (err: unknown) => this.log.error({ err, session: session.id }, 'testaments could not be read; not published')).finally(leave);
  }

  // ---- broker hooks ----------------------------------------------------------------------

  /**
   * on_create when the subscription's first subscriber in the whole cluster comes, on_delete when
   * its last anywhere leaves: this node asks the backplane when its own first subscriber comes or
   * its last leaves. One subscription's meta events from this node keep their order.
   */
  subscribed(session: Session, sub: Subscription, created: boolean, added: boolean, getRetained: boolean): void {
    if (added && !isReservedUri(sub.uri)) this.subscriptionEvents(session, sub, created);
    if (getRetained) this.sendRetained(session, sub);
  }

  private subscriptionEvents(session: Session, sub: Subscription, created: boolean): void {
    const show = visible(session);
    const details = { id: sub.id, created: sub.created.toISOString(), uri: sub.uri, match: sub.match };
    this.inOrder(sub.id, () => {
      const first = created ? this.realm.backplane.holdSubscription(this.realm.name, sub.uri, sub.match) : false;
      const emit = (isFirst: boolean) => {
        if (!show) return;
        if (isFirst) this.publish('wamp.subscription.on_create', [session.id, details]);
        this.publish('wamp.subscription.on_subscribe', [session.id, sub.id]);
      };
      return typeof first === 'boolean' ? emit(first) : first.then(emit);
    });
  }

  unsubscribed(session: Session, sub: Subscription, deleted: boolean): void {
    if (isReservedUri(sub.uri)) return;
    const show = session.authrole !== 'trusted';
    this.inOrder(sub.id, () => {
      if (show) this.publish('wamp.subscription.on_unsubscribe', [session.id, sub.id]);
      if (!deleted) return;
      const last = this.realm.backplane.releaseSubscription(this.realm.name, sub.uri, sub.match);
      const emit = (isLast: boolean) => {
        if (show && isLast) this.publish('wamp.subscription.on_delete', [session.id, sub.id]);
      };
      return typeof last === 'boolean' ? emit(last) : last.then(emit);
    });
  }

  /** Runs `step` after the earlier steps of subscription `id` (at once when none is waiting). */
  private inOrder(id: number, step: () => void | Promise<void>): void {
    const before = this.metaSteps.get(id);
    const run = () => step();
    const next = before ? before.then(run) : run();
    if (!next) return;
    const settled = next.catch((err: unknown) => this.log.warn({ err, subscription: id }, 'subscription meta event failed'));
    this.metaSteps.set(id, settled);
    void settled.finally(() => {
      if (this.metaSteps.get(id) === settled) this.metaSteps.delete(id);
    });
  }

  published(ev: EventOut, retain: boolean): Promise<void> | undefined {
    return this.events.store(ev, retain);
  }

  retainOverflow(topic: string, args: Args, kwargs: Kwargs): number | undefined {
    return this.events.retainOverflow(topic, args, kwargs);
  }

  // ---- dealer hooks ----------------------------------------------------------------------

  registered(session: Session, reg: Registration, created: boolean): void {
    if (!visible(session)) return;
    if (created) this.publish('wamp.registration.on_create', [session.id, registrationDetails(reg)]);
    this.publish('wamp.registration.on_register', [session.id, reg.id]);
  }

  unregistered(session: Session, reg: Registration, deleted: boolean | Promise<boolean>): void {
    if (session.authrole === 'trusted') return;
    this.publish('wamp.registration.on_unregister', [session.id, reg.id]);
    const emit = (last: boolean) => {
      if (last) this.publish('wamp.registration.on_delete', [session.id, reg.id]);
    };
    if (typeof deleted === 'boolean') emit(deleted);
    else void deleted.then(emit);
  }

  // ---- retained events -------------------------------------------------------------------

  /**
   * SUBSCRIBE with get_retained: the newest retained event of each matching topic the session may
   * receive, with `retained: true`, right after SUBSCRIBED. The table is the cluster's
   * (Backplane.retained); in a cluster an exact topic's entry was read again before SUBSCRIBED
   * (`refreshRetained`), since another node may have retained it an instant ago.
   */
  private sendRetained(session: Session, sub: Subscription): void {
    this.deliverRetained(session, sub, this.events.retained(sub.uri, sub.match));
  }

  refreshRetained(uri: string, match: MatchPolicy): Promise<void> | undefined {
    if (match !== 'exact') return undefined;
    return this.events.refreshRetained(uri)?.catch((err: unknown) => this.log.warn({ err, topic: uri }, 'retained event not read again'));
  }

  private deliverRetained(session: Session, sub: Subscription, events: readonly StoredEvent[]): void {
    for (const e of events) {
      if (!session.isOpen || !sub.subscribers.has(session)) return;
      if (!Broker.accepts(e.filters, session)) continue;
      const details: Dict = { retained: true };
      if (sub.match !== 'exact') details.topic = e.topic;
      if (e.publisher) {
        details.publisher = e.publisher.session;
        details.publisher_authid = e.publisher.authid;
        details.publisher_authrole = e.publisher.authrole;
      }
      if (e.mqtt) details._mqtt = e.mqtt;
      if (e.ppt) Object.assign(details, e.ppt);
      session.send({ type: T.EVENT, subscription: sub.id, publication: e.publication, details, args: e.args ?? undefined, kwargs: e.kwargs ?? undefined });
    }
  }

  private publish(topic: string, args: unknown[]): void {
    this.realm.broker.publishInternal(topic, args, undefined);
  }
}
