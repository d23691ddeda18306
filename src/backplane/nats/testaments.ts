/**
 * Testaments that outlive their node (design/cluster.md §6): each node keeps a copy of its
 * sessions' testaments in the KV bucket `xbar_<cluster>_testament`, one key per session; when a
 * node dies, the reaper publishes the testaments it left and deletes them.
 */
import { createHash } from 'node:crypto';
import type { KV, NatsConnection } from 'nats';
import type { StoredTestament } from '../backplane.js';
import { decodeTestaments, encodeTestaments } from './frame.js';
import type { NatsLink } from './link.js';

export class NatsTestaments {
  private kv: KV | undefined;
  /** Testaments are kept from `accept()` on (after an earlier run's were reaped at start). */
  private accepting = false;
  /** Per-session chain of writes, so the last change is the one that stays. */
  private readonly writes = new Map<number, Promise<unknown>>();

  constructor(
    private readonly link: NatsLink,
    private readonly publish: (realm: string, testaments: readonly StoredTestament[]) => void,
  ) {}

  async start(nc: NatsConnection): Promise<void> {
    this.kv = await this.link.kv(nc, 'testament');
  }

  accept(): void {
    this.accepting = true;
  }

  keep(realm: string, session: number, testaments: readonly StoredTestament[]): void {
    const kv = this.kv;
    if (!kv || !this.accepting) return;
    const key = `t.${nodeKey(this.link.nodeId)}.${session}`;
    const write = async (): Promise<void> => {
      if (testaments.length === 0) await kv.delete(key);
      else await kv.put(key, encodeTestaments(realm, testaments));
    };
    const previous = this.writes.get(session) ?? Promise.resolve();
    const next = previous.then(write, write).catch((err: unknown) => this.link.log.warn({ err, session }, 'testament copy not written: it is lost if this node dies'));
    this.writes.set(session, next);
    void this.link.track(next).finally(() => {
      if (this.writes.get(session) === next) this.writes.delete(session);
    });
  }

  /** Publishes (through one node, the reaper) the testaments of a dead node's sessions. */
  async reap(node: string): Promise<void> {
    const kv = this.kv;
    if (!kv) return;
    const log = this.link.log.child({ node });
    // The whole listing first: a key deleted while nats.js lists the others ends the listing early.
    const keys: string[] = [];
    try {
      for await (const key of await kv.keys(`t.${nodeKey(node)}.>`)) keys.push(key);
    } catch (err) {
      log.error({ err, listed: keys.length }, 'the testaments of a lost node could not all be listed: those not listed are not published');
    }
    let published = 0;
    let failed = 0;
    for (const key of keys) {
      const n = await this.reapOne(kv, key, log);
      if (n === undefined) failed++;
      else published += n;
    }
    if (published > 0 || failed > 0) log.info({ published, sessionsFailed: failed }, 'published the testaments of a lost node');
  }

  /** One session's testaments, published and deleted: how many; undefined (logged) if they could not be. */
  private async reapOne(kv: KV, key: string, log: NatsLink['log']): Promise<number | undefined> {
    let published: number | undefined;
    try {
      const e = await kv.get(key);
      const record = e && e.operation === 'PUT' ? decodeTestaments(e.value) : undefined;
      if (record) this.publish(record.realm, record.testaments);
      published = record?.testaments.length ?? 0;
    } catch (err) {
      log.error({ err, key }, 'a testament of a lost node could not be read or published');
    }
    await kv.delete(key).catch((err: unknown) => log.warn({ err, key }, 'a published testament could not be deleted from the store'));
    return published;
  }
}

/** A node id as one KV key token. */
function nodeKey(node: string): string {
  return createHash('sha256').update(node).digest('hex').slice(0, 24);
}
