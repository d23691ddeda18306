/**
 * Message and byte totals of connections. Live connections keep their own counters (plain fields
 * bumped by the transports); when one ends its counts are added here, so a total is
 * `retired + Σ live` and never goes backwards.
 */
export interface TrafficSource {
  readonly messagesIn: number;
  readonly bytesIn: number;
  readonly messagesOut: number;
  readonly bytesOut: number;
  readonly dropped: number;
}

export class Traffic implements TrafficSource {
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  dropped = 0;

  add(c: TrafficSource): this {
    this.messagesIn += c.messagesIn;
    this.bytesIn += c.bytesIn;
    this.messagesOut += c.messagesOut;
    this.bytesOut += c.bytesOut;
    this.dropped += c.dropped;
    return this;
  }

  static sum(retired: TrafficSource, live: Iterable<TrafficSource>): Traffic {
    const t = new Traffic().add(retired);
    for (const c of live) t.add(c);
    return t;
  }
}
