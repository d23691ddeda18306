/**
 * Single-use access codes (practable's `internal/ttlcode`): an authorised POST exchanges a token
 * for a short random code, and the client opens its WebSocket with `?code=…`, so no long-lived
 * token appears in a URL, a proxy log or browser history. A code works once and only within its
 * TTL. Every code lives equally long, so the oldest code expires first and expired codes are swept
 * from the front of the (insertion-ordered) map at each issue, at O(1) amortized cost.
 */
import { randomBytes } from 'node:crypto';
import { RelayRefusal } from './errors.js';

/** Codes outstanding at once; more is a flood of exchanges, refused with 503. */
const MAX_CODES = 100_000;

export class AccessCodes<T> {
  private readonly codes = new Map<string, { value: T; expires: number }>();

  constructor(private readonly ttl: number, private readonly now: () => number = Date.now) {}

  /** A new code for `value`; throws RelayRefusal(503) when too many codes are outstanding. */
  issue(value: T): string {
    const now = this.now();
    this.sweep(now);
    if (this.codes.size >= MAX_CODES) throw new RelayRefusal(503, 'too many access codes outstanding; try again shortly');
    // 144 random bits, URL-safe.
    const code = randomBytes(18).toString('base64url');
    this.codes.set(code, { value, expires: now + this.ttl });
    return code;
  }

  /** The value of a live code, removing it (single use); undefined if unknown, used or expired. */
  take(code: string): T | undefined {
    const entry = this.codes.get(code);
    if (!entry) return undefined;
    this.codes.delete(code);
    return entry.expires > this.now() ? entry.value : undefined;
  }

  /** Removes every code whose value matches (e.g. of a deny-listed booking). */
  revoke(matches: (value: T) => boolean): void {
    for (const [code, entry] of this.codes) if (matches(entry.value)) this.codes.delete(code);
  }

  get size(): number {
    return this.codes.size;
  }

  private sweep(now: number): void {
    for (const [code, entry] of this.codes) {
      if (entry.expires > now) return;
      this.codes.delete(code);
    }
  }
}
