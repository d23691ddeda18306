/**
 * Write coalescing for the hot path: the first write to a socket in a tick corks it, and one
 * flush per tick uncorks every socket corked meanwhile, so the N messages a socket gets in one
 * tick leave in one `writev(2)` instead of N `write(2)`s (one syscall per message per socket was
 * most of a fan-out's server time).
 *
 * A socket flushed once already in this turn of the event loop waits for the turn's end
 * (`setImmediate`, after every read ready in it) before its next flush: a lone message still
 * leaves at the end of its callback, and a socket written to from many reads of one turn (a
 * subscriber of many HTTP publishers, a callee of many callers) gets one writev for the rest of
 * them instead of one write per read.
 *
 * Guarantees: bytes keep their order (a corked socket buffers every write, the transport's own and
 * `ws`'s close/ping/pong frames alike, and writes them in order on uncork); `socket.writableLength`
 * counts corked bytes, so the bounded out-buffer (`out-buffer.ts`) sees them; `end()` uncorks by
 * itself, so a close flushes what is queued, and `destroy()` discards it (an abort). A flush
 * runs in `process.nextTick` after the callback that wrote, so it adds no wait for I/O or
 * timers: latency is the rest of that callback, as before.
 */
import type { Socket } from 'node:net';

/** One socket's batching state, held by its connection (a flag, so no Set lookup per write). */
export class BatchedSocket {
  /** Corked by the batcher, waiting for its flush. */
  corked = false;
  /** The batcher's turn of its last flush. */
  flushedIn = 0;
  constructor(readonly socket: Socket) {}
}

export type FlushSchedule = 'tick' | 'immediate';

export class WriteBatcher {
  private readonly queue: BatchedSocket[] = [];
  /** Sockets flushed already in this turn, corked again: flushed when the turn ends. */
  private readonly late: BatchedSocket[] = [];
  private readonly schedule: (fn: () => void) => void;
  /** Counts turns of the event loop that flushed (1 while the first runs). */
  private turn = 1;
  private turnEnding = false;

  /**
   * `tick` (default): flush in `process.nextTick`, right after the callback that wrote.
   * `immediate`: flush in `setImmediate`, after every socket read ready in this loop turn (more
   * coalescing across sockets' reads, at the cost of their latency). Measured (bench/README.md):
   * `immediate` gave rpc with 4 callees ~20% more calls/s, fan-out the same, and pingpong p99
   * 30–80 µs more; hence `tick`.
   */
  constructor(schedule: FlushSchedule = 'tick') {
    this.schedule = schedule === 'tick' ? (fn) => process.nextTick(fn) : (fn) => void setImmediate(fn);
  }

  /** Writes `chunk` to the socket, corked until the flush of this tick. */
  write(target: BatchedSocket, chunk: Uint8Array): void {
    if (!target.corked) {
      target.corked = true;
      target.socket.cork();
      if (target.flushedIn === this.turn) this.late.push(target);
      else if (this.queue.push(target) === 1) this.schedule(this.flush);
    }
    target.socket.write(chunk);
  }

  private readonly flush = (): void => {
    const q = this.queue;
    if (!this.turnEnding) {
      this.turnEnding = true;
      setImmediate(this.endTurn);
    }
    // q.length is read each turn: a write made while flushing (none expected) is flushed here too.
    for (let i = 0; i < q.length; i++) {
      const t = q[i]!;
      t.corked = false;
      t.flushedIn = this.turn;
      t.socket.uncork();
    }
    q.length = 0;
  };

  private readonly endTurn = (): void => {
    this.turnEnding = false;
    this.turn++;
    const late = this.late;
    for (let i = 0; i < late.length; i++) {
      const t = late[i]!;
      t.corked = false;
      t.socket.uncork();
    }
    late.length = 0;
  };
}

/**
 * The process's batcher, shared by the transports unless one is injected: one flush per tick for
 * every socket of the process is the point, and it holds no state across ticks.
 */
export const sharedBatcher = new WriteBatcher();
