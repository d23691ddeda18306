/**
 * The dealer: REGISTER / UNREGISTER / CALL → INVOCATION → YIELD | ERROR → RESULT | ERROR, with
 * shared and pattern registrations, progressive results and invocations, caller disclosure,
 * timeouts, cancellation and per-callee concurrency limits — across the nodes of a cluster.
 *
 * Registrations live in the backplane's registry (cluster-wide order and uniqueness); this dealer
 * mirrors them (`registryChanged`) and routes each call to a local callee directly or to a remote
 * one through `Backplane.invoke`. A call from another node arrives as `remoteInvocation`.
 *
 * Guarantee: every CALL from a live caller gets exactly one final RESULT or ERROR, and every
 * pending entry is removed on that terminal event: `finish` is the single exit and answers
 * "was it still pending?", so no path can answer twice, even when a send closes a connection
 * and re-enters the dealer. Nothing waits forever: a call waits only for a live callee, for a
 * bounded queue slot, or until its timeout.
 *
 * Concurrency: a call goes to a callee with spare capacity chosen by the invoke policy; if every
 * callee is at its limit the call waits in a FIFO queue of at most `queueLimit` calls per
 * registration, and beyond that fails with `crossbar.error.max_concurrency_reached`. A remote
 * callee's node enforces its limit and refuses (busy) a call beyond it; the call then tries the
 * other callees once each.
 *
 * Timeout (advanced/ap_rpc_call_timeout.md): the caller's node runs the timer, cancels like
 * CANCEL killnowait (skip if the callee lacks call_canceling) and answers `wamp.error.timeout`.
 */
import type { Logger } from 'pino';
import type { Authorizer } from '../auth/authorizer.js';
import type { Backplane, CallHandle, ClusterReg, RemoteInvocation, ReplyPort, ReplySink } from '../backplane/backplane.js';
import { MessageType as T } from '../wamp/codes.js';
import { ErrorUri } from '../wamp/errors.js';
import { IdSequence } from '../wamp/ids.js';
import type { Args, Call, Cancel, CancelMode, Dict, ErrorMessage, Kwargs, Payload, Register, Unregister, Yield } from '../wamp/messages.js';
import { isReservedUri, type MatchPolicy } from '../wamp/uri.js';
import { MatchIndex } from '../match/match-index.js';
import { LOCAL_CALLER, newPendingCall, type PendingCall, remoteCaller } from './pending-call.js';
import { CallList } from './call-list.js';
import { type Callee, Registration } from './registration.js';
import type { Session } from './session.js';
import { LimitKey } from './session-limits.js';
import type { CallCounters } from '../stats/realm-counters.js';

/** Procedures the router answers itself (the meta API): consulted before any registration. */
export interface InternalProcedures {
  handles(procedure: string): boolean;
  call(session: Session, m: Call): void;
}

/** Who hears of callees coming and going (registration meta events); calls come after the reply. */
export interface DealerHooks {
  /** `created`: the session is the registration's first callee. */
  registered(session: Session, reg: Registration, created: boolean): void;
  /** `deleted`: the registration has no callee left. */
  unregistered(session: Session, reg: Registration, deleted: boolean): void;
}

/** Default bound of the queue of calls waiting for a callee with spare concurrency, per registration. */
export const QUEUE_LIMIT = 1000;
/**
 * CANCEL without Options.mode (the spec names no default): the caller is answered at once and a
 * callee that can be interrupted is told to stop, so neither side keeps work for a call nobody awaits.
 */
export const DEFAULT_CANCEL_MODE: CancelMode = 'killnowait';

const MAX_TIMER_MS = 2 ** 31 - 1;
/** INVOCATION.Details of most calls; never written to (details are copied to be changed). */
const NO_DETAILS: Dict = Object.freeze({});
const NO_HANDLE: CallHandle = { chunk: () => undefined, cancel: () => undefined };

export interface DealerOptions {
  /** Calls that may wait per registration when every callee is at its concurrency limit. */
  readonly queueLimit?: number;
}

