/**
 * Closing the gap of a NATS reconnect (design/cluster.md §5: "a reconnect is a gap"). Every node
 * keeps the events it published in the last few seconds; a node that reconnects holds back the
 * live events it receives, asks the others for what they published since shortly before its
 * disconnect on the subjects it listens to, delivers those it has not seen (in each origin's
 * order), then the held-back ones. Events survive the loss of the NATS server a receiver was on.
 */

/** A NATS subject filter with `*` (one token) and `>` (the rest) matches `subject`. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

export interface SentFrame {
  readonly seq: number;
  readonly subject: string;
  readonly at: number;
  readonly data: Uint8Array;
}

/** The events this node published recently, bounded by age and count. */
export class RecentFrames {
  private readonly frames: SentFrame[] = [];
  private head = 0;

  constructor(private readonly maxAgeMs: number, private readonly maxCount: number) {}

  add(frame: SentFrame): void {
    this.frames.push(frame);
    const tooMany = this.frames.length - this.head - this.maxCount;
    if (tooMany > 0) this.head += tooMany;
    const oldest = frame.at - this.maxAgeMs;
    while (this.head < this.frames.length && this.frames[this.head]!.at < oldest) this.head++;
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Frames after `afterSeq`, sent at or after `since`, on a subject one of `filters` matches. */
  select(since: number, afterSeq: number, filters: readonly string[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = this.head; i < this.frames.length; i++) {
      const f = this.frames[i]!;
      if (f.at >= since && f.seq > afterSeq && filters.some((x) => subjectMatches(x, f.subject))) out.push(f.data);
    }
    return out;
  }
}
