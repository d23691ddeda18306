/**
 * The bounded outgoing buffer of one socket, shared by every socket transport (WebSocket,
 * RawSocket, the MQTT links, the relay). The socket's own write queue is the buffer; writes go
 * through the write batcher (`write-batcher.ts`), and this guard decides before each message
 * whether it may join the queue. The rule is NATS's slow-consumer rule:
 *
 * - a byte bound per connection (`max_out_buffer`, default 64 MiB) large enough for bursts;
 * - a time rule: a connection whose queue has not drained what it held `slow_consumer_timeout`
 *   ms ago (default 10 s) is the slow one, however much it holds;
 * - the node-wide budget of all out-buffers together (`out-budget.ts`).
 *
 * Refused by a rule, a droppable message (an EVENT) is dropped and counted under the 'drop'
 * policy; anything else — or any message under the 'disconnect' policy — closes the connection.
 * Nobody waits: a paused receiver costs its own queue and never delays anyone else. Below
 * `QUIET_BYTES` queued nothing but the byte bound is looked at, so the hot path of small
 * messages is two comparisons and a few additions.
 */
import type { Socket } from 'node:net';
import type { ConnectionLimits } from './limits.js';
import { type Budgeted, type OutBudget, type OutBufferLimit, unboundedBudget } from './out-budget.js';
import { BatchedSocket, sharedBatcher, type WriteBatcher } from './write-batcher.js';

export type Admission = 'write' | 'drop' | 'disconnect';

/** Queued bytes below which a connection is never the slow one (a few frames in flight). */
const QUIET_BYTES = 64 * 1024;

export type OutBufferLimits = Pick<ConnectionLimits, 'maxOutBuffer' | 'slowConsumer' | 'slowConsumerTimeout' | 'outBudget'>;

export class OutBuffer implements Budgeted {
  private readonly out: BatchedSocket;
  /** Queued bytes as last reported to the budget. */
  reported = 0;
  /** Bytes ever written through this buffer; `written - queued` of them have left. */
  private written = 0;
  /** The time rule's checkpoint: when it was taken (0: none) and what had been written then. */
  private checkpointAt = 0;
  private checkpointWritten = 0;
  /** The byte bound now: a smaller one until the session is joined (`bound`). */
  private maxQueued: number;
  private boundLimit: OutBufferLimit = 'max_out_buffer';
  /** The rule of the last refusal, for the close reason. */
  private refusedByRule: OutBufferLimit = 'max_out_buffer';

  private readonly budget: OutBudget;

  constructor(
    readonly socket: Socket,
    private readonly limits: OutBufferLimits,
    private readonly batcher: WriteBatcher = sharedBatcher,
  ) {
    this.out = new BatchedSocket(socket);
    this.maxQueued = limits.maxOutBuffer;
    this.budget = limits.outBudget ?? unboundedBudget;
    this.budget.join(this);
  }

  /**
   * Bounds the queue to `bytes` under `limit` (before WELCOME: `max_handshake_out_buffer`), or
   * back to `max_out_buffer` when called without arguments.
   */
  bound(bytes = this.limits.maxOutBuffer, limit: OutBufferLimit = 'max_out_buffer'): void {
    this.maxQueued = Math.min(bytes, this.limits.maxOutBuffer);
    this.boundLimit = limit;
  }

  /** Bytes written and not yet handed to the kernel (corked bytes included). */
  get queued(): number {
    return this.socket.writableLength;
  }

  /** Whether a message may join the queue now: 'write', else what the policy does instead. */
  admit(droppable: boolean): Admission {
    const q = this.socket.writableLength;
    const budget = this.budget;
    budget.total += q - this.reported;
    this.reported = q;
    if (q <= QUIET_BYTES) return q <= this.maxQueued ? 'write' : this.refuse(this.boundLimit, droppable);
    if (q > this.maxQueued) return this.refuse(this.boundLimit, droppable);
    if (budget.total > budget.max) return this.refuse('max_out_buffer_total', droppable);
    const timeout = this.limits.slowConsumerTimeout ?? 0;
    if (timeout <= 0) return 'write';
    const now = Date.now();
    if (this.checkpointAt === 0 || this.written - q >= this.checkpointWritten) {
      // Nothing is older than this moment's queue: measure from here.
      this.checkpointAt = now;
      this.checkpointWritten = this.written;
      return 'write';
    }
    return now - this.checkpointAt > timeout ? this.refuse('slow_consumer_timeout', droppable) : 'write';
  }

  /** Counts a drop by a bound its owner checked itself (the relay's whole-message bound). */
  refusedBy(limit: OutBufferLimit): void {
    this.refusedByRule = limit;
    this.budget.refused(limit, 'drop');
  }

  private refuse(limit: OutBufferLimit, droppable: boolean): Admission {
    const action = droppable && this.limits.slowConsumer === 'drop' ? 'drop' : 'disconnect';
    this.refusedByRule = limit;
    this.budget.refused(limit, action);
    return action;
  }

  /** Why a connection refused by `admit` is closed (close code 1008), naming the rule. */
  get refusal(): string {
    switch (this.refusedByRule) {
      case 'slow_consumer_timeout':
        return `slow consumer: outgoing buffer not drained within ${this.limits.slowConsumerTimeout} ms (slow_consumer_timeout)`;
      case 'max_out_buffer_total':
        return `slow consumer: the node's outgoing buffers are over their budget of ${this.budget.max} bytes (max_out_buffer_total)`;
      case 'max_handshake_out_buffer':
        return `outgoing buffer over ${this.maxQueued} bytes before the session was joined (max_handshake_out_buffer)`;
      case 'read_timeout':
      case 'max_out_buffer':
        return `slow consumer: outgoing buffer over ${this.maxQueued} bytes (max_out_buffer)`;
    }
  }

  /** True while this tick's writes wait, corked, for the batcher's flush. */
  get corked(): boolean {
    return this.out.corked;
  }

  /** Queues `chunk`, corked until this tick's flush: the writes of one tick leave in one writev. */
  write(chunk: Uint8Array): void {
    this.written += chunk.length;
    this.reported += chunk.length;
    this.budget.total += chunk.length;
    this.batcher.write(this.out, chunk);
  }
}
