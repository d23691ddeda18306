/**
 * A registration: one procedure URI with a match policy, its callees in the cluster-wide
 * registration order, and the shared-registration invoke policy that picks one for each call.
 * A callee is local (`session` set) or on another node of the cluster.
 */
import type { MatchPolicy } from '../wamp/uri.js';
import type { InvokePolicy } from '../wamp/messages.js';
import type { Session } from './session.js';

export interface Callee {
  readonly node: string;
  readonly sessionId: number;
  /** The local session; undefined for a callee on another node. */
  readonly session: Session | undefined;
  readonly registration: Registration;
  /** Crossbar.io's `concurrency` REGISTER option; undefined = unlimited. */
  readonly concurrency: number | undefined;
  readonly discloseCaller: boolean;
  /** Invocations this node sent to the callee and that are not answered yet. */
  inflight: number;
  /** False until the callee has its REGISTERED, so no INVOCATION overtakes it. */
  ready: boolean;
}

export class Registration {
  callees: Callee[] = [];
  readonly created = new Date();
  private next = 0;

  constructor(
    readonly id: number,
    readonly uri: string,
    readonly match: MatchPolicy,
    public invoke: InvokePolicy,
  ) {}

  calleeOf(session: Session): Callee | undefined {
    return this.callees.find((c) => c.session === session);
  }

  /** Replaces the callee list (cluster order), keeping the round-robin position stable. */
  setCallees(callees: Callee[]): void {
    const current = this.callees[this.next];
    this.callees = callees;
    const i = current ? callees.indexOf(current) : -1;
    this.next = i >= 0 ? i : Math.min(this.next, Math.max(0, callees.length - 1));
  }

  remove(session: Session): Callee | undefined {
    const i = this.callees.findIndex((c) => c.session === session);
    if (i < 0) return undefined;
    const [c] = this.callees.splice(i, 1);
    if (this.next > i) this.next--;
    if (this.next >= this.callees.length) this.next = 0;
    return c;
  }

  /**
   * Picks a callee with spare concurrency by the invoke policy, skipping `tried` (callees a
   * rerouted call already failed on); undefined when none is available.
   */
  pick(tried?: ReadonlySet<Callee>): Callee | undefined {
    const ok = (c: Callee) => c.ready && hasCapacity(c) && !tried?.has(c);
    const cs = this.callees;
    const n = cs.length;
    if (n === 0) return undefined;
    switch (this.invoke) {
      case 'single':
      case 'first':
        return cs.find(ok);
      case 'last':
        return cs.findLast(ok);
      case 'roundrobin':
        for (let k = 0; k < n; k++) {
          const i = (this.next + k) % n;
          if (ok(cs[i]!)) {
            this.next = (i + 1) % n;
            return cs[i];
          }
        }
        return undefined;
      case 'random': {
        const free = cs.filter(ok);
        return free[Math.floor(Math.random() * free.length)];
      }
    }
  }
}

function hasCapacity(c: Callee): boolean {
  return c.concurrency === undefined || c.inflight < c.concurrency;
}
