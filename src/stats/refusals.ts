/**
 * Requests refused by a limit, counted per limit (named by its config key), node-wide: the
 * `xbar_limit_refusals_total` counter of /metrics. Counting is a Map update, done only when
 * something is refused, never on the way of an admitted message.
 */
import type { OutBudget } from '../transports/out-budget.js';

export class Refusals {
  private readonly counts = new Map<string, number>();
  /** The node's out-buffers (their queued bytes and what their limits dropped or closed), for /metrics. */
  outBuffers: OutBudget | undefined;

  /** One refusal by `limit` (e.g. "max_subscriptions_per_session"). */
  readonly count = (limit: string): void => {
    this.counts.set(limit, (this.counts.get(limit) ?? 0) + 1);
  };

  /** Every limit that refused something, with its count. */
  entries(): [string, number][] {
    return [...this.counts];
  }

  of(limit: string): number {
    return this.counts.get(limit) ?? 0;
  }
}

/** Where a refusal is reported; a no-op when nobody counts. */
export type RefusalSink = (limit: string) => void;

export const NO_COUNT: RefusalSink = () => undefined;
