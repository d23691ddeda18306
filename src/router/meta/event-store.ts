/**
 * Event retention and event history of one realm, in memory (advanced/ap_pubsub_event_retention.md,
 * ap_pubsub_event_history.md).
 *
 * Retention keeps the last `retain: true` publication per topic, for at most `maxRetained` topics
 * (the least recently retained topic is forgotten first) and at most `maxRetainedBytes` together
 * (a client's publication that would pass it is refused, see `retainOverflow`), in the
 * backplane's `RetainedTable`: this process's memory on one node, a JetStream KV bucket that every
 * node reads in a cluster, so the bounds are the realm's whichever node publishes. History keeps, for each configured
 * `{uri, match, limit, maxAge}` rule, the last `limit` publications whose topic matches, none older
 * than `maxAge` (appended to the backplane's `HistoryLog`, which hands every node's appends to
 * every node's ring: in a cluster a JetStream stream per rule); a rule's id is the id a subscription to the same (uri, match) gets, so a client
 * calls `wamp.subscription.get_events` with its own subscription id. Both are bounded: memory is
 * at most (maxRetained + Σ limit) publications, each no larger than the transport's message size
 * (an event matching several rules is stored once and shared).
 *
 * As the spec asks, publications restricted by session id (`exclude`/`eligible`) are not kept in
 * history: session ids mean nothing to a later reader. Delivery rules by authid/authrole are kept
 * and applied to each reader.
 */
import type { EventOut, HistoryLog, Ident, RetainedTable, StoredEntry } from '../../backplane/backplane.js';
import { stableId } from '../../backplane/stable-id.js';
import type { MatchPolicy } from '../../wamp/uri.js';
import type { Args, Dict, Kwargs, Receivers } from '../../wamp/messages.js';
import { MatchIndex } from '../../match/match-index.js';
import { publicationSize } from './value-size.js';

export interface StoredEvent {
  readonly topic: string;
  readonly publication: number;
  readonly publisher?: Ident;
  readonly args: Args;
  readonly kwargs: Kwargs;
  /** The publication's exclude/eligible lists (the key crosses nodes in meta queries: kept as "filters"). */
  readonly filters: Receivers | undefined;
  /** ms since the epoch, when this node stored it. */
  readonly time: number;
  /** PUBLISH.Options `_mqtt` (router/broker.ts), given back as EVENT.Details `_mqtt`. */
  readonly mqtt?: Dict;
  /** PUBLISH.Options of a transparent payload (wamp/transparency.ts), given back in EVENT.Details. */
  readonly ppt?: Dict;
}

export interface HistoryRule {
  readonly uri: string;
  readonly match: MatchPolicy;
  /** Publications kept. */
  readonly limit: number;
  /** ms; older publications are dropped. undefined = no age limit. */
  readonly maxAge?: number;
}

export interface HistoryQuery {
  readonly limit?: number;
  /** Newest first. */
  readonly reverse?: boolean;
  /** Only publications to this topic (pattern rules). */
  readonly topic?: string;
  readonly fromTime?: number;
  readonly afterTime?: number;
  readonly beforeTime?: number;
  readonly untilTime?: number;
  readonly fromPublication?: number;
  readonly afterPublication?: number;
  readonly beforePublication?: number;
  readonly untilPublication?: number;
}

/** Fixed-capacity ring of the newest items. */
class Ring<T> {
  private readonly buf: (T | undefined)[];
  private start = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<T | undefined>(Math.min(capacity, 1024));
  }

  push(item: T): void {
    if (this.size < this.capacity) {
      if (this.size === this.buf.length) this.grow();
      this.buf[(this.start + this.size) % this.buf.length] = item;
      this.size++;
      return;
    }
    this.buf[this.start] = item;
    this.start = (this.start + 1) % this.buf.length;
  }

  /** Drops the oldest item. */
  shift(): void {
    if (this.size === 0) return;
    this.buf[this.start] = undefined;
    this.start = (this.start + 1) % this.buf.length;
    this.size--;
  }

  at(i: number): T {
    return this.buf[(this.start + i) % this.buf.length]!;
  }

  private grow(): void {
    const items = Array.from({ length: this.size }, (_, i) => this.at(i));
    this.buf.length = Math.min(this.capacity, this.buf.length * 2);
    this.buf.fill(undefined);
    items.forEach((x, i) => (this.buf[i] = x));
    this.start = 0;
  }
}

