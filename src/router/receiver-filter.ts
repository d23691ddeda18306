/**
 * Who of a subscription's sessions gets a publication: exclude_me, and the exclude/eligible lists
 * by session, authid and authrole (advanced/subscriber_blackwhite_listing.md). Built once per
 * publication; a publication without lists shares one filter that accepts everyone but nobody.
 */
import type { Receivers } from '../wamp/messages.js';

/** What a filter reads of a session. */
export interface Receiver {
  readonly id: number;
  readonly authid: string;
  readonly authrole: string;
}

export class ReceiverFilter {
  private static readonly OPEN = new ReceiverFilter(undefined, undefined, undefined, undefined, undefined, undefined, undefined);

  /** The filter of `receivers`, also refusing `me` (the publisher, under exclude_me) when given. */
  static of(receivers: Receivers | undefined, me: Receiver | undefined): ReceiverFilter {
    if (!receivers) return me === undefined ? ReceiverFilter.OPEN : new ReceiverFilter(me, undefined, undefined, undefined, undefined, undefined, undefined);
    const r = receivers;
    return new ReceiverFilter(
      me,
      r.exclude && new Set(r.exclude), r.eligible && new Set(r.eligible),
      r.excludeAuthid && new Set(r.excludeAuthid), r.excludeAuthrole && new Set(r.excludeAuthrole),
      r.eligibleAuthid && new Set(r.eligibleAuthid), r.eligibleAuthrole && new Set(r.eligibleAuthrole),
    );
  }

  private constructor(
    private readonly me: Receiver | undefined,
    private readonly exclude: Set<number> | undefined,
    private readonly eligible: Set<number> | undefined,
    private readonly excludeAuthid: Set<string> | undefined,
    private readonly excludeAuthrole: Set<string> | undefined,
    private readonly eligibleAuthid: Set<string> | undefined,
    private readonly eligibleAuthrole: Set<string> | undefined,
  ) {}

  accepts(s: Receiver): boolean {
    if (s === this.me) return false;
    if (this.exclude?.has(s.id)) return false;
    if (this.eligible && !this.eligible.has(s.id)) return false;
    if (this.excludeAuthid?.has(s.authid)) return false;
    if (this.excludeAuthrole?.has(s.authrole)) return false;
    if (this.eligibleAuthid && !this.eligibleAuthid.has(s.authid)) return false;
    if (this.eligibleAuthrole && !this.eligibleAuthrole.has(s.authrole)) return false;
    return true;
  }
}
