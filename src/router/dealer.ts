/**
 * The dealer: REGISTER / UNREGISTER / CALL → INVOCATION → YIELD | ERROR → RESULT | ERROR, with
 * shared registrations, pattern registrations, progressive results and invocations, caller
 * disclosure, timeouts, cancellation and per-callee concurrency limits.
 *
 * Guarantee: every CALL from a live caller gets exactly one final RESULT or ERROR, and every
 * pending entry is removed on that terminal event: `finish` is the single exit and answers
 * "was it still pending?", so no path can answer twice, even when a send closes a connection
 * and re-enters the dealer. Nothing waits forever: a call waits only for a live callee, for a
 * bounded queue slot, or until its timeout.
 *
 * Concurrency: a call goes to a callee with spare capacity chosen by the invoke policy; if every
 * callee is at its limit the call waits in a FIFO queue of at most `queueLimit` calls per
 * registration, and beyond that fails with `crossbar.error.max_concurrency_reached`.
 *
 * Timeout (advanced/ap_rpc_call_timeout.md): the dealer runs the timer, cancels like CANCEL
 * killnowait (skip if the callee lacks call_canceling) and answers `wamp.error.timeout`.
 */
import type { Logger } from 'pino';
import type { Authorizer } from '../auth/authorizer.js';
import { MessageType as T } from '../wamp/codes.js';
import { ErrorUri } from '../wamp/errors.js';
import { IdSequence } from '../wamp/ids.js';
import type {
  Call, Cancel, CancelMode, Dict, ErrorMessage, Register, Unregister, Yield,
} from '../wamp/messages.js';
import { isReservedUri } from '../wamp/uri.js';
import { MatchIndex } from './match/match-index.js';
import { type Callee, Registration } from './registration.js';
import type { Session } from './session.js';
import { stableId } from '../backplane/stable-id.js';

/** Default bound of the queue of calls waiting for a callee with spare concurrency, per registration. */
export const QUEUE_LIMIT = 1000;
export const MAX_CONCURRENCY_REACHED = 'crossbar.error.max_concurrency_reached';
/**
 * CANCEL without Options.mode (the spec names no default): the caller is answered at once and a
 * callee that can be interrupted is told to stop, so neither side keeps work for a call nobody awaits.
 */
export const DEFAULT_CANCEL_MODE: CancelMode = 'killnowait';

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DealerOptions {
  /** Calls that may wait per registration when every callee is at its concurrency limit. */
  readonly queueLimit?: number;
}

interface PendingCall {
  readonly caller: Session;
  readonly request: number;
  readonly call: Call;
  readonly registration: Registration;
  /** INVOCATION.Request; 0 while queued. */
  invocation: number;
  callee: Callee | undefined;
  /** INVOCATION.Details of the initiating CALL; progressive chunks reuse them (options are frozen). */
  details: Dict;
  timer: NodeJS.Timeout | undefined;
  /** A progressive call invocation whose final chunk has not arrived yet. */
  streaming: boolean;
  /** INTERRUPT already sent (cancel kill), so a later timeout does not send another. */
  interrupted: boolean;
}

export class Dealer {
  private readonly index = new MatchIndex<Registration>();
  private readonly byId = new Map<number, Registration>();
  /** Registrations each session is a callee of, so a leaving session costs ∝ its own registrations. */
  private readonly bySession = new Map<Session, Set<Registration>>();
  private readonly invocationIds = new IdSequence();
  private readonly byInvocation = new Map<number, PendingCall>();
  private readonly byCaller = new Map<Session, Map<number, PendingCall>>();
  private readonly byCallee = new Map<Session, Set<PendingCall>>();
  private readonly queues = new Map<Registration, PendingCall[]>();
  /**
   * Progressive call invocations that ended (answered, canceled, timed out, callee gone) before
   * the caller's final chunk: chunks still on their way are dropped, not taken for new calls.
   * An entry goes with the caller's final chunk or with the caller.
   */
  private readonly endedStreams = new Map<Session, Set<number>>();
  private readonly queueLimit: number;

