/**
 * CALLs waiting while this node asks the registry about a procedure it does not know yet (another
 * node's REGISTER may be an instant ahead of this node's mirror). A progressive call invocation
 * keeps sending chunks meanwhile: they wait behind their first CALL, in order, and follow it once
 * it is routed — or go with it when it is refused. A CANCEL meanwhile refuses the call at once.
 */
import type { Call } from '../wamp/messages.js';
import type { Session } from './session.js';

/** Chunks one waiting call may hold; a caller streaming more before the lookup answers is refused. */
export const MAX_WAITING_CHUNKS = 1000;

export interface WaitingCall {
  /** The later CALLs under the same request, in arrival order (their payload views dropped). */
  readonly chunks: Call[];
  canceled: boolean;
}

export class CallLookups {
  private readonly bySession = new Map<Session, Map<number, WaitingCall>>();

  /** Starts waiting for `request`; false when it already waits (the CALL is a later chunk). */
  start(session: Session, request: number): boolean {
    let calls = this.bySession.get(session);
    if (!calls) this.bySession.set(session, (calls = new Map()));
    if (calls.has(request)) return false;
    calls.set(request, { chunks: [], canceled: false });
    return true;
  }

  get(session: Session, request: number): WaitingCall | undefined {
    return this.bySession.size > 0 ? this.bySession.get(session)?.get(request) : undefined;
  }

  /** Ends the wait of `request` and gives what came meanwhile. */
  finish(session: Session, request: number): WaitingCall | undefined {
    const calls = this.bySession.get(session);
    const w = calls?.get(request);
    if (!w) return undefined;
    calls!.delete(request);
    if (calls!.size === 0) this.bySession.delete(session);
    return w;
  }

  forget(session: Session): void {
    this.bySession.delete(session);
  }

  /** Calls waiting for a lookup (0 when idle). */
  get size(): number {
    let n = 0;
    for (const calls of this.bySession.values()) n += calls.size;
    return n;
  }
}