export class Dealer {
  private readonly index = new MatchIndex<Registration>();
  private readonly byId = new Map<number, Registration>();
  /** REGISTERs in progress with the registry, by session id. */
  private readonly pendingRegisters = new Map<number, number>();
  /** Registrations each local session is a callee of, so a leaving session costs ∝ its own. */
  private readonly bySession = new Map<Session, Set<Registration>>();
  private readonly invocationIds = new IdSequence();
  private readonly byInvocation = new Map<number, PendingCall>();
  /** Each session's pending calls as caller and as callee; a table lives as long as its session. */
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
  private readonly queueLimit: number;
  /** The meta API; undefined until the realm sets it. */
  internal: InternalProcedures | undefined;
  hooks: DealerHooks | undefined;
  /** Statistics (plain counters); undefined when statistics are off. */
  counters: CallCounters | undefined;

  constructor(
    private readonly realm: string,
    private readonly authorizer: Authorizer,
    private readonly backplane: Backplane,
    private readonly sessions: ReadonlyMap<number, Session>,
    private readonly log: Logger,
    options: DealerOptions = {},
  ) {
    this.queueLimit = options.queueLimit ?? QUEUE_LIMIT;
  }

  get registrationCount(): number {
    return this.byId.size;
  }

  registration(id: number): Registration | undefined {
    return this.byId.get(id);
  }

  registrations(): IterableIterator<Registration> {
    return this.byId.values();
  }

  /** The registration under exactly (uri, match), if it has callees (wamp.registration.lookup). */
  lookup(uri: string, match: MatchPolicy): Registration | undefined {
    const reg = this.index.get(uri, match);
    return reg && reg.callees.length > 0 ? reg : undefined;
  }

  /** The registration a call to `procedure` is routed by (wamp.registration.match). */
  bestMatch(procedure: string): Registration | undefined {
    const reg = this.index.best(procedure)?.value;
    return reg && reg.callees.length > 0 ? reg : undefined;
  }

  /** Sizes of every pending-call table; all zero when no call is in flight. */
  /** Sessions holding a pending-call table (as caller or callee); 0 once every session has left. */
  get sessionTables(): number {
    return this.byCaller.size + this.byCallee.size;
  }

  pendingState(): { invocations: number; callers: number; callees: number; queued: number; remote: number } {
    let queued = 0;
    for (const q of this.queues.values()) queued += q.length;
    let callers = 0;
    for (const calls of this.byCaller.values()) if (calls.size > 0) callers++;
    let callees = 0;
    for (const invoked of this.byCallee.values()) if (invoked.size > 0) callees++;
    return { invocations: this.byInvocation.size, callers, callees, queued, remote: this.fromRemote.size };
  }

  // ---- registrations --------------------------------------------------------------------

  register(session: Session, m: Register): void {
    const { procedure, options } = m;
    const refuse = (error: string, message: string) => session.sendError(T.REGISTER, m.request, error, [message]);
    // Crossbar.io answers invalid_uri for a restricted procedure URI.
    if (isReservedUri(procedure)) return refuse(ErrorUri.invalidUri, `procedure "${procedure}" is reserved for the router (wamp.*)`);
    if (!this.authorizer.authorize(session.authrole, procedure, 'register').allow) {
      return refuse(ErrorUri.notAuthorized, `session is not authorized to register procedure "${procedure}"`);
    }
    const max = session.limits.maxRegistrations;
    if (max !== undefined && (this.bySession.get(session)?.size ?? 0) + (this.pendingRegisters.get(session.id) ?? 0) >= max) {
      return session.refuseOverLimit(T.REGISTER, m.request, LimitKey.registrations, max, 'this session has the most registrations it may have');
    }
    const callee = {
      node: this.backplane.nodeId, session: session.id, authid: session.authid, authrole: session.authrole,
      concurrency: options.concurrency, discloseCaller: options.discloseCaller,
    };
    this.pendingRegisters.set(session.id, (this.pendingRegisters.get(session.id) ?? 0) + 1);
    this.backplane
      .register(this.realm, procedure, options.match, options.invoke, callee, options.forceReregister)
      .finally(() => {
        const left = (this.pendingRegisters.get(session.id) ?? 1) - 1;
        if (left > 0) this.pendingRegisters.set(session.id, left);
        else this.pendingRegisters.delete(session.id);
      })
      .then((outcome) => {
        if (!session.isOpen) {
          // The session left while the registry answered: take the registration back.
          if (!('error' in outcome)) this.backplane.unregister(this.realm, procedure, options.match, session.id);
          return;
        }
        if ('error' in outcome) return refuse(outcome.error, outcome.message);
        const reg = this.index.get(procedure, options.match);
        const mine = reg?.calleeOf(session);
        if (!reg || !mine) return refuse(ErrorUri.registryUnavailable, 'the registration was lost while it was being made');
        mine.ready = true;
        session.send({ type: T.REGISTERED, request: m.request, registration: reg.id });
        this.hooks?.registered(session, reg, reg.callees.length === 1);
        // A new callee of a shared registration takes waiting calls at once (after its REGISTERED).
        this.drain(reg);
      })
      .catch((err: unknown) => {
        this.log.error({ err, procedure }, 'register failed');
        if (session.isOpen) refuse(ErrorUri.registryUnavailable, 'the registry failed');
      });
  }

