/**
 * Deny-listed booking ids (practable's `internal/deny`): a booking system cancels a booking, and
 * every relay connection whose token carries that `booking_id` is closed and no new one is let in
 * until the entry lapses at the booking's own expiry (after which its tokens are expired anyway).
 */
export class DenyList {
  /** booking id → ms since the epoch when the entry lapses. */
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  deny(bookingId: string, until: number): void {
    this.prune();
    this.until.set(bookingId, until);
  }

  /** Lifts a denial; true if there was one. */
  allow(bookingId: string): boolean {
    return this.until.delete(bookingId);
  }

  isDenied(bookingId: string | undefined): boolean {
    if (bookingId === undefined) return false;
    const until = this.until.get(bookingId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.until.delete(bookingId);
    return false;
  }

  /** The live entries, for the admin API. */
  list(): { booking_id: string; exp: number }[] {
    this.prune();
    return [...this.until].map(([id, until]) => ({ booking_id: id, exp: Math.floor(until / 1000) }));
  }

  private prune(): void {
    const now = this.now();
    for (const [id, until] of this.until) if (until <= now) this.until.delete(id);
  }
}
