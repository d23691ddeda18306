/**
 * Acknowledged publications across nodes (design/cluster.md §4: PUBLISHED once a NATS server has
 * the publication). A publication is confirmed when a flush (PING/PONG) written after it on the
 * same connection comes back: NATS answers a PING only after it has read what came before it.
 * nats.js drops what was written into a connection that broke (its pending PONGs fail, and the
 * next connection starts with an empty buffer), so a disconnect in between leaves a publication
 * unconfirmed; events.ts resends every unconfirmed one after the reconnect and flushes again.
 * A publication the origin's buffer lets go of before it was confirmed (the outage outlasted
 * `replay_window`, or `replay_buffer` overflowed) fails its waiters: no PUBLISHED is sent for an
 * event that may never leave the node.
 *
 * One flush is in flight at a time, covering every publication handed over before it: acknowledged
 * publications cost one PING per round trip, not one each.
 */
import type { NatsConnection } from 'nats';

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class Confirmations {
  /** The highest seq known to have reached a NATS server. */
  private confirmedUpTo: number;
  /** The highest seq written on the current connection. */
  private handedUpTo: number;
  /** Bumped at each disconnect: a flush that started before it confirms nothing. */
  private generation = 0;
  private flushing = false;
  private readonly waiting: Waiter[] = [];
  private sweep: NodeJS.Timeout | undefined;

  /**
   * `connection()`: the connection while it can carry traffic (connected, not reconnecting);
   * `expire()` lets the buffer drop frames past their window (it then calls `lost`); `before`:
   * the seq before the first publication (nothing up to it waits).
   */
  constructor(
    private readonly connection: () => NatsConnection | undefined,
    private readonly expire: () => void,
    before = 0,
  ) {
    this.confirmedUpTo = before;
    this.handedUpTo = before;
  }

  get confirmed(): number {
    return this.confirmedUpTo;
  }

  /** `seq` was written on the current connection. */
  handedOver(seq: number): void {
    if (seq > this.handedUpTo) this.handedUpTo = seq;
  }

  /** The connection broke: what was written and not confirmed is to be resent. */
  disconnected(): void {
    this.generation++;
    this.handedUpTo = this.confirmedUpTo;
  }

  /** Resolves once `seq` reached a NATS server; rejects if it can no longer get there. */
  wait(seq: number): Promise<void> {
    if (seq <= this.confirmedUpTo) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ seq, resolve, reject });
      this.sweep ??= setInterval(() => this.expire(), 1000).unref();
      this.kick();
    });
  }

  /** Starts a flush if publications wait for one and the connection can carry it. */
  kick(): void {
    if (this.flushing || this.waiting.length === 0) return;
    const nc = this.connection();
    if (!nc || this.handedUpTo <= this.confirmedUpTo) return;
    const target = this.handedUpTo;
    const generation = this.generation;
    this.flushing = true;
    nc.flush().then(
      () => {
        if (generation === this.generation) this.settle(target);
      },
      () => undefined, // a disconnect: the reconnect resends and kicks again
    ).finally(() => {
      this.flushing = false;
      this.kick();
    });
  }

  /** Frames up to `seq` were dropped from the buffer unconfirmed: their publishers hear so. */
  lost(seq: number, why: string): void {
    if (seq <= this.confirmedUpTo) return;
    for (const w of this.upTo(seq)) w.reject(new Error(why));
    this.idle();
  }

  /** The node stops: nothing still waiting will be confirmed. */
  close(): void {
    for (const w of this.waiting.splice(0)) w.reject(new Error('the node is stopping'));
    this.idle();
  }

  private settle(upTo: number): void {
    if (upTo > this.confirmedUpTo) this.confirmedUpTo = upTo;
    for (const w of this.upTo(upTo)) w.resolve();
    this.idle();
  }

  /** Takes the waiters for publications up to `seq` (they wait in seq order). */
  private upTo(seq: number): Waiter[] {
    let n = 0;
    while (n < this.waiting.length && this.waiting[n]!.seq <= seq) n++;
    return this.waiting.splice(0, n);
  }

  private idle(): void {
    if (this.waiting.length > 0 || !this.sweep) return;
    clearInterval(this.sweep);
    this.sweep = undefined;
  }
}
