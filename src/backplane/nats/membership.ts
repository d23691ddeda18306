/**
 * Cluster membership by heartbeats (design/cluster.md §5): every node publishes a heartbeat on
 * `P.hb` each interval; a node is dead after `deadAfterMs` of silence or at once when it says
 * `bye`. The live table includes this node.
 *
 * Silence counts only while this node can hear: while it is cut off from NATS (`pause`) nobody
 * is declared dead, and when it hears again (`resume`) every member gets a full dead-after window
 * from then — a silence that overlaps this node's own outage says nothing about the others.
 */
export class Membership {
  private readonly lastSeen = new Map<string, number>();
  private readonly gone = new Set<string>();
  private paused = false;
  /** When a node last went down (0: never). */
  private lastDownAt = 0;
  /** Why the last node went down (for the log). */
  why = '';

  constructor(
    private readonly self: string,
    private readonly deadAfterMs: number,
    private readonly onDown: (node: string) => void,
    private readonly onBack: (node: string) => void = () => undefined,
  ) {
    this.lastSeen.set(self, Date.now());
  }

  /**
   * A heartbeat (or any traffic) from `node`. A node declared dead that is heard again (it was
   * paused, or cut off from NATS longer than dead-after) is a member again (`onBack`); it writes
   * back its callees the reaper removed (registry.ts).
   */
  seen(node: string, now = Date.now()): boolean {
    const returned = this.gone.delete(node);
    this.lastSeen.set(node, now);
    if (returned) this.onBack(node);
    return returned;
  }

  /** A node named by the registry but not heard yet gets a full dead-after window from now. */
  know(node: string): void {
    if (!this.lastSeen.has(node) && !this.gone.has(node)) this.lastSeen.set(node, Date.now());
  }

  isGone(node: string): boolean {
    return this.gone.has(node);
  }

  /** This node cannot hear the others (cut off from NATS, or its server does not answer). */
  pause(): void {
    this.paused = true;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** This node hears again: silence is counted from `now`. */
  resume(now = Date.now()): void {
    this.paused = false;
    for (const [node, t] of this.lastSeen) if (t < now) this.lastSeen.set(node, now);
  }

  /** Whether some member has been silent longer than dead-after. */
  anySilent(now = Date.now()): boolean {
    for (const [node, t] of this.lastSeen) if (node !== this.self && now - t > this.deadAfterMs) return true;
    return false;
  }

  /**
   * Some member has been silent longer than dead-after, and this node with the members it heard
   * within half of dead-after are at most half of all: it may be the one cut off. (Within half a
   * window, not a whole one: members that fell silent together are not heard at the same instant.)
   */
  hearsAtMostHalf(now = Date.now()): boolean {
    let heard = 0;
    let silent = false;
    for (const [node, t] of this.lastSeen) {
      if (node === this.self || now - t <= this.deadAfterMs / 2) heard++;
      else if (now - t > this.deadAfterMs) silent = true;
    }
    return silent && heard * 2 <= this.lastSeen.size;
  }

  /** Only this node is live, and none went down within `withinMs` (one that did may come back). */
  alone(now: number, withinMs: number): boolean {
    return this.lastSeen.size <= 1 && now - this.lastDownAt > withinMs;
  }

  down(node: string, why = 'said bye'): void {
    if (node === this.self || this.gone.has(node)) return;
    this.why = why;
    this.lastDownAt = Date.now();
    this.lastSeen.delete(node);
    this.gone.add(node);
    this.onDown(node);
  }

  /** Declares silent nodes dead (not while paused). */
  sweep(now = Date.now()): void {
    this.lastSeen.set(this.self, now);
    if (this.paused) return;
    for (const [node, t] of this.lastSeen) {
      if (node !== this.self && now - t > this.deadAfterMs) this.down(node, `silent for ${now - t} ms`);
    }
  }

  live(): ReadonlyMap<string, number> {
    return this.lastSeen;
  }

  /** The node that tells the cluster that `node` came back: the lowest live id but `node`'s. */
  isAnnouncerFor(node: string): boolean {
    for (const n of this.lastSeen.keys()) if (n !== node && n < this.self) return false;
    return node !== this.self;
  }

  /** The node that cleans up after a dead one: the lowest live id, so exactly one does it. */
  isReaper(): boolean {
    let lowest = this.self;
    for (const n of this.lastSeen.keys()) if (n < lowest) lowest = n;
    return lowest === this.self;
  }
}
