/**
 * The node-wide budget of every out-buffer together (`limits.max_out_buffer_total`), so thousands
 * of slow connections cannot take the node's memory however large each one's own bound. Each
 * out-buffer reports its queued bytes when it admits or writes a message; a sweep once a second
 * brings idle ones up to date (a buffer that drained since its last write) and forgets closed
 * ones, so the total is never stale by more than a second, and only ever too high in between.
 * It also counts what the connection limits refused (the out-buffer rules, `read_timeout`), for /metrics.
 */
import type { Socket } from 'node:net';

/** The rule that refused a message (its config key). */
export type OutBufferLimit = 'max_out_buffer' | 'slow_consumer_timeout' | 'max_out_buffer_total' | 'max_handshake_out_buffer' | 'read_timeout';
export type OutBufferAction = 'drop' | 'disconnect';

/** What the budget needs of an out-buffer: its socket and the bytes it last reported. */
export interface Budgeted {
  readonly socket: Socket;
  reported: number;
}

const SWEEP_MS = 1000;

export class OutBudget {
  /** Bytes queued in all out-buffers, as last reported (at most a second stale, then too high). */
  total = 0;
  private readonly members = new Set<Budgeted>();
  private readonly refusals = new Map<string, number>();
  private sweeper: NodeJS.Timeout | undefined;

  /** `max`: bytes all out-buffers together may hold (Infinity: no budget, only the accounting). */
  constructor(readonly max: number = Infinity) {}

  get exceeded(): boolean {
    return this.total > this.max;
  }

  join(b: Budgeted): void {
    this.members.add(b);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
  }

  /** A refusal by `limit` (a dropped message, or a connection closed). */
  refused(limit: OutBufferLimit, action: OutBufferAction): void {
    const key = `${limit}\0${action}`;
    this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
  }

  /** Every refusal so far, by limit and action. */
  refusalCounts(): { limit: OutBufferLimit; action: OutBufferAction; count: number }[] {
    return [...this.refusals].map(([key, count]) => {
      const [limit, action] = key.split('\0') as [OutBufferLimit, OutBufferAction];
      return { limit, action, count };
    });
  }

  /** Brings every member up to date now: the exact total (for /metrics and tests). */
  sweep(): number {
    let total = 0;
    for (const b of this.members) {
      const q = b.socket.destroyed ? 0 : b.socket.writableLength;
      b.reported = q;
      total += q;
      if (b.socket.destroyed) this.members.delete(b);
    }
    this.total = total;
    if (this.members.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    return total;
  }

  /** Stops the sweep (the node stops). */
  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.members.clear();
    this.total = 0;
  }
}

/** The budget of out-buffers made without one (tests, a service started alone): accounting only. */
export const unboundedBudget = new OutBudget();
