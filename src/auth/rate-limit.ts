/**
 * Per-client-address defences: a token bucket for new connections and a failure counter that
 * blocks an address after too many failed authentications. Both are keyed by `clientKey`, which
 * treats an IPv6 /64 as one client (one host usually owns a whole /64) and an IPv4-mapped IPv6
 * address as its IPv4 address. Both maps are swept as they grow, so an attacker with many
 * addresses cannot grow them without bound. Time is injected for tests.
 */
import net from 'node:net';

export type Clock = () => number;

/** Upper bound of tracked addresses; past it, entries that carry no state are swept. */
const MAX_TRACKED = 100_000;

/** The key of the client behind `address`. */
export function clientKey(address: string): string {
  if (address.startsWith('::ffff:') && net.isIPv4(address.slice(7))) return address.slice(7);
  if (!net.isIPv6(address)) return address;
  const groups = expandIPv6(address);
  return groups === undefined ? address : `${groups.slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] | undefined {
  const [head = '', tail] = address.split('%', 1)[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  if (right.some((g) => g.includes('.')) || left.some((g) => g.includes('.'))) return undefined;
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  return [...left, ...Array<string>(Math.max(missing, 0)).fill('0'), ...right].map((g) => g.toLowerCase().padStart(4, '0'));
}

interface Bucket {
  tokens: number;
  at: number;
  refused: number;
}

/** New connections per client: `burst` at once, refilled at `rate` per second. */
export class ConnectionLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: { readonly rate: number; readonly burst: number },
    private readonly now: Clock = Date.now,
  ) {}

  /**
   * Takes a token for a new connection from `address`. Returns 'ok', 'refused', or
   * 'first-refusal' for the first refusal after a period of admission (worth one log line).
   */
  admit(address: string): 'ok' | 'refused' | 'first-refusal' {
    const key = clientKey(address);
    const now = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= MAX_TRACKED) this.sweep(now);
      b = { tokens: this.limit.burst, at: now, refused: 0 };
      this.buckets.set(key, b);
    }
    this.refill(b, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.refused = 0;
      return 'ok';
    }
    b.refused++;
    return b.refused === 1 ? 'first-refusal' : 'refused';
  }

  private refill(b: Bucket, now: number): void {
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.rate);
    b.at = now;
  }

  /** Drops buckets that have refilled completely: they hold no state a fresh bucket lacks. */
  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      this.refill(b, now);
      if (b.tokens >= this.limit.burst) this.buckets.delete(key);
    }
    if (this.buckets.size >= MAX_TRACKED) this.buckets.clear();
  }

  get tracked(): number {
    return this.buckets.size;
  }
}

interface Failures {
  /** Times of recent failures, oldest first (at most `max`). */
  times: number[];
  blockedUntil: number;
  refused: number;
}

/** Failed authentications per client: `max` within `window` ms blocks the client for `block` ms. */
export class FailureLimiter {
  private readonly clients = new Map<string, Failures>();

  constructor(
    private readonly limit: { readonly max: number; readonly window: number; readonly block: number },
    private readonly now: Clock = Date.now,
  ) {}

  /** ms until `address` may authenticate again; 0 = now. Counts the refusal. */
  blocked(address: string): { ms: number; refused: number } {
    const f = this.clients.get(clientKey(address));
    const ms = f === undefined ? 0 : Math.max(0, f.blockedUntil - this.now());
    if (ms > 0) f!.refused++;
    return { ms, refused: ms > 0 ? f!.refused : 0 };
  }

  /** Records a failure; returns true when it blocks the client. */
  fail(address: string): boolean {
    const key = clientKey(address);
    const now = this.now();
    let f = this.clients.get(key);
    if (f === undefined) {
      if (this.clients.size >= MAX_TRACKED) this.sweep(now);
      f = { times: [], blockedUntil: 0, refused: 0 };
      this.clients.set(key, f);
    }
    while (f.times.length > 0 && now - f.times[0]! >= this.limit.window) f.times.shift();
    f.times.push(now);
    if (f.times.length >= this.limit.max && f.blockedUntil <= now) {
      f.blockedUntil = now + this.limit.block;
      f.times = [];
      f.refused = 0;
      return true;
    }
    return false;
  }

  private sweep(now: number): void {
    for (const [key, f] of this.clients) {
      const last = f.times[f.times.length - 1] ?? 0;
      if (f.blockedUntil <= now && now - last >= this.limit.window) this.clients.delete(key);
    }
    if (this.clients.size >= MAX_TRACKED) this.clients.clear();
  }
}