  constructor(
    private readonly realm: string,
    private readonly authorizer: Authorizer,
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

  /** Sizes of every pending-call table; all zero when no call is in flight. */
  pendingState(): { invocations: number; callers: number; callees: number; queued: number } {
    let queued = 0;
    for (const q of this.queues.values()) queued += q.length;
    return { invocations: this.byInvocation.size, callers: this.byCaller.size, callees: this.byCallee.size, queued };
  }

  register(session: Session, m: Register): void {
    const { procedure, options } = m;
    const refuse = (error: string, message: string) => session.sendError(T.REGISTER, m.request, error, [message]);
    // Crossbar.io answers invalid_uri for a restricted procedure URI.
    if (isReservedUri(procedure)) return refuse(ErrorUri.invalidUri, `procedure "${procedure}" is reserved for the router (wamp.*)`);
    if (!this.authorizer.authorize(session.authrole, procedure, 'register').allow) {
      return refuse(ErrorUri.notAuthorized, `session is not authorized to register procedure "${procedure}"`);
    }
    let reg = this.index.get(procedure, options.match);
    if (reg) {
      if (options.forceReregister) {
        this.revoke(reg, `procedure "${procedure}" was re-registered by session ${session.id} with force_reregister`);
        reg = undefined;
      } else if (reg.calleeOf(session)) {
        return refuse(ErrorUri.procedureAlreadyExists, `procedure "${procedure}" is already registered by this session`);
      } else if (reg.invoke === 'single' || options.invoke === 'single') {
        return refuse(ErrorUri.procedureAlreadyExists, `procedure "${procedure}" is already registered`);
      } else if (reg.invoke !== options.invoke) {
        // Crossbar.io says procedure_exists_with_different_invocation_policy; the issue and the
        // spec's generic error ask for procedure_already_exists, with the reason in the message.
        return refuse(
          ErrorUri.procedureAlreadyExists,
          `procedure "${procedure}" is already registered with invoke policy "${reg.invoke}", not "${options.invoke}"`,
        );
      }
    }
    if (!reg) {
      reg = new Registration(this.freeId(procedure, options.match), procedure, options.match, options.invoke);
      this.index.set(procedure, options.match, reg);
      this.byId.set(reg.id, reg);
    }
    reg.callees.push({
      session, registration: reg, concurrency: options.concurrency, discloseCaller: options.discloseCaller, inflight: 0,
    });
    let regs = this.bySession.get(session);
    if (!regs) this.bySession.set(session, (regs = new Set()));
    regs.add(reg);
    session.send({ type: T.REGISTERED, request: m.request, registration: reg.id });
    // A new callee of a shared registration takes waiting calls at once (after its REGISTERED).
    this.drain(reg);
  }

  unregister(session: Session, m: Unregister): void {
    const reg = this.byId.get(m.registration);
    if (!reg || !this.removeCallee(reg, session)) {
      return session.sendError(T.UNREGISTER, m.request, ErrorUri.noSuchRegistration, [
        `session has no registration ${m.registration}`,
      ]);
    }
    // Invocations already sent stay valid: the callee may still answer them.
    session.send({ type: T.UNREGISTERED, request: m.request });
    this.afterCalleeRemoved(reg);
  }

  call(session: Session, m: Call): void {
    const existing = this.byCaller.get(session)?.get(m.request);
    if (existing) return this.chunk(existing, m);
    const ended = this.endedStreams.get(session);
    if (ended?.has(m.request)) {
      if (!m.options.progress) {
        ended.delete(m.request);
        if (ended.size === 0) this.endedStreams.delete(session);
      }
      return;
    }
    const refuse = (error: string, message: string) => session.sendError(T.CALL, m.request, error, [message]);
    const decision = this.authorizer.authorize(session.authrole, m.procedure, 'call');
    if (!decision.allow) return refuse(ErrorUri.notAuthorized, `session is not authorized to call procedure "${m.procedure}"`);
    const reg = this.index.best(m.procedure)?.value;
    if (!reg || reg.callees.length === 0) return refuse(ErrorUri.noSuchProcedure, `no procedure "${m.procedure}" is registered`);
    const callee = reg.pick();
    if (m.options.progress) {
      // ap_10_rpc_progressive_call_invocations.md: the chunks need one callee that streams
      // (progressive_call_invocations) and can be interrupted (call_canceling); they cannot queue.
      // A caller that did not announce the feature is tolerated (wampy sends progressive CALLs
      // without announcing it).
      if (!callee) return refuse(MAX_CONCURRENCY_REACHED, `every callee of "${reg.uri}" is at its concurrency limit`);
      if (!callee.session.supports('callee', 'progressive_call_invocations') || !supportsCanceling(callee.session)) {
        return refuse(ErrorUri.featureNotSupported, `the callee of "${reg.uri}" does not support progressive call invocations`);
      }
    }
    if (!callee && (this.queues.get(reg)?.length ?? 0) >= this.queueLimit) {
      return refuse(MAX_CONCURRENCY_REACHED, `every callee of "${reg.uri}" is at its concurrency limit and ${this.queueLimit} calls are waiting`);
    }
    const p: PendingCall = {
      caller: session, request: m.request, call: m, registration: reg, invocation: 0, callee: undefined, details: {},
      timer: undefined, streaming: m.options.progress, interrupted: false,
    };
    let calls = this.byCaller.get(session);
    if (!calls) this.byCaller.set(session, (calls = new Map()));
    calls.set(p.request, p);
    if (m.options.timeout > 0) {
      // Node fires a delay above 2^31-1 ms at once; a timeout that long means "none" in practice.
      p.timer = setTimeout(() => this.expire(p), Math.min(m.options.timeout, MAX_TIMER_MS));
      p.timer.unref();
    }
    if (callee) return this.invoke(p, callee, decision.disclose);
    const queue = this.queues.get(reg);
    if (queue) queue.push(p);
    else this.queues.set(reg, [p]);
  }

  /** Sends the INVOCATION of a call to the chosen callee. */
  private invoke(p: PendingCall, callee: Callee, roleDisclose: boolean): void {
    const m = p.call;
    p.callee = callee;
    p.invocation = this.invocationIds.next();
    callee.inflight++;
    this.byInvocation.set(p.invocation, p);
    let set = this.byCallee.get(callee.session);
    if (!set) this.byCallee.set(callee.session, (set = new Set()));
    set.add(p);
    const details: Dict = {};
    if (p.registration.match !== 'exact') details.procedure = m.procedure;
    if (m.options.receiveProgress) details.receive_progress = true;
    if (m.options.discloseMe || roleDisclose || callee.discloseCaller) {
      details.caller = p.caller.id;
      details.caller_authid = p.caller.authid;
      details.caller_authrole = p.caller.authrole;
    }
    p.details = details;
    callee.session.send({
      type: T.INVOCATION, request: p.invocation, registration: p.registration.id,
      details: m.options.progress ? { ...details, progress: true } : details, args: m.args, kwargs: m.kwargs,
    });
  }

  /** A further CALL of a progressive call invocation goes to the same INVOCATION. */
  private chunk(p: PendingCall, m: Call): void {
    if (!p.streaming || !p.callee) {
      // Reusing the ID of a call in flight: no ERROR can answer it without also ending that call.
      return p.caller.abort(ErrorUri.protocolViolation, `CALL request ${m.request} is already in flight and is not a progressive call invocation`);
    }
    p.streaming = m.options.progress;
    const details: Dict = m.options.progress ? { ...p.details, progress: true } : p.details;
    p.callee.session.send({
      type: T.INVOCATION, request: p.invocation, registration: p.registration.id, details, args: m.args, kwargs: m.kwargs,
    });
  }

  yieldResult(session: Session, m: Yield): void {
    const p = this.byInvocation.get(m.request);
    // A late answer (after cancel, timeout or the caller leaving) is dropped.
    if (!p || p.callee?.session !== session) return;
    if (m.progress) {
      if (!p.call.options.receiveProgress) return;
      p.caller.send({ type: T.RESULT, request: p.request, details: { progress: true }, args: m.args, kwargs: m.kwargs });
      return;
    }
    if (!this.finish(p)) return;
    p.caller.send({ type: T.RESULT, request: p.request, details: {}, args: m.args, kwargs: m.kwargs });
    this.drain(p.registration);
  }

  invocationError(session: Session, m: ErrorMessage): void {
    const p = this.byInvocation.get(m.request);
    if (!p || p.callee?.session !== session) return;
    if (!this.finish(p)) return;
    // Application errors pass through unchanged: URI, Arguments, ArgumentsKw and Details.
    p.caller.sendError(T.CALL, p.request, m.error, m.args, m.kwargs, m.details);
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
   * callee's answer (RESULT or ERROR) end the call. A queued call, or a callee without
   * call_canceling, always gets skip.
   */
  private stop(p: PendingCall, mode: CancelMode, error: string, message: string): void {
    const callee = p.callee;
    const invocation = p.invocation;
    const effective: CancelMode = callee === undefined || !supportsCanceling(callee.session) ? 'skip' : mode;
    const interrupt = effective !== 'skip' && !p.interrupted;
    p.interrupted ||= interrupt;
    if (effective === 'kill') {
      if (interrupt) callee!.session.send({ type: T.INTERRUPT, request: invocation, options: { mode: 'kill', reason: error } });
      return;
    }
    if (!this.finish(p)) return;
    p.caller.sendError(T.CALL, p.request, error, [message]);
    if (interrupt) callee!.session.send({ type: T.INTERRUPT, request: invocation, options: { mode: 'killnowait', reason: error } });
    this.drain(p.registration);
  }

  private expire(p: PendingCall): void {
    p.timer = undefined;
    if (!this.isPending(p)) return;
    this.stop(p, 'killnowait', ErrorUri.timeout, `call timed out after ${p.call.options.timeout} ms`);
  }

  removeSession(session: Session): void {
    // Its registrations go first, so no queued call is handed to it while it leaves.
    const regs = this.bySession.get(session);
    this.bySession.delete(session);
    for (const reg of regs ?? []) {
      if (reg.remove(session)) this.afterCalleeRemoved(reg);
    }
    // As caller: nobody is left to answer; the callee is told to stop (killnowait, as
    // ap_10_rpc_progressive_call_invocations.md requires for a caller that left).
    const calls = this.byCaller.get(session);
    for (const p of calls ? [...calls.values()] : []) {
      const callee = p.callee;
      const invocation = p.invocation;
      if (!this.finish(p)) continue;
      if (callee && callee.session !== session && supportsCanceling(callee.session) && !p.interrupted) {
        callee.session.send({ type: T.INTERRUPT, request: invocation, options: { mode: 'killnowait', reason: ErrorUri.canceled } });
      }
      this.drain(p.registration);
    }
    this.endedStreams.delete(session);
    // As callee: every call in flight to it fails at once.
    const invoked = this.byCallee.get(session);
    for (const p of invoked ? [...invoked] : []) {
      if (!this.finish(p)) continue;
      p.caller.sendError(T.CALL, p.request, ErrorUri.canceled, ['callee left before answering']);
    }
  }

  /**
   * Registration revocation: the router removes every callee of `reg`, telling those that
   * announced `registration_revocation` with UNREGISTERED [67, 0, {registration, reason}].
   * Invocations already sent stay valid, as after UNREGISTER.
   */
  revoke(reg: Registration, reason: string): void {
    for (const c of [...reg.callees]) {
      this.removeCallee(reg, c.session);
      if (c.session.supports('callee', 'registration_revocation')) {
        c.session.send({ type: T.UNREGISTERED, request: 0, details: { registration: reg.id, reason } });
      }
    }
    this.afterCalleeRemoved(reg);
  }

  private removeCallee(reg: Registration, session: Session): boolean {
    if (!reg.remove(session)) return false;
    const regs = this.bySession.get(session);
    regs?.delete(reg);
    if (regs?.size === 0) this.bySession.delete(session);
    return true;
  }

  /** A registration without callees is gone, and so are the calls that waited for it. */
  private afterCalleeRemoved(reg: Registration): void {
    if (reg.callees.length > 0) return this.drain(reg);
    if (this.index.get(reg.uri, reg.match) === reg) this.index.delete(reg.uri, reg.match);
    if (this.byId.get(reg.id) === reg) this.byId.delete(reg.id);
    const queue = this.queues.get(reg);
    this.queues.delete(reg);
    for (const p of queue ?? []) {
      if (!this.finish(p)) continue;
      p.caller.sendError(T.CALL, p.request, ErrorUri.canceled, [`procedure "${reg.uri}" was unregistered while the call waited`]);
    }
  }

  /** Sends queued calls to callees that have capacity again. */
  private drain(reg: Registration): void {
    const queue = this.queues.get(reg);
    while (queue && queue.length > 0) {
      const callee = reg.pick();
      if (!callee) return;
      const p = queue.shift()!;
      const disclose = this.authorizer.authorize(p.caller.authrole, p.call.procedure, 'call').disclose;
      this.invoke(p, callee, disclose);
    }
    if (this.queues.get(reg) === queue) this.queues.delete(reg);
  }

  private isPending(p: PendingCall): boolean {
    return this.byCaller.get(p.caller)?.get(p.request) === p;
  }

  /**
   * Removes every trace of a call; the single exit of every terminal path. Returns false when
   * the call had already ended, so the caller of `finish` must not answer it again.
   */
  private finish(p: PendingCall): boolean {
    const calls = this.byCaller.get(p.caller);
    if (calls?.get(p.request) !== p) return false;
    calls.delete(p.request);
    if (calls.size === 0) this.byCaller.delete(p.caller);
    clearTimeout(p.timer);
    p.timer = undefined;
    if (p.streaming && p.caller.isOpen) {
      let ended = this.endedStreams.get(p.caller);
      if (!ended) this.endedStreams.set(p.caller, (ended = new Set()));
      ended.add(p.request);
    }
    const callee = p.callee;
    if (callee) {
      this.byInvocation.delete(p.invocation);
      const set = this.byCallee.get(callee.session);
      set?.delete(p);
      if (set?.size === 0) this.byCallee.delete(callee.session);
      callee.inflight--;
      p.callee = undefined;
    } else {
      const queue = this.queues.get(p.registration);
      const i = queue?.indexOf(p) ?? -1;
      if (i >= 0) queue!.splice(i, 1);
      if (queue?.length === 0) this.queues.delete(p.registration);
    }
    return true;
  }

  private freeId(uri: string, match: string): number {
    let id = stableId(this.realm, match, uri);
    while (this.byId.has(id)) id = (id % 2 ** 53) + 1;
    return id;
  }
}

function supportsCanceling(s: Session): boolean {
  return s.supports('callee', 'call_canceling');
}
