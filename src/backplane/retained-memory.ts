/**
 * Retained events in memory, per realm and topic: the whole table on one node (LocalBackplane),
 * and a cluster node's replica of the KV bucket (nats/retained-kv.ts). A Map per realm keeps the
 * order in which topics were last retained, so the longest retained come first.
 */
import type { StoredEntry, RetainedTable } from './backplane.js';

interface RealmTable {
  readonly byTopic: Map<string, StoredEntry>;
  bytes: number;
}

export class MemoryRetainedTable implements RetainedTable {
  private readonly realms = new Map<string, RealmTable>();

  get(realm: string, topic: string): StoredEntry | undefined {
    return this.realms.get(realm)?.byTopic.get(topic);
  }

  entries(realm: string): IterableIterator<StoredEntry> {
    return (this.realms.get(realm)?.byTopic ?? new Map<string, StoredEntry>()).values();
  }

  count(realm: string): number {
    return this.realms.get(realm)?.byTopic.size ?? 0;
  }

  bytes(realm: string): number {
    return this.realms.get(realm)?.bytes ?? 0;
  }

  async put(entry: StoredEntry): Promise<void> {
    this.set(entry);
  }

  delete(realm: string, topic: string): void {
    this.remove(realm, topic);
  }

  refresh(_realm: string, _topic: string): Promise<void> | undefined {
    return undefined;
  }

  /** Keeps `entry`, moved to the end of its realm's order. */
  protected set(entry: StoredEntry): void {
    const { realm, topic } = entry.event;
    this.remove(realm, topic);
    let t = this.realms.get(realm);
    if (!t) this.realms.set(realm, (t = { byTopic: new Map(), bytes: 0 }));
    t.byTopic.set(topic, entry);
    t.bytes += entry.bytes;
  }

  protected remove(realm: string, topic: string): void {
    const t = this.realms.get(realm);
    const e = t?.byTopic.get(topic);
    if (!t || !e) return;
    t.byTopic.delete(topic);
    t.bytes -= e.bytes;
    if (t.byTopic.size === 0) this.realms.delete(realm);
  }
}
