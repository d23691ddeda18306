/**
 * A histogram with fixed bucket bounds: `observe` is a short scan and one increment, no
 * allocation, so it can sit on the call path. Counts are per bucket (not cumulative); exports
 * make them cumulative.
 */
export class Histogram {
  /** counts[i] counts values ≤ bounds[i] (and > bounds[i-1]); the last slot is +Inf. */
  readonly counts: number[];
  count = 0;
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += value;
  }

  /** Cumulative counts per upper bound, the last being +Inf (Prometheus `le`). */
  cumulative(): { le: number; count: number }[] {
    let run = 0;
    return this.counts.map((c, i) => {
      run += c;
      return { le: i < this.bounds.length ? this.bounds[i]! : Number.POSITIVE_INFINITY, count: run };
    });
  }
}

/** Call latency buckets in milliseconds: 0.1 ms (in-process) up to 10 s (slow callees). */
export const LATENCY_BUCKETS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
