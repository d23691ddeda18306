/**
 * The bound on one receiver's outgoing queue. The queue is the socket's own write buffer (bytes
 * Node has not yet handed to the kernel); this guard decides, before each message, whether the
 * whole message may join it. Over either limit the message is refused for this receiver only, so a
 * receiver gets whole messages or none, and the sender and other receivers never wait.
 *
 * Counting messages without a callback per write: the guard remembers where each queued message
 * ends in the stream of bytes written so far. With `queued` bytes still unflushed, every message
 * ending at or before `written - queued` has left. Other writers on the socket (pings, close
 * frames) only make the count larger, never smaller, so the bound holds.
 */
export class SendQueue {
  private readonly ends: Float64Array;
  private head = 0;
  private length = 0;
  private written = 0;

  constructor(private readonly maxMessages: number, private readonly maxBytes: number) {
    this.ends = new Float64Array(maxMessages);
  }

  /** Messages still waiting, given the socket's unflushed byte count. */
  pending(queued: number): number {
    if (queued === 0) {
      this.length = 0;
      return 0;
    }
    const flushed = this.written - queued;
    const cap = this.ends.length;
    while (this.length > 0 && this.ends[this.head]! <= flushed) {
      this.head = this.head + 1 === cap ? 0 : this.head + 1;
      this.length--;
    }
    return this.length;
  }

  /**
   * Whether a message of `wireBytes` may be queued behind `queued` unflushed bytes. An empty
   * queue takes any message, so a message larger than the byte limit is still delivered to a
   * receiver that keeps up.
   */
  admit(queued: number, wireBytes: number): boolean {
    if (this.pending(queued) === 0) return true;
    return this.length < this.maxMessages && queued + wireBytes <= this.maxBytes;
  }

  /** Records a message of `wireBytes` just written. */
  wrote(wireBytes: number): void {
    this.written += wireBytes;
    const cap = this.ends.length;
    let i = this.head + this.length;
    if (i >= cap) i -= cap;
    this.ends[i] = this.written;
    this.length++;
  }
}
