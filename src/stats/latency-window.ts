/**
 * Call latency percentiles over a recent window: HDR histograms (Node's `perf_hooks`
 * histogram, HdrHistogram_c inside, 3 significant figures) in a ring of slots. A value goes into
 * the current slot; when a slot's time is up the oldest one is cleared and becomes current, so a
 * report covers the last `windowMs` (in `slots` steps: between windowMs × (slots-1)/slots and
 * windowMs). Recording is one native call; nothing is allocated per value.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface WindowReport {
  /** Values recorded in the window. */
  readonly count: number;
  /** ms; null while the window is empty. */
  readonly mean: number | null;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** Values are kept in microseconds; a histogram records integers from 1. */
const US_PER_MS = 1000;
/** Where reports merge slots (reports are synchronous, so one serves every window). */
const scratch = createHistogram();

export class LatencyWindow {
  private readonly slots: RecordableHistogram[];
  private readonly slotMs: number;
  /** Index of the current slot, and the slot-length epoch it covers. */
  private current = 0;
  private epoch: number | undefined;

  constructor(readonly windowMs = 60_000, slots = 6) {
    if (!(slots >= 1) || !(windowMs > 0)) throw new RangeError('a latency window needs a positive length and at least one slot');
    this.slots = Array.from({ length: slots }, () => createHistogram());
    this.slotMs = windowMs / slots;
  }

  /** Records `ms` at time `now` (ms on any monotonic clock, e.g. `performance.now()`). */
  record(ms: number, now: number): void {
    this.rotate(now);
    this.slots[this.current]!.record(Math.max(1, Math.round(ms * US_PER_MS)));
  }

  /** Percentiles of what was recorded in the window ending at `now`. */
  report(now: number): WindowReport {
    return LatencyWindow.reportOf([this], now);
  }

  /** Percentiles of everything several windows (e.g. every realm's) recorded, merged. */
  static reportOf(windows: Iterable<LatencyWindow>, now: number): WindowReport {
    const h = scratch;
    h.reset();
    for (const w of windows) {
      w.rotate(now);
      for (const s of w.slots) if (s.count > 0) h.add(s);
    }
    if (h.count === 0) return { count: 0, mean: null, p50: null, p90: null, p99: null, max: null };
    const ms = (us: number) => us / US_PER_MS;
    return { count: h.count, mean: ms(h.mean), p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), max: ms(h.max) };
  }

  private rotate(now: number): void {
    const epoch = Math.floor(now / this.slotMs);
    if (this.epoch === undefined) this.epoch = epoch;
    if (epoch <= this.epoch) return;
    const steps = Math.min(this.slots.length, epoch - this.epoch);
    for (let i = 0; i < steps; i++) {
      this.current = (this.current + 1) % this.slots.length;
      this.slots[this.current]!.reset();
    }
    this.epoch = epoch;
  }
}
