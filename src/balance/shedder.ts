/**
 * Gradual shedding (`cluster.shed`): when another node takes sessions and this one holds more
 * than its fair share (placement.ts `fairShare`: the mean over the nodes, plus `margin` percent),
 * it closes sessions at most `rate` per second — never all at once — so that clients with
 * auto-reconnect come back through the load balancer and land on the lighter node. A WebSocket is
 * closed with 1001 (going away) and a RawSocket's TCP connection is closed, without GOODBYE or
 * ABORT: stock clients (Autobahn|JS) stop reconnecting after those. A shed session counts as on
 * its way until the others' counts (from their heartbeats) have grown by it, at most `settle` ms,
 * so the shares are not computed without it while it reconnects. Newest sessions go first; in-process sessions
 * and other transports are never shed.
 */
import type { NodeEntry } from '../backplane/backplane.js';
import type { ShedConfig } from '../config/types.js';
import { fairShare, lighterThan } from './placement.js';

/** A session that may be shed. */
export interface Sheddable {
  shed(): void;
}

export interface ShedderParts {
  /** The directory, this node first. */
  directory(): readonly NodeEntry[];
  /** Sessions that may be shed, the first to go first. */
  candidates(): Iterable<Sheddable>;
}

const TICK_MS = 200;

export class Shedder {
  /** Sessions shed so far (/metrics). */
  shed = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When each recent shed happened (within `settle`). */
  private readonly recent: number[] = [];
  /** The other nodes' sessions together when the oldest recent shed happened. */
  private othersBefore = 0;
  private allowance = 0;
  private last = 0;

  constructor(private readonly cfg: ShedConfig, private readonly parts: ShedderParts) {}

  start(): void {
    this.last = Date.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: sheds what the rate allows of this node's excess. Returns how many went. */
  tick(now = Date.now()): number {
    const elapsed = now - this.last;
    this.last = now;
    while (this.recent.length > 0 && now - this.recent[0]! > this.cfg.settle) this.recent.shift();
    const nodes = this.parts.directory();
    const wanted = this.excess(nodes);
    // The allowance grows only while there is something to shed: no burst saved up while idle.
    if (wanted <= 0) {
      this.allowance = 0;
      return 0;
    }
    this.allowance = Math.min(this.allowance + (this.cfg.rate * elapsed) / 1000, Math.max(1, this.cfg.rate * (TICK_MS / 1000)));
    const n = Math.min(Math.floor(this.allowance), wanted);
    if (this.recent.length === 0) this.othersBefore = othersOf(nodes);
    let done = 0;
    for (const s of this.parts.candidates()) {
      if (done >= n) break;
      s.shed();
      done++;
      this.recent.push(now);
    }
    this.allowance -= done;
    this.shed += done;
    return done;
  }

  /** Sessions this node holds beyond its fair share, when a lighter node has room for them. */
  private excess(nodes: readonly NodeEntry[]): number {
    const self = nodes[0];
    if (!self || self.state === 'stopping') return 0;
    // Shed sessions not seen elsewhere yet: the recent sheds less what the others gained since.
    const inFlight = Math.max(0, this.recent.length - Math.max(0, othersOf(nodes) - this.othersBefore));
    const share = fairShare(nodes, inFlight, this.cfg.margin);
    if (!lighterThan(nodes, self).some((n) => n.load.sessions + 1 <= share)) return 0;
    return self.load.sessions - share;
  }
}

function othersOf(nodes: readonly NodeEntry[]): number {
  let n = 0;
  for (let i = 1; i < nodes.length; i++) n += nodes[i]!.load.sessions;
  return n;
}
