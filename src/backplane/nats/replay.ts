/**
 * Closing the gap of a NATS reconnect (design/cluster.md §5: "a reconnect is a gap"). Every node
 * keeps the events it published in the last few seconds; a node that reconnects holds back the
 * live events it receives, asks the others for what they published since shortly before its
 * disconnect on the subjects it listens to, delivers those it has not seen (in each origin's
 * order), then the held-back ones. Events survive the loss of the NATS server a receiver was on.
 * The same frames are what a publisher resends after its own reconnect (events.ts): nats.js
 * discards what was written while it reconnects.
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

/** What a kept frame costs beyond its bytes (the record, the subject string). */
const FRAME_OVERHEAD = 64;

/**
 * The events this node published lately, bounded by age (`maxAgeMs`, the replay window) and by
 * bytes (`maxBytes`). A frame pushed out by the byte bound while younger than the window is an
 * overflow: `dropped` is told (the caller counts and logs it). Frames leave oldest first, so the
 * kept ones are always the newest `seq`s.
 */
export class RecentFrames {
  private readonly frames: SentFrame[] = [];
  private head = 0;
  private held = 0;

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxBytes: number,
    private readonly dropped: (frame: SentFrame, early: boolean) => void = () => undefined,
  ) {}

  /** Bytes kept now. */
  get bytes(): number {
    return this.held;
  }

  add(frame: SentFrame): void {
    this.frames.push(frame);
    this.held += size(frame);
    while (this.held > this.maxBytes && this.head < this.frames.length - 1) this.drop(frame.at - this.frames[this.head]!.at < this.maxAgeMs);
    this.expire(frame.at);
  }

  /** Lets go of frames older than the window. */
  expire(now: number): void {
    const oldest = now - this.maxAgeMs;
    while (this.head < this.frames.length && this.frames[this.head]!.at < oldest) this.drop(false);
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames.splice(0, this.head);
      this.head = 0;
    }
  }

  private drop(early: boolean): void {
    const f = this.frames[this.head]!;
    this.frames[this.head++] = undefined as unknown as SentFrame;
    this.held -= size(f);
    this.dropped(f, early);
  }

  /** Frames after `afterSeq` or sent at or after `since`, in order (what a reconnect resends). */
  *after(afterSeq: number, since = Infinity): Generator<SentFrame> {
    for (let i = this.head; i < this.frames.length; i++) {
      const f = this.frames[i]!;
      if (f.seq > afterSeq || f.at >= since) yield f;
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

function size(f: SentFrame): number {
  return f.data.byteLength + f.subject.length + FRAME_OVERHEAD;
}