  unregister(session: Session, m: Unregister): void {
    const reg = this.byId.get(m.registration);
    if (!reg || !this.removeLocalCallee(reg, session)) {
      return session.sendError(T.UNREGISTER, m.request, ErrorUri.noSuchRegistration, [
        `session has no registration ${m.registration}`,
      ]);
    }
    // Invocations already sent stay valid: the callee may still answer them.
    session.send({ type: T.UNREGISTERED, request: m.request });
    this.hooks?.unregistered(session, reg, reg.callees.length === 0);
    this.afterCalleeRemoved(reg);
  }

  /**
   * The registry changed (here or on another node): mirror the registration's callees in their
   * cluster order. A local callee that disappears without having unregistered was revoked.
   */
  registryChanged(uri: string, match: MatchPolicy, cr: ClusterReg | undefined): void {
    let reg = this.index.get(uri, match);
    if (!cr || cr.callees.length === 0) {
      if (reg) this.dropRegistration(reg, `procedure "${uri}" was removed`);
      return;
    }
    if (!reg) {
      reg = new Registration(cr.regId, uri, match, cr.invoke);
      this.index.set(uri, match, reg);
      this.byId.set(reg.id, reg);
    }
    reg.invoke = cr.invoke;
    const old = new Map(reg.callees.map((c) => [`${c.node}/${c.sessionId}`, c]));
    const next: Callee[] = [];
    for (const c of cr.callees) {
      const key = `${c.node}/${c.session}`;
      let callee = old.get(key);
      if (callee) {
        old.delete(key);
      } else {
        const local = c.node === this.backplane.nodeId;
        const session = local ? this.sessions.get(c.session) : undefined;
        if (local && !session?.isOpen) continue;
        callee = {
          node: c.node, sessionId: c.session, session, registration: reg, concurrency: c.concurrency,
          discloseCaller: c.discloseCaller, inflight: 0, ready: !local,
        };
        if (session) this.trackCallee(session, reg);
      }
      next.push(callee);
    }
    reg.setCallees(next);
    for (const gone of old.values()) this.revoked(reg, gone, `procedure "${uri}" was re-registered elsewhere with force_reregister`);
    if (reg.callees.length === 0) this.dropRegistration(reg, `procedure "${uri}" was removed`);
    else this.drain(reg);
  }

  /**
   * Registration revocation (registration_revocation): the router removes this node's callees
   * of `reg`, telling those that announced the feature with UNREGISTERED [67, 0, {registration,
   * reason}]. Invocations already sent stay valid, as after UNREGISTER.
   */
  revoke(reg: Registration, reason: string): void {
    for (const c of [...reg.callees]) {
      if (c.session && this.removeLocalCallee(reg, c.session)) {
        this.tellRevoked(c.session, reg, reason);
        this.hooks?.unregistered(c.session, reg, reg.callees.length === 0);
      }
    }
    this.afterCalleeRemoved(reg);
  }

