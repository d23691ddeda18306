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
import type { MatchPolicy } from '../config/types.js';
import { Outgoing } from '../transports/connection.js';
import { MessageType as T } from '../wamp/codes.js';
import { ErrorUri } from '../wamp/errors.js';
import { randomId } from '../wamp/ids.js';
import type { Dict, Publish, PublishOptions, Subscribe, Unsubscribe } from '../wamp/messages.js';
import { withPayload } from '../wamp/encode.js';
import { isReservedUri } from '../wamp/uri.js';
import { MatchIndex } from './match/match-index.js';
import type { Session } from './session.js';
import { stableId } from './stable-id.js';

export interface Subscription {
  readonly id: number;
  readonly uri: string;
  readonly match: MatchPolicy;
  readonly created: Date;
  readonly subscribers: Set<Session>;
}

export class Broker {
  private readonly index = new MatchIndex<Subscription>();
  private readonly byId = new Map<number, Subscription>();
  private readonly bySession = new Map<Session, Set<Subscription>>();

  constructor(
    private readonly realm: string,
    private readonly authorizer: Authorizer,
    private readonly log: Logger,
  ) {}

  get subscriptionCount(): number {
    return this.byId.size;
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
    if (!sub) {
      sub = { id: this.freeId(topic, options.match), uri: topic, match: options.match, created: new Date(), subscribers: new Set() };
      this.index.set(topic, options.match, sub);
      this.byId.set(sub.id, sub);
    }
    sub.subscribers.add(session);
    let mine = this.bySession.get(session);
    if (!mine) this.bySession.set(session, (mine = new Set()));
    mine.add(sub);
    session.send({ type: T.SUBSCRIBED, request: m.request, subscription: sub.id });
  }

  unsubscribe(session: Session, m: Unsubscribe): void {
    const sub = this.byId.get(m.subscription);
    if (!sub || !sub.subscribers.has(session)) {
      return session.sendError(T.UNSUBSCRIBE, m.request, ErrorUri.noSuchSubscription, [
        `session has no subscription ${m.subscription}`,
      ]);
    }
    this.detach(session, sub);
    this.bySession.get(session)?.delete(sub);
    session.send({ type: T.UNSUBSCRIBED, request: m.request });
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
    const publication = randomId();
    const publisher = options.discloseMe || decision.disclose ? session : undefined;
    this.deliver(topic, publication, m, session, publisher);
    if (options.acknowledge) session.send({ type: T.PUBLISHED, request: m.request, publication });
  }

  /** Delivers one publication to every matching local subscription. */
  private deliver(topic: string, publication: number, m: Publish, from: Session, publisher: Session | undefined): void {
    const filter = ReceiverFilter.of(m.options, from);
    this.index.forEachMatch(topic, (sub, policy) => {
      const details: Dict = {};
      if (policy !== 'exact') details.topic = topic;
      if (publisher) {
        details.publisher = publisher.id;
        details.publisher_authid = publisher.authid;
        details.publisher_authrole = publisher.authrole;
      }
      // One encoding per serializer in use among this subscription's receivers.
      const bySerializer: (Outgoing | undefined)[] = [];
      let array: unknown[] | undefined;
      for (const s of sub.subscribers) {
        if (!filter.accepts(s)) continue;
        const ser = s.conn.serializer;
        let out = bySerializer[ser.rawsocketId];
        if (!out) {
          array ??= withPayload([T.EVENT, sub.id, publication, details], m.args, m.kwargs);
          out = bySerializer[ser.rawsocketId] = new Outgoing(ser.encode(array), ser.binary);
        }
        s.conn.send(out, true);
      }
    });
  }

  private refuse(session: Session, m: Publish, uri: string, message: string): void {
    this.log.debug({ session: session.id, topic: m.topic, uri }, 'publish refused');
    // Errors for unacknowledged publications are still sent: stock clients ignore them harmlessly.
    if (m.options.acknowledge) session.sendError(T.PUBLISH, m.request, uri, [message]);
  }

  removeSession(session: Session): void {
    const mine = this.bySession.get(session);
    if (!mine) return;
    this.bySession.delete(session);
    for (const sub of mine) this.detach(session, sub);
  }

  private detach(session: Session, sub: Subscription): void {
    sub.subscribers.delete(session);
    if (sub.subscribers.size === 0) {
      this.index.delete(sub.uri, sub.match);
      this.byId.delete(sub.id);
    }
  }

  private freeId(uri: string, match: string): number {
    let id = stableId(this.realm, match, uri);
    while (this.byId.has(id)) id = (id % 2 ** 53) + 1;
    return id;
  }
}

/** exclude_me, exclude/eligible by session, authid and authrole (subscriber_blackwhite_listing). */
class ReceiverFilter {
  private static readonly OPEN = new ReceiverFilter(undefined, undefined, undefined, undefined, undefined, undefined, undefined);

  static of(o: PublishOptions, from: Session): ReceiverFilter {
    const none = !o.exclude && !o.eligible && !o.excludeAuthid && !o.excludeAuthrole && !o.eligibleAuthid && !o.eligibleAuthrole;
    if (none && !o.excludeMe) return ReceiverFilter.OPEN;
    return new ReceiverFilter(
      o.excludeMe ? from : undefined,
      o.exclude && new Set(o.exclude), o.eligible && new Set(o.eligible),
      o.excludeAuthid && new Set(o.excludeAuthid), o.excludeAuthrole && new Set(o.excludeAuthrole),
      o.eligibleAuthid && new Set(o.eligibleAuthid), o.eligibleAuthrole && new Set(o.eligibleAuthrole),
    );
  }

  private constructor(
    private readonly me: Session | undefined,
    private readonly exclude: Set<number> | undefined,
    private readonly eligible: Set<number> | undefined,
    private readonly excludeAuthid: Set<string> | undefined,
    private readonly excludeAuthrole: Set<string> | undefined,
    private readonly eligibleAuthid: Set<string> | undefined,
    private readonly eligibleAuthrole: Set<string> | undefined,
  ) {}

  accepts(s: Session): boolean {
    if (s === this.me) return false;
    if (this.exclude?.has(s.id)) return false;
    if (this.eligible && !this.eligible.has(s.id)) return false;
    if (this.excludeAuthid?.has(s.authid)) return false;
    if (this.excludeAuthrole?.has(s.authrole)) return false;
    if (this.eligibleAuthid && !this.eligibleAuthid.has(s.authid)) return false;
    if (this.eligibleAuthrole && !this.eligibleAuthrole.has(s.authrole)) return false;
    return true;
  }
}
