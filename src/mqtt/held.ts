/**
 * Bounds on what an MQTT transport holds for its clients beyond their connections, so that no
 * client — or many client ids from one hostile peer — can grow the router's memory without end:
 * the bytes of QoS 1 messages all sessions hold together (queued or in flight), and the number of
 * offline persistent sessions (each keeps its subscriptions, and a queue).
 */

/** The transport's byte budget for held QoS 1 messages, shared by its sessions. */
export class HeldBytes {
  private held = 0;

  constructor(private readonly max: number) {}

  /** Takes `n` bytes from the budget; false (nothing taken) when they do not fit. */
  take(n: number): boolean {
    if (this.held + n > this.max) return false;
    this.held += n;
    return true;
  }

  give(n: number): void {
    this.held -= n;
  }
}

/** What an offline session must offer to be ended early. */
export interface Expirable {
  end(reason: string): void;
}

/**
 * The offline persistent sessions, longest offline first. Past `max` the longest offline one
 * ends (as its expiry would have ended it): a flood of new client ids pushes out the oldest
 * sessions, and every session still ends within the configured expiry at the latest.
 */
export class OfflineSessions<S extends Expirable> {
  private readonly sessions = new Set<S>();

  constructor(private readonly max: number) {}

  /** `s` went offline. */
  add(s: S): void {
    this.sessions.delete(s);
    this.sessions.add(s);
    if (this.sessions.size <= this.max) return;
    const oldest = this.sessions.values().next().value as S;
    this.sessions.delete(oldest);
    oldest.end('session expired early: the transport keeps at most max_offline_sessions offline sessions');
  }

  /** `s` is online again, or ended. */
  delete(s: S): void {
    this.sessions.delete(s);
  }
}
