/**
 * One MQTT session's subscriptions: each MQTT topic filter with its granted QoS and options, and
 * the WAMP subscriptions that carry it (`topics.ts`). Several filters may share one WAMP
 * subscription (`a/#` and `$share/g/a/#`); the WAMP subscription is dropped with its last filter.
 */
import type { MappedFilter } from './topics.js';

/** A shared subscription's members on this node (MQTT 5 §4.8.2): each message goes to one of them. */
export class SharedGroup {
  readonly members: { readonly online: boolean }[] = [];

  constructor(readonly key: string) {}

  /** Whether `member` is the one to get publication `publication` (the same answer for every member). */
  chosen(member: { readonly online: boolean }, publication: number): boolean {
    const online = this.members.filter((m) => m.online);
    const pool = online.length > 0 ? online : this.members;
    return pool[publication % pool.length] === member;
  }
}

export interface MqttSubscription {
  /** The filter as the client sent it (with `$share/<group>/`). */
  readonly filter: string;
  /** Granted QoS: the requested one, at most 1. */
  readonly qos: 0 | 1;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly mapped: MappedFilter;
  readonly share?: SharedGroup;
  /** WAMP subscription ids, as they are confirmed. */
  readonly wamp: number[];
}

export class SubscriptionTable {
  private readonly byFilter = new Map<string, MqttSubscription>();
  private readonly byWamp = new Map<number, MqttSubscription[]>();

  get size(): number {
    return this.byFilter.size;
  }

  all(): IterableIterator<MqttSubscription> {
    return this.byFilter.values();
  }

  get(filter: string): MqttSubscription | undefined {
    return this.byFilter.get(filter);
  }

  /** The filters a WAMP subscription's events are for. */
  forWamp(id: number): readonly MqttSubscription[] | undefined {
    return this.byWamp.get(id);
  }

  add(sub: MqttSubscription): void {
    this.byFilter.set(sub.filter, sub);
  }

  /** Records that WAMP subscription `id` carries `sub` (if `sub` is still current). */
  confirm(sub: MqttSubscription, id: number): void {
    if (this.byFilter.get(sub.filter) !== sub) return;
    sub.wamp.push(id);
    const list = this.byWamp.get(id);
    if (list) list.push(sub);
    else this.byWamp.set(id, [sub]);
  }

  /** Removes a filter; returns the WAMP subscriptions no other filter uses. */
  remove(filter: string): number[] {
    const sub = this.byFilter.get(filter);
    if (!sub) return [];
    this.byFilter.delete(filter);
    const unused: number[] = [];
    for (const id of sub.wamp) {
      const list = this.byWamp.get(id)!.filter((s) => s !== sub);
      if (list.length > 0) this.byWamp.set(id, list);
      else {
        this.byWamp.delete(id);
        unused.push(id);
      }
    }
    return unused;
  }
}
