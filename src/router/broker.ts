/**
 * The broker: SUBSCRIBE / UNSUBSCRIBE / PUBLISH → EVENT.
 *
 * Guarantees: events from one publisher reach each subscriber in publish order (delivery is
 * synchronous and each connection is one ordered stream); delivery is at-most-once: a slow
 * subscriber may lose events under the 'drop' policy, counted on its connection.
 *
 * Hot path: match (MatchIndex: cost ∝ topic length + matches), then for each matching
 * subscription encode the EVENT once per serializer in use and send the same bytes to every
 * subscriber; per-subscriber work is only the exclude/eligible filter and the enqueue.
 */
import type { Logger } from 'pino';
import type { Authorizer } from '../auth/authorizer.js';
import { Outgoing } from '../connection/outgoing.js';
import { MessageType as T } from '../wamp/codes.js';
import { ErrorUri } from '../wamp/errors.js';
import { randomId } from '../wamp/ids.js';
import type { Args, Dict, Kwargs, Payload, Publish, Receivers, Subscribe, Unsubscribe } from '../wamp/messages.js';
import type { Backplane, EventOut, Ident } from '../backplane/backplane.js';
import { withPayload } from '../wamp/encode.js';
import { forwardForOf } from '../wamp/forward-for.js';
import { isReservedUri, type MatchPolicy } from '../wamp/uri.js';
import { MatchIndex } from '../match/match-index.js';
import { ReceiverFilter } from './receiver-filter.js';
import type { Session } from './session.js';
import { LimitKey, overLimit } from './session-limits.js';
import { stableId } from '../backplane/stable-id.js';
import type { PubSubCounters } from '../stats/realm-counters.js';
import { isMetaTopic } from './meta/meta-topics.js';

/**
 * Who hears of subscription changes and publications besides the subscribers: the realm's meta
 * API (meta events, retained events, event history). Calls come after the reply to the client.
 */
export interface BrokerHooks {
  /** `created`: first subscriber; `added`: not a repeated SUBSCRIBE; `getRetained`: SUBSCRIBE.Options.get_retained. */
  subscribed(session: Session, sub: Subscription, created: boolean, added: boolean, getRetained: boolean): void;
  unsubscribed(session: Session, sub: Subscription, deleted: boolean): void;
  /**
   * A publication made through this node (a client's or the router's own), after its local
   * delivery: a promise when it was
   * retained, settled once the retained event is stored where every node reads it.
   */
  published(ev: EventOut, retain: boolean): Promise<void> | void;
  /**
   * A SUBSCRIBE with get_retained to (uri, match): brings the retained events it will get up to
   * date before SUBSCRIBED (another node may have just retained one); undefined: nothing to wait for.
   */
  refreshRetained?(uri: string, match: MatchPolicy): Promise<void> | undefined;
  /** The byte bound of retained events a `retain` publication would pass (it is then refused), or undefined. */
  retainOverflow?(topic: string, args: Args, kwargs: Kwargs): number | undefined;
}

export interface Subscription {
  readonly id: number;
  readonly uri: string;
  readonly match: MatchPolicy;
  readonly created: Date;
  readonly subscribers: Set<Session>;
  /** Resolves once events published anywhere in the cluster reach this node (Backplane.addInterest). */
  readonly ready: Promise<void>;
}

/** A publication's Arguments and ArgumentsKw, read only when an encoding needs them. */
interface Content {
  readonly args: Args;
  readonly kwargs: Kwargs;
}

export class Broker {
  private readonly index = new MatchIndex<Subscription>();
  private readonly byId = new Map<number, Subscription>();
  private readonly bySession = new Map<Session, Set<Subscription>>();
  /** SUBSCRIBEs waiting for the backplane, per session. */
  private readonly inFlight = new Map<Session, number>();
  /** Meta API, retention and history; undefined until the realm sets it. */
  hooks: BrokerHooks | undefined;
  /** Statistics (plain counters); undefined when statistics are off. */
  counters: PubSubCounters | undefined;
  /** Receivers the last `deliver` sent to (a field, so the hot path allocates nothing to count). */
  private sent = 0;

  constructor(
    private readonly realm: string,
    private readonly authorizer: Authorizer,
    private readonly backplane: Backplane,
    private readonly log: Logger,
  ) {}

