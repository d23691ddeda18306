/**
 * A registration: one procedure URI with a match policy, its callees in registration order, and
 * the shared-registration invoke policy that picks one of them for each call.
 */
import type { MatchPolicy } from '../config/types.js';
import type { InvokePolicy } from '../wamp/messages.js';
import type { Session } from './session.js';

export interface Callee {
  readonly session: Session;
  readonly registration: Registration;
  /** Crossbar.io's `concurrency` REGISTER option; undefined = unlimited. */
  readonly concurrency: number | undefined;
  readonly discloseCaller: boolean;
  /** Invocations sent to this callee and not yet answered. */
  inflight: number;
}

export class Registration {
  readonly callees: Callee[] = [];
  readonly created = new Date();
  private next = 0;

  constructor(
    readonly id: number,
    readonly uri: string,
    readonly match: MatchPolicy,
    readonly invoke: InvokePolicy,
  ) {}

  calleeOf(session: Session): Callee | undefined {
    return this.callees.find((c) => c.session === session);
  }

  remove(session: Session): Callee | undefined {
    const i = this.callees.findIndex((c) => c.session === session);
    if (i < 0) return undefined;
    const [c] = this.callees.splice(i, 1);
    if (this.next > i) this.next--;
    return c;
  }

  /** Picks a callee with spare concurrency by the invoke policy; undefined when all are busy. */
  pick(): Callee | undefined {
    const cs = this.callees;
    const n = cs.length;
    if (n === 0) return undefined;
    switch (this.invoke) {
      case 'single':
      case 'first':
        return cs.find(hasCapacity);
      case 'last':
        return cs.findLast(hasCapacity);
      case 'roundrobin':
        for (let k = 0; k < n; k++) {
          const i = (this.next + k) % n;
          if (hasCapacity(cs[i]!)) {
            this.next = (i + 1) % n;
            return cs[i];
          }
        }
        return undefined;
      case 'random': {
        const free = cs.filter(hasCapacity);
        return free[Math.floor(Math.random() * free.length)];
      }
    }
  }
}

function hasCapacity(c: Callee): boolean {
  return c.concurrency === undefined || c.inflight < c.concurrency;
}
