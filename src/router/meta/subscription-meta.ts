/**
 * Subscription meta procedures (advanced/ap_07_meta_api_subscriptions.md) and event history
 * (`wamp.subscription.get_events`, ap_27_pubsub_event_history.md).
 *
 * Subscriptions are held per node (a node holds one where it has subscribers), with the same id on
 * every node, so answers combine this node's and the other nodes' (`Backplane.query`): lists are
 * unions, counts sums, `created` the earliest. As in Crossbar.io, subscriptions to the router's own
 * topics (`wamp.*`) are hidden from callers other than the router's own sessions: left out of lists
 * and lookups, `not_authorized` for get, list_subscribers and count_subscribers. Lookups that find
 * nothing return null (DESIGN.md, Interop facts).
 */
import { TRUSTED_ROLE } from '../../auth/authorizer.js';
import { ErrorUri } from '../../wamp/errors.js';
import type { Dict } from '../../wamp/messages.js';
import { isReservedUri, type MatchPolicy } from '../../wamp/uri.js';
import { Broker, type Subscription } from '../broker.js';
import type { Realm } from '../realm.js';
import type { EventStore, HistoryQuery, StoredEvent } from './event-store.js';
import { describe, dictArg, idArg, matchOption, MetaError, type MetaCall, type MetaProcedure, stringArg } from './meta-call.js';
import type { Answerer } from './session-meta.js';

interface SubInfo {
  id: number;
  created: string;
  uri: string;
  match: MatchPolicy;
}

const info = (s: Subscription): SubInfo => ({ id: s.id, created: s.created.toISOString(), uri: s.uri, match: s.match });
const trustedCaller = (call: MetaCall) => call.session.authrole === TRUSTED_ROLE;
const live = (s: Subscription | undefined): s is Subscription => s !== undefined && s.subscribers.size > 0;

export class SubscriptionMeta {
  constructor(private readonly realm: Realm, private readonly store: EventStore | undefined) {}

  private others<T>(q: Dict): Promise<T[]> {
    return this.realm.backplane.query(this.realm.name, q) as Promise<T[]>;
  }

  /** The subscription with `id` here and on the other nodes, or a no_such_subscription error. */
  private async find(call: MetaCall, id: number, what: string): Promise<{ sub: SubInfo; subscribers: number[] }> {
    const local = this.realm.broker.subscription(id);
    const answers = await this.others<{ sub?: SubInfo; subscribers?: number[] }>({ kind: 'subscription.get', id });
    const found = answers.filter((a) => a.sub);
    let sub: SubInfo | undefined = live(local) ? info(local) : undefined;
    for (const a of found) if (!sub || a.sub!.created < sub.created) sub = { ...a.sub!, created: a.sub!.created };
    if (!sub) throw new MetaError(ErrorUri.noSuchSubscription, `no subscription with ID ${id} exists in realm "${this.realm.name}"`);
    if (isReservedUri(sub.uri) && !trustedCaller(call)) {
      throw new MetaError(ErrorUri.notAuthorized, `not authorized to ${what} of the router's own topic "${sub.uri}"`);
    }
    const subscribers = [...(live(local) ? [...local.subscribers].map((s) => s.id) : []), ...found.flatMap((a) => a.subscribers ?? [])];
    return { sub, subscribers };
  }

  procedures(): Record<string, MetaProcedure> {
    return {
      'wamp.subscription.list': async (call) => {
        const trusted = trustedCaller(call);
        const lists = this.localList(trusted);
        for (const a of await this.others<Record<MatchPolicy, number[]>>({ kind: 'subscription.list', trusted })) {
          for (const m of ['exact', 'prefix', 'wildcard'] as const) for (const id of a[m] ?? []) lists[m].add(id);
        }
        return { args: [{ exact: [...lists.exact], prefix: [...lists.prefix], wildcard: [...lists.wildcard] }] };
      },
      'wamp.subscription.lookup': async (call) => {
        const uri = stringArg(call, 0, 'topic');
        const match = matchOption(call, dictArg(call, 1, 'options'));
        if (isReservedUri(uri) && !trustedCaller(call)) return { args: [null] };
        const local = this.realm.broker.lookup(uri, match);
        if (local) return { args: [local.id] };
        const remote = (await this.others<{ id?: number }>({ kind: 'subscription.lookup', uri, match })).find((a) => a.id);
        return { args: [remote?.id ?? null] };
      },
      'wamp.subscription.match': async (call) => {
        const topic = stringArg(call, 0, 'topic');
        const trusted = trustedCaller(call);
        const ids = new Set(this.localMatch(topic, trusted));
        for (const a of await this.others<{ ids?: number[] }>({ kind: 'subscription.match', topic, trusted })) for (const id of a.ids ?? []) ids.add(id);
        return { args: [ids.size > 0 ? [...ids] : null] };
      },
      'wamp.subscription.get': async (call) => ({ args: [(await this.find(call, idArg(call, 0, 'subscription'), 'get the subscription')).sub] }),
      'wamp.subscription.list_subscribers': async (call) => {
        const { subscribers } = await this.find(call, idArg(call, 0, 'subscription'), 'list the subscribers');
        return { args: [subscribers] };
      },
      'wamp.subscription.count_subscribers': async (call) => {
        const { subscribers } = await this.find(call, idArg(call, 0, 'subscription'), 'count the subscribers');
        return { args: [subscribers.length] };
      },
      'wamp.subscription.get_events': (call) => {
        // In a cluster, first catch up with what other nodes appended to the history.
        const synced = this.store?.syncHistory(idArg(call, 0, 'subscription'));
        return synced ? synced.then(() => this.getEvents(call)) : this.getEvents(call);
      },
    };
  }