  private revoked(reg: Registration, callee: Callee, reason: string): void {
    const session = callee.session;
    if (!session || !this.bySession.get(session)?.has(reg)) return; // it unregistered itself
    this.untrackCallee(session, reg);
    this.tellRevoked(session, reg, reason);
    this.hooks?.unregistered(session, reg, false);
  }

  private tellRevoked(session: Session, reg: Registration, reason: string): void {
    if (session.supports('callee', 'registration_revocation')) {
      session.send({ type: T.UNREGISTERED, request: 0, details: { registration: reg.id, reason } });
    }
  }

  private removeLocalCallee(reg: Registration, session: Session): boolean {
    if (!reg.remove(session)) return false;
    this.untrackCallee(session, reg);
    this.backplane.unregister(this.realm, reg.uri, reg.match, session.id);
    return true;
  }

  private trackCallee(session: Session, reg: Registration): void {
    let regs = this.bySession.get(session);
    if (!regs) this.bySession.set(session, (regs = new Set()));
    regs.add(reg);
  }

  private untrackCallee(session: Session, reg: Registration): void {
    const regs = this.bySession.get(session);
    regs?.delete(reg);
    if (regs?.size === 0) this.bySession.delete(session);
  }

  /** A registration without callees is gone, and so are the calls that waited for it. */
  private afterCalleeRemoved(reg: Registration): void {
    if (reg.callees.length > 0) return this.drain(reg);
    this.dropRegistration(reg, `procedure "${reg.uri}" was unregistered`);
  }

  private dropRegistration(reg: Registration, reason: string): void {
    for (const c of [...reg.callees]) this.revoked(reg, c, reason);
    reg.setCallees([]);
    if (this.index.get(reg.uri, reg.match) === reg) this.index.delete(reg.uri, reg.match);
    if (this.byId.get(reg.id) === reg) this.byId.delete(reg.id);
    const queue = this.queues.get(reg);
    this.queues.delete(reg);
    for (const p of queue ?? []) {
      if (!this.finish(p)) continue;
      p.answer.error(p, ErrorUri.canceled, [`procedure "${reg.uri}" was unregistered while the call waited`], undefined, {});
    }
  }

  // ---- calls ----------------------------------------------------------------------------

  call(session: Session, m: Call): void {
    const calls = this.byCaller.get(session);
    const existing = calls?.get(m.request);
    if (existing) return this.chunk(existing, m);
    const ended = this.endedStreams.size > 0 ? this.endedStreams.get(session) : undefined;
    if (ended?.has(m.request)) {
      if (!m.options.progress) {
        ended.delete(m.request);
        if (ended.size === 0) this.endedStreams.delete(session);
      }
      return;
    }
    const maxCalls = session.limits.maxCalls;
    if (maxCalls !== undefined && (calls?.size ?? 0) >= maxCalls) {
      return session.refuseOverLimit(T.CALL, m.request, LimitKey.calls, maxCalls, 'this session has the most calls in flight it may have');
    }
    const decision = this.authorizer.authorize(session.authrole, m.procedure, 'call');
    if (!decision.allow) return refuseCall(session, m, ErrorUri.notAuthorized, `session is not authorized to call procedure "${m.procedure}"`);
    // Meta procedures obey authorization like any other URI, then the router answers them.
    if (this.internal?.handles(m.procedure)) return this.internal.call(session, m);
    const reg = this.index.best(m.procedure)?.value;
    if (!reg || reg.callees.length === 0) {
      // This node's view of the registry may be an instant behind another node's REGISTER.
      void this.backplane.refresh(this.realm, m.procedure, 'exact').then(() => {
        if (!session.isOpen || this.byCaller.get(session)?.has(m.request)) return;
        const now = this.index.best(m.procedure)?.value;
        // Later than its CALL: the encoded payload may no longer be read (see Payload).
        if (now && now.callees.length > 0) this.route(session, { ...m, payload: undefined }, now, decision.disclose);
        else refuseCall(session, m, ErrorUri.noSuchProcedure, `no procedure "${m.procedure}" is registered`);
      });
      return;
    }
    this.route(session, m, reg, decision.disclose);
  }

