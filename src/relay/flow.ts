/**
 * Statistics of one direction of one relay connection, as the practable crossbar reports them:
 * when the last message passed, the mean message size and the message rate. Recording is a few
 * arithmetic operations on the hot path; the report is computed only when asked for.
 */

/** Weight of the newest interval in the moving mean: ~32 messages (about 1 s of 30 fps video). */
const ALPHA = 1 / 32;

export interface FlowReport {
  /** Seconds since the last message; null if none passed yet. */
  readonly last: number | null;
  /** Mean message size, bytes. */
  readonly size: number;
  /** Messages per second, over the recent past (falls towards 0 when the flow stops). */
  readonly fps: number;
  /** Messages and bytes so far. */
  readonly count: number;
  readonly bytes: number;
  /**
   * tx: messages this client sent that were not relayed (an /out client or a token without
   * "write"); rx: messages dropped for this client because its queue was full.
   */
  readonly dropped: number;
}

export class Flow {
  count = 0;
  bytes = 0;
  dropped = 0;
  /** performance.now() of the last message. */
  private lastAt = 0;
  /** Moving mean of the interval between messages, ms. */
  private interval = 0;

  record(size: number, now: number): void {
    if (this.count === 1) this.interval = now - this.lastAt;
    else if (this.count > 1) this.interval += (now - this.lastAt - this.interval) * ALPHA;
    this.count++;
    this.bytes += size;
    this.lastAt = now;
  }

  report(now: number): FlowReport {
    if (this.count === 0) return { last: null, size: 0, fps: 0, count: 0, bytes: 0, dropped: this.dropped };
    const since = now - this.lastAt;
    // A stopped flow: the time since the last message bounds the interval from below.
    const interval = Math.max(this.interval, since);
    const fps = this.count < 2 || interval <= 0 ? 0 : 1000 / interval;
    return {
      last: round(since / 1000, 3),
      size: Math.round(this.bytes / this.count),
      fps: round(fps, 1),
      count: this.count,
      bytes: this.bytes,
      dropped: this.dropped,
    };
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