  private localList(trusted: boolean): Record<MatchPolicy, Set<number>> {
    const lists: Record<MatchPolicy, Set<number>> = { exact: new Set(), prefix: new Set(), wildcard: new Set() };
    for (const s of this.realm.broker.subscriptions()) {
      if (live(s) && (trusted || !isReservedUri(s.uri))) lists[s.match].add(s.id);
    }
    return lists;
  }

  private localMatch(topic: string, trusted: boolean): number[] {
    return this.realm.broker.matching(topic).filter((s) => trusted || !isReservedUri(s.uri)).map((s) => s.id);
  }

  answers(): Record<string, Answerer> {
    return {
      'subscription.list': (q) => {
        const lists = this.localList(q.trusted === true);
        return { exact: [...lists.exact], prefix: [...lists.prefix], wildcard: [...lists.wildcard] };
      },
      'subscription.lookup': (q) => {
        const match = q.match === 'prefix' || q.match === 'wildcard' ? q.match : 'exact';
        const s = typeof q.uri === 'string' ? this.realm.broker.lookup(q.uri, match) : undefined;
        return s ? { id: s.id } : {};
      },
      'subscription.match': (q) => ({ ids: typeof q.topic === 'string' ? this.localMatch(q.topic, q.trusted === true) : [] }),
      'subscription.get': (q) => {
        const s = this.realm.broker.subscription(Number(q.id));
        return live(s) ? { sub: info(s), subscribers: [...s.subscribers].map((x) => x.id) } : {};
      },
    };
  }

  /**
   * `get_events(subscription, limit)` as Crossbar.io answers it (the newest `limit`, newest
   * first), or with the spec's keyword arguments (`limit`, `reverse`, `topic`, `from_time`…,
   * `after_publication`…: in order of occurrence unless `reverse`). The caller must be allowed to
   * subscribe to the history's topic; publications whose authid/authrole rules exclude the caller
   * are left out.
   */
  private getEvents(call: MetaCall): { args: unknown[] } {
    const id = idArg(call, 0, 'subscription');
    const store = this.store;
    const rule = store?.historyRule(id);
    if (!store || !rule) {
      if (live(this.realm.broker.subscription(id))) {
        throw new MetaError(ErrorUri.historyUnavailable, `no event history is kept for subscription ${id}; configure it in the realm's "store"`);
      }
      throw new MetaError(ErrorUri.noSuchSubscription, `no subscription with ID ${id} exists in realm "${this.realm.name}"`);
    }
    if (!this.realm.authorizer.authorize(call.session.authrole, rule.uri, 'subscribe').allow) {
      throw new MetaError(ErrorUri.notAuthorized, `session is not authorized to subscribe to "${rule.uri}", so not to its event history`);
    }
    const kw = call.kwargs ?? {};
    const positional = call.args?.[1];
    let q: HistoryQuery;
    if (Object.keys(kw).length === 0) {
      // Crossbar.io's form: get_events(subscription_id, limit=10), newest first.
      q = { limit: positional === undefined ? 10 : count(call, positional, 'argument 2 (limit)'), reverse: true };
    } else {
      q = {
        limit: kw.limit === undefined ? (positional === undefined ? undefined : count(call, positional, 'argument 2 (limit)')) : count(call, kw.limit, 'limit'),
        reverse: flag(call, kw.reverse, 'reverse'),
        topic: kw.topic === undefined ? undefined : String(kw.topic),
        fromTime: time(call, kw.from_time, 'from_time'),
        afterTime: time(call, kw.after_time, 'after_time'),
        beforeTime: time(call, kw.before_time, 'before_time'),
        untilTime: time(call, kw.until_time, 'until_time'),
        fromPublication: pub(call, kw.from_publication, 'from_publication'),
        afterPublication: pub(call, kw.after_publication, 'after_publication'),
        beforePublication: pub(call, kw.before_publication, 'before_publication'),
        untilPublication: pub(call, kw.until_publication, 'until_publication'),
      };
    }
    const events = store.events(id, q, (e) => Broker.accepts(e.filters, call.session)) ?? [];
    return { args: [events.map((e) => historyEvent(id, rule.match, e))] };
  }
}

function historyEvent(subscription: number, match: MatchPolicy, e: StoredEvent): Dict {
  const details: Dict = {};
  if (match !== 'exact') details.topic = e.topic;
  if (e.publisher) {
    details.publisher = e.publisher.session;
    details.publisher_authid = e.publisher.authid;
    details.publisher_authrole = e.publisher.authrole;
  }
  const out: Dict = { timestamp: new Date(e.time).toISOString(), subscription, publication: e.publication, topic: e.topic, details };
  if (e.args !== undefined) out.args = e.args;
  if (e.kwargs !== undefined) out.kwargs = e.kwargs;
  return out;
}

function bad(call: MetaCall, what: string, v: unknown, expected: string): MetaError {
  return new MetaError(ErrorUri.invalidArgument, `${call.procedure}: ${what} must be ${expected}, got ${describe(v)}`);
}

function count(call: MetaCall, v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(call, what, v, 'a positive integer');
  return v;
}

function flag(call: MetaCall, v: unknown, what: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw bad(call, what, v, 'true or false');
  return v;
}

function time(call: MetaCall, v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(t)) throw bad(call, what, v, 'an RFC 3339 timestamp string');
  return t;
}

function pub(call: MetaCall, v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(call, what, v, 'a publication id');
  return v;
}