  private route(session: Session, m: Call, reg: Registration, roleDisclose: boolean): void {
    const callee = reg.pick();
    if (m.options.progress) {
      // ap_10_rpc_progressive_call_invocations.md: the chunks need one callee that streams
      // (progressive_call_invocations) and can be interrupted (call_canceling); they cannot queue.
      // A caller that did not announce the feature is tolerated (wampy sends progressive CALLs
      // without announcing it). A remote callee's node checks its features.
      if (!callee) return refuseCall(session, m, ErrorUri.maxConcurrencyReached, `every callee of "${reg.uri}" is at its concurrency limit`);
      if (callee.session && !streams(callee.session)) {
        return refuseCall(session, m, ErrorUri.featureNotSupported, `the callee of "${reg.uri}" does not support progressive call invocations`);
      }
    }
    if (!callee && (this.queues.get(reg)?.length ?? 0) >= this.queueLimit) {
      return refuseCall(session, m, ErrorUri.maxConcurrencyReached, `every callee of "${reg.uri}" is at its concurrency limit and ${this.queueLimit} calls are waiting`);
    }
    let details = NO_DETAILS;
    if (reg.match !== 'exact' || m.options.receiveProgress) {
      details = {};
      if (reg.match !== 'exact') details.procedure = m.procedure;
      if (m.options.receiveProgress) details.receive_progress = true;
    }
    const p = newPendingCall(session, m.request, LOCAL_CALLER, m, reg, details);
    p.disclose = m.options.discloseMe || roleDisclose;
    let calls = this.byCaller.get(session);
    if (!calls) this.byCaller.set(session, (calls = new Map()));
    calls.set(p.request, p);
    if (this.counters) p.started = this.counters.callStarted();
    if (m.options.timeout > 0) {
      // Node fires a delay above 2^31-1 ms at once; a timeout that long means "none" in practice.
      p.timer = setTimeout(() => this.expire(p), Math.min(m.options.timeout, MAX_TIMER_MS));
      p.timer.unref();
    }
    if (callee) return this.dispatch(p, callee);
    p.waited = true;
    // A waiting call must not pin the read buffer its payload is a view of.
    p.payload = undefined;
    const queue = this.queues.get(reg);
    if (queue) queue.push(p);
    else this.queues.set(reg, [p]);
  }

  /** A call from another node to one of this node's callees. */
  remoteInvocation(inv: RemoteInvocation, port: ReplyPort, waited = false): CallHandle {
    const reg = this.byId.get(inv.regId);
    const callee = reg?.callees.find((c) => c.session !== undefined && c.sessionId === inv.callee);
    if (!waited && this.registering(inv)) return this.whenReady(inv, port);
    if (!reg || !callee?.ready || !callee.session?.isOpen) {
      port.reject('gone');
      return NO_HANDLE;
    }
    if (callee.concurrency !== undefined && callee.inflight >= callee.concurrency) {
      port.reject('busy');
      return NO_HANDLE;
    }
    const progress = inv.details.progress === true;
    if (progress && !streams(callee.session)) {
      port.error(ErrorUri.featureNotSupported, [`the callee of "${reg.uri}" does not support progressive call invocations`], undefined, {});
      return NO_HANDLE;
    }
    const { progress: _chunked, ...details } = inv.details;
    const call = { procedure: inv.procedure, args: inv.args, kwargs: inv.kwargs, options: { receiveProgress: details.receive_progress === true, timeout: 0, progress } };
    const p = newPendingCall(undefined, 0, remoteCaller(port), call, reg, details);
    this.fromRemote.add(p);
    this.dispatch(p, callee);
    return {
      chunk: (args, kwargs, last) => this.forwardChunk(p, args, kwargs, !last),
      cancel: (mode, reason) => this.stop(p, mode, reason ?? ErrorUri.canceled, 'call canceled by the caller'),
    };
  }

