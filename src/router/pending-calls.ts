/**
 * The calls in flight through this node's dealer, indexed every way a message can name one: by
 * the caller session's request id, by INVOCATION id, in the callee session's list, the calls from
 * other nodes, and the queue of calls waiting for a callee with spare concurrency per
 * registration. A session's tables live as long as the session (no table per call).
 *
 * `finish` is the single exit of every call: it removes every trace of it and answers whether
 * it was still pending, so no path can answer a call twice.
 */
import type { CallCounters } from '../stats/realm-counters.js';
import { IdSequence } from '../wamp/ids.js';
import { detached } from '../wamp/messages.js';
import { CallList } from './call-list.js';
import type { PendingCall } from './pending-call.js';
import type { Callee, Registration } from './registration.js';
import type { Session } from './session.js';

export class PendingCalls {
  private readonly invocationIds = new IdSequence();
  private readonly byInvocation = new Map<number, PendingCall>();
  private readonly byCaller = new Map<Session, Map<number, PendingCall>>();
  private readonly byCallee = new Map<Session, CallList>();
  /** Calls from other nodes to local callees. */
  private readonly fromRemote = new Set<PendingCall>();
  private readonly queues = new Map<Registration, PendingCall[]>();
  /**
   * Progressive call invocations that ended (answered, canceled, timed out, callee gone) before
   * the caller's final chunk: chunks still on their way are dropped, not taken for new calls.
   */
  private readonly endedStreams = new Map<Session, Set<number>>();
  /** Statistics (plain counters); undefined when statistics are off. */
  counters: CallCounters | undefined;

  /** The call `session` has in flight under `request`. */
  ofCaller(session: Session, request: number): PendingCall | undefined {
    return this.byCaller.get(session)?.get(request);
  }

  /** How many calls `session` has in flight as caller. */
  inFlight(session: Session): number {
    return this.byCaller.get(session)?.size ?? 0;
  }

  /** A new call of a local caller. */
  addCall(p: PendingCall): void {
    const caller = p.caller!;
    let calls = this.byCaller.get(caller);
    if (!calls) this.byCaller.set(caller, (calls = new Map()));
    calls.set(p.request, p);
    if (this.counters) p.started = this.counters.callStarted();
  }

  /** A new call from another node. */
  addRemote(p: PendingCall): void {
    this.fromRemote.add(p);
  }

  /** The call is sent to local callee `session`: it gets its INVOCATION id. */
  invoked(p: PendingCall, session: Session): number {
    p.invocation = this.invocationIds.next();
    this.byInvocation.set(p.invocation, p);
    let list = this.byCallee.get(session);
    if (!list) this.byCallee.set(session, (list = new CallList()));
    list.add(p);
    return p.invocation;
  }

  ofInvocation(invocation: number): PendingCall | undefined {
    return this.byInvocation.get(invocation);
  }

  /**
   * Whether CALL `request` of `session` is a chunk of a progressive call invocation that has
   * ended (to be dropped); its final chunk ends the watch.
   */
  isLateChunk(session: Session, request: number, final: boolean): boolean {
    const ended = this.endedStreams.size > 0 ? this.endedStreams.get(session) : undefined;
    if (!ended?.has(request)) return false;
    if (final) {
      ended.delete(request);
      if (ended.size === 0) this.endedStreams.delete(session);
    }
    return true;
  }

  // ---- the queue of calls waiting for capacity ------------------------------------------------

  queued(reg: Registration): number {
    return this.queues.get(reg)?.length ?? 0;
  }

  enqueue(reg: Registration, p: PendingCall): void {
    p.waited = true;
    // A waiting call must not pin the read buffer its payload is a view of.
    p.content = detached(p.content);
    const queue = this.queues.get(reg);
    if (queue) queue.push(p);
    else this.queues.set(reg, [p]);
  }

  /** Hands the waiting calls of `reg` to `send`, in order, while it has a callee with capacity. */
  drain(reg: Registration, send: (p: PendingCall, callee: Callee) => void): void {
    const queue = this.queues.get(reg);
    while (queue && queue.length > 0) {
      const callee = reg.pick();
      if (!callee) return;
      send(queue.shift()!, callee);
    }
    if (queue && this.queues.get(reg) === queue) this.queues.delete(reg);
  }

  /** Takes the whole queue of a registration that is gone. */
  dropQueue(reg: Registration): PendingCall[] {
    const queue = this.queues.get(reg) ?? [];
    this.queues.delete(reg);
    return queue;
  }

  // ---- ending calls ---------------------------------------------------------------------------

  /**
   * Removes every trace of a call. Returns false when the call had already ended, so the caller
   * of `finish` must not answer it again.
   */
  finish(p: PendingCall): boolean {
    if (p.done) return false;
    p.done = true;
    if (p.caller) {
      if (p.started !== 0) this.counters?.callEnded(p.started);
      this.byCaller.get(p.caller)?.delete(p.request);
      if (p.streaming && p.caller.isOpen) {
        let ended = this.endedStreams.get(p.caller);
        if (!ended) this.endedStreams.set(p.caller, (ended = new Set()));
        ended.add(p.request);
      }
    } else {
      this.fromRemote.delete(p);
    }
    clearTimeout(p.timer);
    p.timer = undefined;
    const callee = p.callee;
    if (callee) {
      callee.inflight--;
      p.callee = undefined;
      p.remote = undefined;
      if (callee.session) {
        this.byInvocation.delete(p.invocation);
        p.list?.remove(p);
      }
    } else {
      const queue = this.queues.get(p.registration);
      const i = queue?.indexOf(p) ?? -1;
      if (i >= 0) queue!.splice(i, 1);
      if (queue?.length === 0) this.queues.delete(p.registration);
    }
    return true;
  }

  /** `session`'s calls as caller (a snapshot). */
  asCaller(session: Session): PendingCall[] {
    const calls = this.byCaller.get(session);
    return calls ? [...calls.values()] : [];
  }

  /** The calls in flight to callee `session` (a snapshot). */
  asCallee(session: Session): PendingCall[] {
    return this.byCallee.get(session)?.toArray() ?? [];
  }

  /** The session has left and its calls have ended: its tables go. */
  forget(session: Session): void {
    this.endedStreams.delete(session);
    this.byCaller.delete(session);
    this.byCallee.delete(session);
  }

  /** Sessions holding a pending-call table (as caller or callee); 0 once every session has left. */
  get sessionTables(): number {
    return this.byCaller.size + this.byCallee.size;
  }

  /** Sizes of every pending-call table; all zero when no call is in flight. */
  state(): { invocations: number; callers: number; callees: number; queued: number; remote: number } {
    let queued = 0;
    for (const q of this.queues.values()) queued += q.length;
    let callers = 0;
    for (const calls of this.byCaller.values()) if (calls.size > 0) callers++;
    let callees = 0;
    for (const invoked of this.byCallee.values()) if (invoked.size > 0) callees++;
    return { invocations: this.byInvocation.size, callers, callees, queued, remote: this.fromRemote.size };
  }
}
