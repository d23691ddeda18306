/**
 * Cluster-unique session ids by construction (design/cluster.md §4, IDs): each node claims one of
 * 1,024 slots in a KV bucket whose entries expire unless refreshed, and issues ids
 * `random43 · 1024 + slot + 1` ∈ [1, 2^53]. Two live nodes never share a slot, so they never
 * issue the same id; a dead node's slot frees itself when its entry expires.
 */
import type { KV } from 'nats';

export const SLOTS = 1024;

export class SessionSlot {
  private slot = -1;
  private revision = 0;

  constructor(private readonly kv: KV, private readonly owner: string) {}

  get claimed(): number {
    return this.slot;
  }

  /** Claims a free slot; throws when all are taken. */
  async claim(): Promise<number> {
    const start = Math.floor(Math.random() * SLOTS);
    for (let i = 0; i < SLOTS; i++) {
      const slot = (start + i) % SLOTS;
      try {
        this.revision = await this.kv.create(`s${slot}`, new TextEncoder().encode(this.owner));
        this.slot = slot;
        return slot;
      } catch {
        // taken: try the next one
      }
    }
    throw new Error(`all ${SLOTS} session-id slots of the cluster are taken`);
  }

  /** Keeps the slot alive; false when it was lost (expired and claimed by another node). */
  async refresh(): Promise<boolean> {
    if (this.slot < 0) return false;
    try {
      this.revision = await this.kv.update(`s${this.slot}`, new TextEncoder().encode(this.owner), this.revision);
      return true;
    } catch {
      const e = await this.kv.get(`s${this.slot}`).catch(() => null);
      if (e && e.operation === 'PUT' && new TextDecoder().decode(e.value) === this.owner) {
        this.revision = e.revision;
        return true;
      }
      if (!e || e.operation !== 'PUT') {
        // Expired while we were away and nobody took it: take it back.
        try {
          this.revision = await this.kv.create(`s${this.slot}`, new TextEncoder().encode(this.owner));
          return true;
        } catch {
          return false;
        }
      }
      return false;
    }
  }

  async release(): Promise<void> {
    if (this.slot < 0) return;
    await this.kv.delete(`s${this.slot}`, { previousSeq: this.revision }).catch(() => undefined);
    this.slot = -1;
  }

  /** A session id in this node's slot. */
  newId(): number {
    const high = Math.floor(Math.random() * 2 ** 43);
    return high * SLOTS + this.slot + 1;
  }
}
