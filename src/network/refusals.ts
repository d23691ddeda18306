/**
 * Counts of what the node's edge refused before any WAMP or relay protocol ran: connections
 * without a valid PROXY protocol header, WebSocket upgrades from origins not allowed, requests to
 * access-controlled services. `/metrics` exports them; nothing here is per message.
 */

/** A counter with one value per label set (label values joined by NUL as the key). */
export class LabeledCount<L extends string> {
  private readonly values = new Map<string, number>();
  constructor(readonly labelNames: readonly L[]) {}

  inc(labels: Readonly<Record<L, string>>): void {
    const key = this.labelNames.map((n) => labels[n]).join('\0');
    this.values.set(key, (this.values.get(key) ?? 0) + 1);
  }

  /** Every label set counted so far with its count. */
  entries(): { labels: Record<L, string>; value: number }[] {
    return [...this.values].map(([key, value]) => {
      const parts = key.split('\0');
      const labels = Object.fromEntries(this.labelNames.map((n, i) => [n, parts[i] ?? ''])) as Record<L, string>;
      return { labels, value };
    });
  }

  /** The count of one label set (tests). */
  get(labels: Readonly<Record<L, string>>): number {
    return this.values.get(this.labelNames.map((n) => labels[n]).join('\0')) ?? 0;
  }
}

export class EdgeRefusals {
  /** reason: missing | invalid | timeout | untrusted | too_large */
  readonly proxyProtocol = new LabeledCount(['transport', 'reason'] as const);
  /** A WebSocket upgrade refused for its Origin header. */
  readonly origin = new LabeledCount(['path', 'reason'] as const);
  /** reason: network | token */
  readonly access = new LabeledCount(['path', 'reason'] as const);
}
