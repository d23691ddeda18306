/**
 * The read timeout of a frame that has started arriving (`read_timeout`): a peer may not hold a
 * partial frame (and the router's buffer for it) forever. The clock starts with the frame's first
 * bytes and stops when it is whole; one lazily armed timer per connection, re-armed at most once
 * per timeout, so the per-chunk cost is a comparison.
 */
export class FrameDeadline {
  /** When the partial frame's first bytes arrived; 0 when no frame is partial. */
  private since = 0;
  private timer: NodeJS.Timeout | undefined;

  /** `timeout` ms (0: none); `expired` runs once a frame has taken longer. */
  constructor(readonly timeout: number, private readonly expired: () => void) {}

  /** A frame is partial (its first bytes, or more of them, arrived). */
  started(): void {
    if (this.since !== 0 || this.timeout <= 0) return;
    this.since = Date.now();
    if (!this.timer) this.arm(this.timeout);
  }

  /** The partial frame is whole. */
  completed(): void {
    this.since = 0;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.since = 0;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.check, ms);
    this.timer.unref();
  }

  private readonly check = (): void => {
    this.timer = undefined;
    if (this.since === 0) return;
    const left = this.since + this.timeout - Date.now();
    if (left > 0) return this.arm(left);
    this.since = 0;
    this.expired();
  };
}