  /**
   * Whether the invoked callee is a session of this node whose registration is still being made:
   * another node already routes to it (the registry told that node first) while this node has not
   * mirrored it yet or not sent its REGISTERED.
   */
  private registering(inv: RemoteInvocation): boolean {
    const callee = this.byId.get(inv.regId)?.callees.find((c) => c.session !== undefined && c.sessionId === inv.callee);
    if (callee) return !callee.ready && callee.session?.isOpen === true;
    return this.pendingRegisters.has(inv.callee) && this.sessions.get(inv.callee)?.isOpen === true;
  }

  /**
   * An invocation for a callee whose registration is still being made here waits for it, briefly
   * (up to 1 s), so it never overtakes REGISTERED and is not refused as gone meanwhile.
   */
  private whenReady(inv: RemoteInvocation, port: ReplyPort): CallHandle {
    let handle: CallHandle | undefined;
    let canceled = false;
    const chunks: [Args, Kwargs, boolean][] = [];
    let waited = 0;
    const attempt = () => {
      if (canceled) return port.reject('gone');
      if (this.registering(inv) && waited++ < 200) return void setTimeout(attempt, 5);
      handle = this.remoteInvocation(inv, port, true);
      for (const [a, k, last] of chunks) handle.chunk(a, k, last);
    };
    setTimeout(attempt, 0);
    return {
      chunk: (args, kwargs, last) => (handle ? handle.chunk(args, kwargs, last) : void chunks.push([args, kwargs, last])),
      cancel: (mode, reason) => (handle ? handle.cancel(mode, reason) : void (canceled = true)),
    };
  }

  /** Sends the INVOCATION of a call to the chosen callee, here or on its node. */
  private dispatch(p: PendingCall, callee: Callee): void {
    p.callee = callee;
    callee.inflight++;
    const details = p.caller && (p.disclose || callee.discloseCaller)
      ? { ...p.details, caller: p.caller.id, caller_authid: p.caller.authid, caller_authrole: p.caller.authrole }
      : p.details;
    p.details = details;
    const first = p.streaming ? { ...details, progress: true } : details;
    const session = callee.session;
    // The encoded payload is a view of the CALL's read buffer: used only by a dispatch made at once.
    const payload = p.payload;
    p.payload = undefined;
    if (!session) {
      const inv: RemoteInvocation = {
        realm: this.realm, procedure: p.procedure, regId: p.registration.id, callee: callee.sessionId,
        details: first, args: p.args, kwargs: p.kwargs,
      };
      p.remote = this.backplane.invoke(callee.node, inv, this.sinkFor(p, callee));
      return;
    }
    p.invocation = this.invocationIds.next();
    this.byInvocation.set(p.invocation, p);
    let list = this.byCallee.get(session);
    if (!list) this.byCallee.set(session, (list = new CallList()));
    list.add(p);
    session.sendPayload([T.INVOCATION, p.invocation, p.registration.id, first], p.args, p.kwargs, payload);
    // A local invocation is never sent again: the call need not keep its arguments alive.
    p.args = undefined;
    p.kwargs = undefined;
  }

  /** Answers from a callee on another node. */
  private sinkFor(p: PendingCall, callee: Callee): ReplySink {
    const current = () => !p.done && p.callee === callee;
    return {
      progress: (args, kwargs) => {
        if (current() && p.receiveProgress) p.answer.progress(p, args, kwargs);
      },
      result: (args, kwargs) => {
        if (current() && this.finish(p)) {
          p.answer.result(p, args, kwargs);
          this.drain(p.registration);
        }
      },
      error: (uri, args, kwargs, details) => {
        if (current() && this.finish(p)) {
          p.answer.error(p, uri, args, kwargs, details);
          this.drain(p.registration);
        }
      },
      undelivered: (why) => {
        if (!current()) return;
        // Provably never delivered: try the other callees, each once.
        callee.inflight--;
        p.callee = undefined;
        p.remote = undefined;
        (p.tried ??= new Set()).add(callee);
        const next = p.streaming ? undefined : p.registration.pick(p.tried);
        if (next) return this.dispatch(p, next);
        if (why === 'busy' || p.streaming) return this.fail(p, why);
        // Every callee had left, and this node's view of the registry was behind: refresh it
        // and route once more by the current registrations (perhaps another pattern now).
        const stale = p.registration;
        void this.backplane.refresh(this.realm, stale.uri, stale.match).then(() => {
          if (p.done || p.callee) return;
          const best = this.index.best(p.procedure)?.value;
          const again = best?.pick(p.tried);
          if (!best || !again) return this.fail(p, 'gone');
          if (best !== stale) {
            const details = { ...p.details };
            if (best.match === 'exact') delete details.procedure;
            else details.procedure = p.procedure;
            p.registration = best;
            p.details = details;
          }
          this.dispatch(p, again);
        });
      },
    };
  }

