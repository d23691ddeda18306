/**
 * Cluster-unique session ids by construction (design/cluster.md §4, IDs): each node claims one of
 * 1,024 slots in a KV bucket whose entries expire unless refreshed, and issues ids
 * `random43 · 1024 + slot + 1` ∈ [1, 2^53]. Two live nodes never share a slot, so they never
 * issue the same id; a dead node's slot frees itself when its entry expires.
 */
import type { KV } from 'nats';
import { isConflict } from './registry-kv.js';

export const SLOTS = 1024;

export class SessionSlot {
  private slot = -1;
  private revision = 0;

  constructor(private readonly kv: KV, private readonly owner: string) {}

  get claimed(): number {
    return this.slot;
  }

  /**
   * Claims a free slot; throws when all are taken, or when JetStream keeps failing for
   * `timeoutMs` (a failure other than "taken" is retried on the same slot).
   */
  async claim(timeoutMs = 10_000): Promise<number> {
    const start = Math.floor(Math.random() * SLOTS);
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < SLOTS;) {
      const slot = (start + i) % SLOTS;
      try {
        this.revision = await this.kv.create(`s${slot}`, new TextEncoder().encode(this.owner));
        this.slot = slot;
        return slot;
      } catch (err) {
        if (isConflict(err)) {
          i++; // taken: try the next one
          continue;
        }
        if (Date.now() > deadline) throw new Error(`no session-id slot could be claimed: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new Error(`all ${SLOTS} session-id slots of the cluster are taken`);
  }

  /**
   * Keeps the slot alive: `lost` when it expired and another node claimed it, `unreachable` when
   * JetStream did not answer (the slot is kept if it answers again before the entry expires).
   */
  async refresh(): Promise<'kept' | 'lost' | 'unreachable'> {
    if (this.slot < 0) return 'lost';
    const key = `s${this.slot}`;
    const mine = new TextEncoder().encode(this.owner);
    try {
      this.revision = await this.kv.update(key, mine, this.revision);
      return 'kept';
    } catch (err) {
      if (!isConflict(err)) return 'unreachable';
    }
    try {
      const e = await this.kv.get(key);
      if (e && e.operation === 'PUT') {
        if (new TextDecoder().decode(e.value) !== this.owner) return 'lost';
        this.revision = e.revision;
        return 'kept';
      }
      // Expired while we were away and nobody took it: take it back.
      this.revision = await this.kv.create(key, mine);
      return 'kept';
    } catch (err) {
      return isConflict(err) ? 'lost' : 'unreachable';
    }
  }

  /** Frees the slot at once (rather than when its entry expires); throws if that failed. */
  async release(): Promise<void> {
    if (this.slot < 0) return;
    const slot = this.slot;
    this.slot = -1;
    await this.kv.delete(`s${slot}`, { previousSeq: this.revision });
  }

  /** A session id in this node's slot. */
  newId(): number {
    const high = Math.floor(Math.random() * 2 ** 43);
    return high * SLOTS + this.slot + 1;
  }
}
