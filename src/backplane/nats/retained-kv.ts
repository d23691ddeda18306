/**
 * Retained events cluster-wide (design/cluster.md §4, History/retained): the JetStream KV bucket
 * `xbar_<cluster>_retained`, one key per (realm, topic), and this node's replica of it fed by a
 * KV watch, so reads stay local and synchronous and the events outlive the node that published
 * them. The router bounds the table (count and bytes per realm) as on one node; two nodes
 * retaining at the same instant may pass the byte bound by what they wrote meanwhile.
 *
 * A node's own write shows in its replica at once. While it is in flight, the watch's entries for
 * that key are held back (an echo of an older write would undo the newer one); the newest held
 * back is applied once the write has its revision, if it is newer.
 */
import { createHash } from 'node:crypto';
import type { KV, KvEntry, NatsConnection } from 'nats';
import type { StoredEntry } from '../backplane.js';
import { MemoryRetainedTable } from '../retained-memory.js';
import { decodeStoredEvent, encodeStoredEvent } from './frame.js';
import { initialValues, type NatsLink } from './link.js';

export function retainedKey(realm: string, topic: string): string {
  const h = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
  return `${h(realm)}.${h(topic)}`;
}

export class NatsRetained extends MemoryRetainedTable {
  private kv: KV | undefined;
  /** The KV revision each key's replica entry is at. */
  private readonly revisions = new Map<string, number>();
  /** Each key's realm and topic (a delete names only the key). */
  private readonly names = new Map<string, readonly [string, string]>();
  /** This node's writes in flight, per key, and the newest watch entry held back meanwhile. */
  private readonly writing = new Map<string, number>();
  private readonly heldBack = new Map<string, KvEntry>();

  constructor(private readonly link: NatsLink) {
    super();
  }

  /** Opens the bucket and waits (bounded) for the replica's initial values. */
  async start(nc: NatsConnection): Promise<void> {
    const kv = await this.link.kv(nc, 'retained');
    this.kv = kv;
    let ready!: () => void;
    const initialized = new Promise<void>((r) => (ready = r));
    const iter = await kv.watch({ key: '>', initializedFn: () => ready() });
    void (async () => {
      for await (const e of iter) this.apply(e);
    })().catch((err: unknown) => this.link.log.error({ err }, 'retained events watch ended: this node no longer hears of events retained elsewhere'));
    await initialValues(initialized, 'retained events watch', this.link.log);
  }

  override put(entry: StoredEntry): Promise<void> {
    const { realm, topic } = entry.event;
    this.set(entry);
    const key = retainedKey(realm, topic);
    this.names.set(key, [realm, topic]);
    return this.write(key, (kv) => kv.put(key, encodeStoredEvent(entry)));
  }

  override delete(realm: string, topic: string): void {
    if (!this.get(realm, topic)) return;
    this.remove(realm, topic);
    const key = retainedKey(realm, topic);
    this.write(key, async (kv) => {
      await kv.delete(key);
      return undefined;
    }).catch(() => undefined);
  }

  override refresh(realm: string, topic: string): Promise<void> {
    const kv = this.kv;
    if (!kv) return Promise.resolve();
    const key = retainedKey(realm, topic);
    this.names.set(key, [realm, topic]);
    return kv.get(key).then(
      (e) => {
        if (e) this.apply(e);
      },
      (err: unknown) => this.link.log.debug({ err, topic }, 'retained event not refreshed'),
    );
  }

  private write(key: string, op: (kv: KV) => Promise<number | undefined>): Promise<void> {
    const kv = this.kv;
    if (!kv) return Promise.reject(new Error('the cluster\'s retained events are not reachable yet'));
    this.writing.set(key, (this.writing.get(key) ?? 0) + 1);
    const done = (revision: number | undefined): void => {
      const left = (this.writing.get(key) ?? 1) - 1;
      if (left > 0) {
        this.writing.set(key, left);
        return;
      }
      this.writing.delete(key);
      if (revision !== undefined) this.revisions.set(key, Math.max(revision, this.revisions.get(key) ?? 0));
      const held = this.heldBack.get(key);
      this.heldBack.delete(key);
      if (held) this.apply(held);
    };
    return this.link.track(op(kv)).then(done, (err: unknown) => {
      done(undefined);
      this.link.log.warn({ err }, 'retained event not written to the cluster');
      throw err;
    });
  }

  private apply(e: KvEntry): void {
    if (this.writing.has(e.key)) {
      const held = this.heldBack.get(e.key);
      if (!held || held.revision < e.revision) this.heldBack.set(e.key, e);
      return;
    }
    if (e.revision <= (this.revisions.get(e.key) ?? 0)) return;
    this.revisions.set(e.key, e.revision);
    if (e.operation === 'PUT' && e.value.length > 0) {
      let entry: StoredEntry;
      try {
        entry = decodeStoredEvent(e.value);
      } catch (err) {
        return this.link.complaints.warn('retained', { key: e.key, why: (err as Error).message }, 'malformed retained event ignored');
      }
      this.names.set(e.key, [entry.event.realm, entry.event.topic]);
      this.set(entry);
      return;
    }
    const name = this.names.get(e.key);
    if (name) this.remove(name[0], name[1]);
  }
}
