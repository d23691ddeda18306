/**
 * The last minutes of a node's figures, one point per sample, for the console's charts: a ring of
 * at most `capacity` points (memory bounded whatever the uptime), read oldest first.
 */
export interface HistoryPoint {
  /** ms since the epoch. */
  readonly time: number;
  readonly sessions: number;
  readonly connections: number;
  /** Per second over the interval that ended at `time`. */
  readonly publications: number;
  readonly events: number;
  readonly meta_events: number;
  readonly calls: number;
  readonly messages_in: number;
  readonly messages_out: number;
  readonly bytes_in: number;
  readonly bytes_out: number;
  readonly dropped: number;
  /** Call latency over the last minute, all realms (ms); null without calls. */
  readonly call_p50_ms: number | null;
  readonly call_p99_ms: number | null;
  readonly cpu_percent: number | null;
  readonly rss_bytes: number;
  readonly event_loop_lag_p99_ms: number | null;
}

export class StatsHistory {
  private readonly points: HistoryPoint[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  add(p: HistoryPoint): void {
    if (this.points.length < this.capacity) this.points.push(p);
    else this.points[this.next] = p;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first; only those after `since` (ms since the epoch) when given. */
  read(since = Number.NEGATIVE_INFINITY): HistoryPoint[] {
    const n = this.points.length;
    const start = n < this.capacity ? 0 : this.next;
    const out: HistoryPoint[] = [];
    for (let i = 0; i < n; i++) {
      const p = this.points[(start + i) % n]!;
      if (p.time > since) out.push(p);
    }
    return out;
  }
}
