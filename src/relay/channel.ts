/**
 * The clients of one channel (a topic, or the shared "out/x" of in/x and out/x) and its fan-out.
 *
 * Guarantees: a message reaches every other member that may read, in the order the relay received
 * it from its sender, whole or not at all (a full receiver queue drops it for that receiver only);
 * the sender never receives its own message (no echo). Nothing is retained for clients that join
 * later.
 */
import { frame, type Framed } from './frame.js';
import type { RelayConnection } from './relay-connection.js';

export class Channel {
  readonly members = new Set<RelayConnection>();
  /** Upgrades admitted but not yet completed (token checks in flight); they count towards the limit. */
  reserved = 0;

  constructor(readonly name: string) {}

  get size(): number {
    return this.members.size + this.reserved;
  }

  /**
   * Frames `data` once and queues the same bytes for every member but `from` (null: a message from
   * outside the relay, e.g. the WAMP bridge). Returns the number of receivers it was offered to.
   */
  publish(from: RelayConnection | null, data: Buffer, binary: boolean, now: number): number {
    let offered = 0;
    let framed: Framed | undefined;
    for (const member of this.members) {
      if (member === from || !member.info.canRead) continue;
      member.deliver((framed ??= frame(data, binary)), now);
      offered++;
    }
    return offered;
  }
}
