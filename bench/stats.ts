/** Statistics for the bench: percentiles, medians over runs, ratios of paired runs. */

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function latencySummary(samples: number[]): { p50_us: number; p99_us: number; max_us: number; n: number } {
  const s = Float64Array.from(samples).sort();
  return { p50_us: round(percentile(s, 50)), p99_us: round(percentile(s, 99)), max_us: round(s[s.length - 1] ?? NaN), n: s.length };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Rounds to 3 significant digits, keeping integers ≥ 1000 whole. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  if (Math.abs(x) >= 1000) return Math.round(x);
  return Number(x.toPrecision(3));
}

/** Per-key median over runs of numeric records. */
export function medians<K extends string>(runs: readonly Record<K, number>[]): Record<K, number> {
  const out = {} as Record<K, number>;
  if (runs.length === 0) return out;
  for (const k of Object.keys(runs[0]!) as K[]) out[k] = round(median(runs.map((r) => r[k])));
  return out;
}

/** A ratio to 3 decimals. */
export function ratio(x: number): number {
  return Number(x.toFixed(3));
}

/**
 * The ratio a / b of `key` as the median of per-pair ratios: run i of a and run i of b ran
 * back to back, so they shared whatever else the machine was doing at the time.
 */
export function pairedRatio<K extends string>(a: readonly Record<K, number>[], b: readonly Record<K, number>[], key: K): number {
  return ratio(median(a.map((x, i) => x[key] / b[i]![key])));
}
