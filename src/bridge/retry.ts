/**
 * Retries with exponential back-off for the outbound bridge: the delay before attempt n+1 is
 * `backoff × 2^(n-1)`, at most `maxBackoff`, with ±20 % jitter so that many failed deliveries do
 * not all hit a recovering endpoint at once.
 */
export interface RetryPolicy {
  readonly attempts: number;
  readonly backoff: number;
  readonly maxBackoff: number;
}

export function retryDelay(p: RetryPolicy, failedAttempts: number, random = Math.random): number {
  const base = Math.min(p.maxBackoff, p.backoff * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