  get subscriptionCount(): number {
    return this.byId.size;
  }

  subscriptions(): IterableIterator<Subscription> {
    return this.byId.values();
  }

  subscription(id: number): Subscription | undefined {
    return this.byId.get(id);
  }

  subscribe(session: Session, m: Subscribe): void {
    const { topic, options } = m;
    if (!this.authorizer.authorize(session.authrole, topic, 'subscribe').allow) {
      return session.sendError(T.SUBSCRIBE, m.request, ErrorUri.notAuthorized, [
        `session is not authorized to subscribe to topic "${topic}"`,
      ]);
    }
    let sub = this.index.get(topic, options.match);
    const max = session.limits.maxSubscriptions;
    if (max !== undefined && !sub?.subscribers.has(session) && this.heldBy(session) >= max) {
      return session.refuseOverLimit(T.SUBSCRIBE, m.request, LimitKey.subscriptions, max, 'this session has the most subscriptions it may have');
    }
    if (!sub) {
      const interest = this.backplane.addInterest(this.realm, topic, options.match);
      sub = { id: stableId(this.realm, options.match, topic), uri: topic, match: options.match, created: new Date(), subscribers: new Set(), ready: interest };
      this.index.set(topic, options.match, sub);
      this.byId.set(sub.id, sub);
    }
    const joined = sub;
    this.inFlight.set(session, (this.inFlight.get(session) ?? 0) + 1);
    // SUBSCRIBED only once remote events will arrive too; events before it are not the session's.
    // The retained events it asked for are current by then, and follow SUBSCRIBED before any other.
    const refreshed = options.getRetained ? this.hooks?.refreshRetained?.(topic, options.match) : undefined;
    const ready = refreshed ? Promise.all([joined.ready, refreshed]) : joined.ready;
    ready.finally(() => this.landed(session)).then(
      () => {
        if (!session.isOpen || this.byId.get(joined.id) !== joined) return this.dropIfEmpty(joined);
        const created = joined.subscribers.size === 0;
        const already = joined.subscribers.has(session);
        joined.subscribers.add(session);
        let mine = this.bySession.get(session);
        if (!mine) this.bySession.set(session, (mine = new Set()));
        mine.add(joined);
        session.send({ type: T.SUBSCRIBED, request: m.request, subscription: joined.id });
        this.hooks?.subscribed(session, joined, created && !already, !already, options.getRetained);
      },
      (err: unknown) => {
        this.log.warn({ err, topic }, 'backplane interest failed');
        if (session.isOpen) session.sendError(T.SUBSCRIBE, m.request, ErrorUri.backplaneUnavailable, ['the cluster backplane is not available']);
        this.dropIfEmpty(joined);
      },
    );
  }

  /** Subscriptions `session` holds or has asked for (limits.max_subscriptions_per_session). */
  private heldBy(session: Session): number {
    return (this.bySession.get(session)?.size ?? 0) + (this.inFlight.get(session) ?? 0);
  }

  /** A SUBSCRIBE of `session` has its answer from the backplane. */
  private landed(session: Session): void {
    const n = (this.inFlight.get(session) ?? 1) - 1;
    if (n > 0) this.inFlight.set(session, n);
    else this.inFlight.delete(session);
  }

  unsubscribe(session: Session, m: Unsubscribe): void {
    const sub = this.byId.get(m.subscription);
    if (!sub || !sub.subscribers.has(session)) {
      return session.sendError(T.UNSUBSCRIBE, m.request, ErrorUri.noSuchSubscription, [
        `session has no subscription ${m.subscription}`,
      ]);
    }
    this.bySession.get(session)?.delete(sub);
    session.send({ type: T.UNSUBSCRIBED, request: m.request });
    this.detach(session, sub);
  }