  private fail(p: PendingCall, why: 'gone' | 'busy'): void {
    if (!this.finish(p)) return;
    if (why === 'busy') p.answer.error(p, ErrorUri.maxConcurrencyReached, [`every callee of "${p.registration.uri}" is at its concurrency limit`], undefined, {});
    // Every callee tried had left (this node had not yet heard): the procedure is gone — for a
    // call that waited, as when the registration goes while it waits.
    else if (p.waited) p.answer.error(p, ErrorUri.canceled, [`procedure "${p.registration.uri}" was unregistered while the call waited`], undefined, {});
    else p.answer.error(p, ErrorUri.noSuchProcedure, [`no procedure "${p.procedure}" is registered any more`], undefined, {});
  }

  /** A further CALL of a progressive call invocation goes to the same INVOCATION. */
  private chunk(p: PendingCall, m: Call): void {
    if (!p.streaming || !p.callee) {
      // Reusing the ID of a call in flight: no ERROR can answer it without also ending that call.
      return p.caller?.abort(ErrorUri.protocolViolation, `CALL request ${m.request} is already in flight and is not a progressive call invocation`);
    }
    this.forwardChunk(p, m.args, m.kwargs, m.options.progress, m.payload);
  }

  private forwardChunk(p: PendingCall, args: Args, kwargs: Kwargs, more: boolean, payload?: Payload): void {
    if (p.done || !p.callee || !p.streaming) return;
    p.streaming = more;
    const session = p.callee.session;
    if (!session) return p.remote?.chunk(args, kwargs, !more);
    const details: Dict = more ? { ...p.details, progress: true } : p.details;
    session.sendPayload([T.INVOCATION, p.invocation, p.registration.id, details], args, kwargs, payload);
  }

  yieldResult(session: Session, m: Yield): void {
    const p = this.byInvocation.get(m.request);
    // A late answer (after cancel, timeout or the caller leaving) is dropped.
    if (!p || p.callee?.session !== session) return;
    if (m.progress) {
      if (p.receiveProgress) p.answer.progress(p, m.args, m.kwargs, m.payload);
      return;
    }
    if (!this.finish(p)) return;
    p.answer.result(p, m.args, m.kwargs, m.payload);
    this.drain(p.registration);
  }

  invocationError(session: Session, m: ErrorMessage): void {
    const p = this.byInvocation.get(m.request);
    if (!p || p.callee?.session !== session) return;
    if (!this.finish(p)) return;
    // Application errors pass through unchanged: URI, Arguments, ArgumentsKw and Details.
    p.answer.error(p, m.error, m.args, m.kwargs, m.details, m.payload);
    this.drain(p.registration);
  }

  cancel(session: Session, m: Cancel): void {
    const p = this.byCaller.get(session)?.get(m.request);
    if (!p) return; // already answered: nothing to cancel
    this.stop(p, m.mode ?? DEFAULT_CANCEL_MODE, ErrorUri.canceled, 'call canceled by the caller');
  }

