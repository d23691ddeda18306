/**
 * Warnings that can repeat fast (malformed frames on the cluster's subjects, a handler that threw,
 * a node cut off from NATS): each kind is logged at once, then at most once per interval with the
 * count of those left out meanwhile, so a flood of bad frames cannot flood the log.
 */
import type { Logger } from 'pino';

export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; left: number }>();

  constructor(private readonly log: Logger, private readonly intervalMs = 10_000) {}

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    const seen = this.last.get(kind);
    if (seen && now - seen.at < this.intervalMs) {
      seen.left++;
      return;
    }
    if (this.last.size >= 1000) this.last.clear();
    this.last.set(kind, { at: now, left: 0 });
    this.log.warn(seen && seen.left > 0 ? { ...fields, alsoLeftOut: seen.left } : fields, message);
  }
}