  publish(session: Session, m: Publish): void {
    const { topic, options } = m;
    if (isReservedUri(topic)) {
      return this.refuse(session, m, ErrorUri.invalidUri, `topic "${topic}" is reserved for the router (wamp.*)`);
    }
    const decision = this.authorizer.authorize(session.authrole, topic, 'publish');
    if (!decision.allow) {
      return this.refuse(session, m, ErrorUri.notAuthorized, `session is not authorized to publish to topic "${topic}"`);
    }
    const overflow = options.retain ? this.hooks?.retainOverflow?.(topic, m.args, m.kwargs) : undefined;
    if (overflow !== undefined) {
      session.limits.refused?.(LimitKey.retainedBytes);
      const o = overLimit(LimitKey.retainedBytes, overflow, 'retaining this event would take the realm\'s retained events past the bytes they may take');
      return this.refuse(session, m, o.uri, o.message, o.kwargs);
    }
    const forwardFor = m.rawOptions.forward_for === undefined ? undefined : forwardForOf(m.rawOptions);
    if (typeof forwardFor === 'string') return this.refuse(session, m, ErrorUri.invalidArgument, forwardFor);
    const publication = randomId();
    // A publication forwarded by an rlink is disclosed as its first hop's, as Crossbar.io does.
    const publisher: Ident | undefined = !(options.discloseMe || decision.disclose)
      ? undefined
      : forwardFor ? { ...forwardFor[0]!, forwardFor: [...forwardFor, identOf(session)] } : identOf(session);
    const receivers = options.receivers;
    const mqtt = extensionOf(m.rawOptions);
    const ppt = m.ppt;
    this.deliver(topic, publication, m, ReceiverFilter.of(receivers, options.excludeMe ? session : undefined), publisher, m.payload, mqtt, ppt);
    const ev: EventOut = {
      realm: this.realm, topic, publication, publisher, receivers, args: m.args, kwargs: m.kwargs, ...(mqtt ? { mqtt } : {}), ...(ppt ? { ppt } : {}),
    };
    // The encoded payload may be a view of the read buffer: only the backplane, at once, gets it.
    this.backplane.publish(m.payload === undefined ? ev : { ...ev, payload: m.payload });
    this.count(topic, false);
    const kept = this.hooks?.published(ev, options.retain);
    if (options.acknowledge) {
      // Acknowledged: the publication reached every local subscriber and the backplane, and a
      // retained one is stored where every node reads it.
      Promise.all([this.backplane.confirm(), kept]).then(
        () => session.send({ type: T.PUBLISHED, request: m.request, publication }),
        () => session.sendError(T.PUBLISH, m.request, ErrorUri.backplaneUnavailable, ['the publication could not be handed to the cluster']),
      );
    } else {
      kept?.catch(() => undefined);
    }
  }

  /**
   * A publication by the router itself (meta events, testaments, statistics): delivered here and
   * handed to the other nodes like any other, without the client-side checks (wamp.* is the
   * router's own namespace). `receivers` and `retain` come from a testament's PUBLISH options.
   */
  publishInternal(topic: string, args: Args, kwargs: Kwargs, receivers?: Receivers, retain = false, mqtt?: Dict): number {
    const publication = randomId();
    this.deliver(topic, publication, { args, kwargs }, ReceiverFilter.of(receivers, undefined), undefined, undefined, mqtt);
    const ev: EventOut = { realm: this.realm, topic, publication, receivers, args, kwargs, ...(mqtt ? { mqtt } : {}) };
    this.backplane.publish(ev);
    this.count(topic, false);
    // Logged by the backplane if it fails; nobody waits for an acknowledgement.
    this.hooks?.published(ev, retain)?.catch(() => undefined);
    return publication;
  }

  /** An event published on another node of the cluster; its options filter our own sessions. */
  remoteEvent(ev: EventOut): void {
    // Its arguments are read (decoded, from a passed-through payload) only for another serializer.
    this.deliver(ev.topic, ev.publication, ev, ReceiverFilter.of(ev.receivers, undefined), ev.publisher, ev.payload, ev.mqtt, ev.ppt);
    this.count(ev.topic, true);
  }

  /** Counts a publication and the EVENTs just sent for it; the router's own topics apart. */
  private count(topic: string, remote: boolean): void {
    const c = this.counters;
    if (c === undefined) return;
    if (isMetaTopic(topic)) c.meta(this.sent, remote);
    else if (remote) c.remote(topic, this.sent);
    else c.published(topic, this.sent);
  }

  /** Whether `s` may receive a publication with these exclude/eligible lists. */
  static accepts(receivers: Receivers | undefined, s: Session): boolean {
    return ReceiverFilter.of(receivers, undefined).accepts(s);
  }