interface History {
  readonly id: number;
  readonly rule: HistoryRule;
  readonly ring: Ring<StoredEvent>;
}

export class EventStore {
  private readonly rules = new MatchIndex<History>();
  private readonly byId = new Map<number, History>();

  constructor(
    private readonly realm: string,
    rules: readonly HistoryRule[],
    private readonly maxRetained: number,
    /** Bytes all retained events may take together; undefined = no bound. */
    private readonly maxRetainedBytes: number | undefined,
    private readonly retainedTable: RetainedTable,
    private readonly historyLog: HistoryLog,
  ) {
    for (const rule of rules) {
      const h: History = { id: stableId(realm, rule.match, rule.uri), rule, ring: new Ring(rule.limit) };
      this.rules.set(rule.uri, rule.match, h);
      this.byId.set(h.id, h);
    }
  }

  /** Follows each history rule's log (the cluster's: what any node appends reaches every ring). */
  async start(): Promise<void> {
    for (const h of this.byId.values()) {
      await this.historyLog.follow(this.realm, h.id, { limit: h.rule.limit, maxAgeMs: h.rule.maxAge }, (entry) => {
        this.expire(h, Date.now());
        h.ring.push(fromStored(entry));
      });
    }
  }

  get retainedCount(): number {
    return this.retainedTable.count(this.realm);
  }

  /** Bytes the retained events take (limits.max_retained_bytes_per_realm). */
  get retainedSizeBytes(): number {
    return this.retainedTable.bytes(this.realm);
  }

  /**
   * The byte bound a publication with `retain` would take the retained events past (it then must
   * be refused), or undefined when it fits — in place of the topic's present retained event.
   */
  retainOverflow(topic: string, args: Args, kwargs: Kwargs): number | undefined {
    const max = this.maxRetainedBytes;
    if (max === undefined || this.maxRetained === 0) return undefined;
    const t = this.retainedTable;
    const after = t.bytes(this.realm) - (t.get(this.realm, topic)?.bytes ?? 0) + publicationSize(topic, args, kwargs);
    return after > max ? max : undefined;
  }

  /**
   * A publication made through this node: kept as the retained one and/or in history. Resolves
   * once every node can read what was kept; undefined when that is so already, or nothing was kept.
   */
  store(ev: EventOut, retain: boolean): Promise<void> | undefined {
    const time = Date.now();
    let kept: Promise<void> | undefined;
    // A publication over the byte bound was refused (retainOverflow); the router's own (a
    // testament with retain) is delivered but not retained.
    if (retain && this.maxRetained > 0 && this.retainOverflow(ev.topic, ev.args, ev.kwargs) === undefined) {
      const t = this.retainedTable;
      kept = t.put({ event: ev, time, bytes: publicationSize(ev.topic, ev.args, ev.kwargs) });
      // The topic just went to the end of the table's order: the longest retained go first.
      while (t.count(this.realm) > this.maxRetained) t.delete(this.realm, t.entries(this.realm).next().value!.event.topic);
    }
    if (this.byId.size === 0 || ev.receivers?.exclude !== undefined || ev.receivers?.eligible !== undefined) return kept;
    let entry: StoredEntry | undefined;
    const appended: Promise<void>[] = kept ? [kept] : [];
    this.rules.forEachMatch(ev.topic, (h) => {
      entry ??= { event: ev, time, bytes: publicationSize(ev.topic, ev.args, ev.kwargs) };
      const p = this.historyLog.append(this.realm, h.id, entry);
      if (p) appended.push(p);
    });
    return appended.length <= 1 ? appended[0] : Promise.all(appended).then(() => undefined);
  }

