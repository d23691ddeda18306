/**
 * Testaments (advanced/ap_pubsub_testament.md): events a session leaves with the router, published
 * when it goes away — cleanly (GOODBYE) or because its connection dropped. Two buckets per session,
 * `detached` and `destroyed`; xbar has no session resumption, so both fire when the session ends,
 * detached ones first, each bucket in the order added (as the spec requires of such routers).
 *
 * The store is an interface so a cluster can keep testaments where a dead node's can still be
 * found (design/cluster.md §4, Testament); `MemoryTestamentStore` is the single-process default and
 * loses a node's testaments when the node itself dies.
 */
import type { Args, Dict, Kwargs, Receivers } from '../../wamp/messages.js';
import type { Backplane } from '../../backplane/backplane.js';
import { publicationSize } from './value-size.js';

export type TestamentScope = 'detached' | 'destroyed';

export interface Testament {
  readonly topic: string;
  readonly args: Args;
  readonly kwargs: Kwargs;
  /** PUBLISH options honoured for a testament: delivery rules, `retain` and `_mqtt` (router/broker.ts). */
  readonly options: Receivers & { readonly retain?: boolean; readonly mqtt?: Dict };
}

/**
 * Where testaments wait. A store backed by the cluster (KV) answers asynchronously; the memory
 * store answers at once, so testaments of a leaving session are published in the same turn as
 * its other departure events.
 */
/** Whether a testament was added, or which bound refused it. */
export type TestamentAdded = 'added' | 'too-many' | 'too-large';

export interface TestamentStore {
  /**
   * Adds a testament: 'too-many' when the session already holds `MAX_TESTAMENTS` in that scope,
   * 'too-large' when its testaments would take more than the store's byte bound.
   */
  add(session: number, scope: TestamentScope, t: Testament): TestamentAdded | Promise<TestamentAdded>;
  /** Bytes one session's testaments may take together; undefined = no bound. */
  readonly maxBytes?: number | undefined;
  /** Removes the session's testaments of one scope; returns how many there were. */
  flush(session: number, scope: TestamentScope): number | Promise<number>;
  /** Removes and returns all of the session's testaments, detached ones first. */
  take(session: number): Testament[] | Promise<Testament[]>;
}

/** Testaments per session and scope: bounds what one session can make the router hold. */
export const MAX_TESTAMENTS = 100;

interface Buckets {
  detached: Testament[];
  destroyed: Testament[];
  /** `publicationSize` of every testament in both buckets. */
  bytes: number;
}

const sizeOf = (t: Testament): number => publicationSize(t.topic, t.args, t.kwargs);

export class MemoryTestamentStore implements TestamentStore {
  private readonly bySession = new Map<number, Buckets>();

  /** `maxBytes`: what one session's testaments may take together (limits.max_testament_bytes_per_session). */
  constructor(readonly maxBytes?: number) {}

  add(session: number, scope: TestamentScope, t: Testament): TestamentAdded {
    const size = sizeOf(t);
    const held = this.bySession.get(session);
    if (held && held[scope].length >= MAX_TESTAMENTS) return 'too-many';
    if (this.maxBytes !== undefined && (held?.bytes ?? 0) + size > this.maxBytes) return 'too-large';
    let buckets = held;
    if (!buckets) this.bySession.set(session, (buckets = { detached: [], destroyed: [], bytes: 0 }));
    buckets[scope].push(t);
    buckets.bytes += size;
    return 'added';
  }

  flush(session: number, scope: TestamentScope): number {
    const buckets = this.bySession.get(session);
    if (!buckets) return 0;
    const n = buckets[scope].length;
    for (const t of buckets[scope]) buckets.bytes -= sizeOf(t);
    buckets[scope] = [];
    return n;
  }

  take(session: number): Testament[] {
    const buckets = this.bySession.get(session);
    if (!buckets) return [];
    this.bySession.delete(session);
    return [...buckets.detached, ...buckets.destroyed];
  }

  get sessions(): number {
    return this.bySession.size;
  }
}

/**
 * Testaments in memory, with a copy in the backplane after every change, so that the cluster
 * publishes them if this node dies (kill -9) before the session ends (design/cluster.md §4).
 */
export class ClusterTestamentStore implements TestamentStore {
  private readonly local: MemoryTestamentStore;
  private readonly copies = new Map<number, Record<TestamentScope, Testament[]>>();

  constructor(private readonly realm: string, private readonly backplane: Backplane, readonly maxBytes?: number) {
    this.local = new MemoryTestamentStore(maxBytes);
  }

  add(session: number, scope: TestamentScope, t: Testament): TestamentAdded {
    const added = this.local.add(session, scope, t);
    if (added !== 'added') return added;
    let c = this.copies.get(session);
    if (!c) this.copies.set(session, (c = { detached: [], destroyed: [] }));
    c[scope].push(t);
    this.keep(session);
    return added;
  }

  flush(session: number, scope: TestamentScope): number {
    const n = this.local.flush(session, scope);
    const c = this.copies.get(session);
    if (c && n > 0) {
      c[scope] = [];
      this.keep(session);
    }
    return n;
  }

  /**
   * The session's testaments, to publish now; in a cluster, once the cluster's copy is released
   * here — none if another node published them already (it took this node for dead).
   */
  take(session: number): Testament[] | Promise<Testament[]> {
    const taken = this.local.take(session);
    if (!this.copies.delete(session)) return taken;
    const release = this.backplane.releaseTestaments?.bind(this.backplane);
    if (!release) {
      this.backplane.keepTestaments(this.realm, session, []);
      return taken;
    }
    return release(this.realm, session).then((mine) => (mine ? taken : []));
  }

  private keep(session: number): void {
    const c = this.copies.get(session);
    const all = c ? [...c.detached, ...c.destroyed] : [];
    if (all.length === 0) this.copies.delete(session);
    this.backplane.keepTestaments(this.realm, session, all.map((t) => ({ topic: t.topic, args: t.args, kwargs: t.kwargs, options: { ...t.options } })));
  }
}
