/**
 * Signed HTTP bridge requests as Crossbar.io documents and checks them: the query carries `key`,
 * `timestamp` (UTC ISO-8601 with fractional seconds, "2011-10-14T16:59:51.123Z"), `seq`, `nonce`
 * (integers) and `signature`, which is
 *
 *     base64url( HMAC-SHA256_secret( key | timestamp | seq | nonce | body ) )
 *
 * with "=" padding, over the query values' bytes and the raw body.
 *
 * xbar adds what Crossbar.io leaves as a FIXME: a signature is accepted once. `ReplayGuard`
 * remembers each accepted signature until its timestamp is outside `timestamp_delta_limit` (the
 * request is refused as stale after that anyway), bounded in count.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function bridgeSignature(secret: string, key: string, timestamp: string, seq: string, nonce: string, body: Buffer): string {
  return createHmac('sha256', secret).update(key).update(timestamp).update(seq).update(nonce).update(body).digest('base64url')
    .padEnd(44, '=');
}

export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Milliseconds since the epoch of a timestamp Python's
 * `strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")` reads (one or two digits per field but the year, 1-6
 * fraction digits), or undefined.
 */
export function parseBridgeTimestamp(s: string): number | undefined {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{1,6})Z$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, se) + Number(`0.${m[7]!}`) * 1000;
  const t = new Date(ms);
  // Date.UTC rolls "02-30" over into March; Python refuses it.
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return undefined;
  return ms;
}

/** Python's `int()` of a query value: optional sign, digits with single underscores, spaces around. */
export function isPythonInt(s: string): boolean {
  return /^\s*[+-]?\d+(?:_\d+)*\s*$/.test(s);
}

export class ReplayGuard {
  /** Signature → when it may be forgotten (ms since the epoch); insertion order is arrival order. */
  private readonly seen = new Map<string, number>();

  /**
   * @param windowMs how long a timestamp stays acceptable either side of now (0: for ever, so
   *   only the last `capacity` signatures are remembered)
   */
  constructor(private readonly windowMs: number, private readonly capacity = 100_000) {}

  /** True the first time `signature` is offered; false for a replay. */
  admit(signature: string, timestampMs: number, now = Date.now()): boolean {
    this.sweep(now);
    if (this.seen.has(signature)) return false;
    if (this.seen.size >= this.capacity) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(signature, this.windowMs === 0 ? Number.POSITIVE_INFINITY : timestampMs + this.windowMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    // Arrival order is close to timestamp order; stop at the first one still needed.
    for (const [sig, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(sig);
    }
  }
}