  /**
   * Cancels a pending call in `mode` (advanced/ap_rpc_call_canceling.md): skip answers at once
   * without INTERRUPT; killnowait answers at once and interrupts; kill interrupts and lets the
   * callee's answer (RESULT or ERROR) end the call. A queued call, or a local callee without
   * call_canceling, always gets skip; a remote callee's node decides the same for its callee.
   */
  private stop(p: PendingCall, mode: CancelMode, error: string, message: string): void {
    const callee = p.callee;
    const invocation = p.invocation;
    const remote = p.remote;
    const effective: CancelMode = callee === undefined || (callee.session && !supportsCanceling(callee.session)) ? 'skip' : mode;
    const interrupt = effective !== 'skip' && !p.interrupted;
    p.interrupted ||= interrupt;
    if (effective === 'kill') {
      if (interrupt) this.interrupt(callee!, invocation, remote, 'kill', error);
      return;
    }
    if (!this.finish(p)) return;
    p.answer.error(p, error, [message], undefined, {});
    if (interrupt) this.interrupt(callee!, invocation, remote, 'killnowait', error);
    else remote?.cancel('skip');
    this.drain(p.registration);
  }

  private interrupt(callee: Callee, invocation: number, remote: CallHandle | undefined, mode: CancelMode, reason: string): void {
    if (callee.session) callee.session.send({ type: T.INTERRUPT, request: invocation, options: { mode, reason } });
    else remote?.cancel(mode, reason);
  }

  private expire(p: PendingCall): void {
    p.timer = undefined;
    if (p.done) return;
    this.stop(p, 'killnowait', ErrorUri.timeout, `call timed out after ${p.timeoutMs} ms`);
  }

  removeSession(session: Session): void {
    // Its registrations go first, so no queued call is handed to it while it leaves.
    const regs = this.bySession.get(session);
    for (const reg of regs ? [...regs] : []) {
      if (!this.removeLocalCallee(reg, session)) continue;
      this.hooks?.unregistered(session, reg, reg.callees.length === 0);
      this.afterCalleeRemoved(reg);
    }
    this.bySession.delete(session);
    // As caller: nobody is left to answer; the callee is told to stop (killnowait, as
    // ap_10_rpc_progressive_call_invocations.md requires for a caller that left).
    const calls = this.byCaller.get(session);
    for (const p of calls ? [...calls.values()] : []) {
      const callee = p.callee;
      const invocation = p.invocation;
      const remote = p.remote;
      if (!this.finish(p)) continue;
      if (callee && callee.session !== session && !p.interrupted && (!callee.session || supportsCanceling(callee.session))) {
        this.interrupt(callee, invocation, remote, 'killnowait', ErrorUri.canceled);
      } else {
        remote?.cancel('skip');
      }
      this.drain(p.registration);
    }
    this.endedStreams.delete(session);
    // As callee: every call in flight to it fails at once.
    const invoked = this.byCallee.get(session);
    for (const p of invoked ? invoked.toArray() : []) {
      if (!this.finish(p)) continue;
      p.answer.error(p, ErrorUri.canceled, ['callee left before answering'], undefined, {});
    }
    this.byCaller.delete(session);
    this.byCallee.delete(session);
  }

  /** Sends queued calls to callees that have capacity again. */
  private drain(reg: Registration): void {
    const queue = this.queues.get(reg);
    while (queue && queue.length > 0) {
      const callee = reg.pick();
      if (!callee) return;
      this.dispatch(queue.shift()!, callee);
    }
    if (queue && this.queues.get(reg) === queue) this.queues.delete(reg);
  }

  /**
   * Removes every trace of a call; the single exit of every terminal path. Returns false when
   * the call had already ended, so the caller of `finish` must not answer it again.
   */
  private finish(p: PendingCall): boolean {
    if (p.done) return false;
    p.done = true;
    if (p.caller) {
      if (p.started !== 0) this.counters?.callEnded(p.started);
      // A session's table stays while it lives (removeSession drops it): no new table per call.
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
}

function supportsCanceling(s: Session): boolean {
  return s.supports('callee', 'call_canceling');
}

function streams(s: Session): boolean {
  return s.supports('callee', 'progressive_call_invocations') && supportsCanceling(s);
}

function refuseCall(session: Session, m: Call, error: string, message: string): void {
  session.sendError(T.CALL, m.request, error, [message]);
}