  /** The retained events a subscription to (uri, match) would receive: one per matching topic. */
  retained(uri: string, match: MatchPolicy): StoredEvent[] {
    const t = this.retainedTable;
    if (match === 'exact') {
      const e = t.get(this.realm, uri);
      return e ? [fromStored(e)] : [];
    }
    const out: StoredEvent[] = [];
    for (const e of t.entries(this.realm)) if (topicMatches(e.event.topic, uri, match)) out.push(fromStored(e));
    return out;
  }

  /**
   * Brings the retained event of `topic` up to date (it may have been retained on another node an
   * instant ago): a promise, or undefined when the table is always current.
   */
  refreshRetained(topic: string): Promise<void> | undefined {
    return this.retainedTable.refresh(this.realm, topic);
  }

  hasHistory(id: number): boolean {
    return this.byId.has(id);
  }

  /** The history rule with this id (the subscription id of its (uri, match)). */
  historyRule(id: number): HistoryRule | undefined {
    return this.byId.get(id)?.rule;
  }

  /**
   * Waits until history `id`'s ring has what any node appended before: a promise, or undefined
   * when it always has (one node).
   */
  syncHistory(id: number): Promise<void> | undefined {
    return this.byId.has(id) ? this.historyLog.sync(this.realm, id) : undefined;
  }

  /** The stored events of history `id` that pass `q`, in order of occurrence (newest first with `reverse`). */
  events(id: number, q: HistoryQuery, accept: (e: StoredEvent) => boolean): StoredEvent[] | undefined {
    const h = this.byId.get(id);
    if (!h) return undefined;
    this.expire(h, Date.now());
    const all: StoredEvent[] = [];
    for (let i = 0; i < h.ring.size; i++) all.push(h.ring.at(i));
    let from = 0;
    let to = all.length;
    const index = (pub: number | undefined) => (pub === undefined ? -1 : all.findIndex((e) => e.publication === pub));
    if (q.fromPublication !== undefined) from = Math.max(from, indexOr(index(q.fromPublication), to));
    if (q.afterPublication !== undefined) from = Math.max(from, indexOr(index(q.afterPublication), to - 1) + 1);
    if (q.beforePublication !== undefined) to = Math.min(to, indexOr(index(q.beforePublication), 0));
    if (q.untilPublication !== undefined) to = Math.min(to, indexOr(index(q.untilPublication), -1) + 1);
    let picked = all.slice(from, Math.max(from, to)).filter((e) =>
      (q.topic === undefined || e.topic === q.topic)
      && (q.fromTime === undefined || e.time >= q.fromTime)
      && (q.afterTime === undefined || e.time > q.afterTime)
      && (q.beforeTime === undefined || e.time < q.beforeTime)
      && (q.untilTime === undefined || e.time <= q.untilTime)
      && accept(e));
    if (q.reverse) picked = picked.reverse();
    return q.limit === undefined ? picked : picked.slice(0, q.limit);
  }

  private expire(h: History, now: number): void {
    const maxAge = h.rule.maxAge;
    if (maxAge === undefined) return;
    while (h.ring.size > 0 && now - h.ring.at(0).time > maxAge) h.ring.shift();
  }
}

function storedEvent(ev: EventOut, time: number): StoredEvent {
  return {
    topic: ev.topic, publication: ev.publication, publisher: ev.publisher, args: ev.args, kwargs: ev.kwargs,
    filters: ev.receivers, time, ...(ev.mqtt ? { mqtt: ev.mqtt } : {}), ...(ev.ppt ? { ppt: ev.ppt } : {}),
  };
}

function fromStored(e: StoredEntry): StoredEvent {
  return storedEvent(e.event, e.time);
}

/** A publication id not in the history: nothing before it (`missing`) rather than everything. */
function indexOr(i: number, missing: number): number {
  return i < 0 ? missing : i;
}

/** WAMP matching of one topic against one pattern (basic/pubsub.md, pattern-based subscriptions). */
export function topicMatches(topic: string, uri: string, match: MatchPolicy): boolean {
  switch (match) {
    case 'exact':
      return topic === uri;
    case 'prefix':
      return topic.startsWith(uri);
    case 'wildcard': {
      const t = topic.split('.');
      const p = uri.split('.');
      return t.length === p.length && p.every((c, i) => c === '' || c === t[i]);
    }
  }
}