  /**
   * Delivers one publication to every matching local subscription; receivers on the serializer of
   * an encoded `payload` get it spliced in as it arrived.
   */
  private deliver(
    topic: string, publication: number, content: Content, filter: ReceiverFilter, publisher: Ident | undefined, payload?: Payload,
    mqtt?: Dict, ppt?: Dict,
  ): void {
    this.sent = 0;
    this.index.forEachMatch(topic, (sub, policy) => {
      if (sub.subscribers.size === 0) return;
      const details: Dict = {};
      if (policy !== 'exact') details.topic = topic;
      if (publisher) {
        details.publisher = publisher.session;
        details.publisher_authid = publisher.authid;
        details.publisher_authrole = publisher.authrole;
        if (publisher.forwardFor) details.forward_for = publisher.forwardFor;
      }
      if (mqtt) details._mqtt = mqtt;
      if (ppt) Object.assign(details, ppt);
      // One encoding per serializer in use among this subscription's receivers (by rawsocketId, 1–3).
      const bySerializer: (Outgoing | undefined)[] = [undefined, undefined, undefined, undefined];
      let array: unknown[] | undefined;
      for (const s of sub.subscribers) {
        if (!filter.accepts(s)) continue;
        const ser = s.conn.serializer;
        let out = bySerializer[ser.rawsocketId];
        if (!out) {
          // Spliced bytes are made now (the payload is a view of the publisher's read buffer);
          // otherwise they are encoded once a receiver reads them.
          out = bySerializer[ser.rawsocketId] = payload?.serializer === ser.id && ser.encodeSpliced
            ? Outgoing.spliced(ser, [T.EVENT, sub.id, publication, details], payload)
            : Outgoing.encodedOnDemand(ser, (array ??= withPayload([T.EVENT, sub.id, publication, details], content.args, content.kwargs)));
        }
        s.conn.send(out, true);
        this.sent++;
      }
    });
  }

  private refuse(session: Session, m: Publish, uri: string, message: string, kwargs?: Kwargs): void {
    this.log.debug({ session: session.id, topic: m.topic, uri }, 'publish refused');
    // Only an acknowledged publication is answered (basic/pubsub.md): Autobahn|JS takes an ERROR
    // for a PUBLISH it did not ask to acknowledge as a protocol violation and drops its session.
    if (m.options.acknowledge) session.sendError(T.PUBLISH, m.request, uri, [message], kwargs);
  }

  removeSession(session: Session): void {
    const mine = this.bySession.get(session);
    if (!mine) return;
    this.bySession.delete(session);
    for (const sub of mine) this.detach(session, sub);
  }

  private detach(session: Session, sub: Subscription): void {
    sub.subscribers.delete(session);
    const deleted = this.dropIfEmpty(sub);
    this.hooks?.unsubscribed(session, sub, deleted);
  }

  /** Removes a subscription nobody holds any more; true if it did. */
  private dropIfEmpty(sub: Subscription): boolean {
    if (sub.subscribers.size > 0 || this.byId.get(sub.id) !== sub) return false;
    this.index.delete(sub.uri, sub.match);
    this.byId.delete(sub.id);
    this.backplane.removeInterest(this.realm, sub.uri, sub.match);
    return true;
  }

  /** The subscription managing `uri` under `match` (wamp.subscription.lookup). */
  lookup(uri: string, match: MatchPolicy): Subscription | undefined {
    const sub = this.index.get(uri, match);
    return sub && sub.subscribers.size > 0 ? sub : undefined;
  }

  /** Every subscription with subscribers that matches `topic` (wamp.subscription.match). */
  matching(topic: string): Subscription[] {
    const out: Subscription[] = [];
    this.index.forEachMatch(topic, (sub) => {
      if (sub.subscribers.size > 0) out.push(sub);
    });
    return out;
  }
}

function identOf(session: Session): Ident {
  return { session: session.id, authid: session.authid, authrole: session.authrole };
}

/**
 * PUBLISH.Options `_mqtt` (a WAMP extension key): MQTT message attributes (QoS, retain, MQTT 5
 * properties) the broker forwards untouched as EVENT.Details `_mqtt`, so that MQTT receivers on
 * any node, and of the retained event, get them (mqtt/event-wire.ts). Undefined when absent.
 */
function extensionOf(options: Dict): Dict | undefined {
  const v = options._mqtt;
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Dict) : undefined;
}
