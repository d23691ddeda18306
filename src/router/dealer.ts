/**
 * The dealer: REGISTER / UNREGISTER / CALL → INVOCATION → YIELD | ERROR → RESULT | ERROR, with
 * shared registrations, pattern registrations, progressive results and invocations, caller
 * disclosure, timeouts, cancellation and per-callee concurrency limits.
 *
 * Guarantee: every CALL from a live caller gets exactly one final RESULT or ERROR, and every
 * pending entry is removed on that terminal event (see `finish`); nothing waits forever: a call
 * waits only for a live callee, for a bounded queue slot, or until its timeout.
 *
 * Concurrency: a call goes to a callee with spare capacity chosen by the invoke policy; if every
 * callee is at its limit the call waits in a FIFO queue of at most QUEUE_LIMIT calls per
 * registration, and beyond that fails with `crossbar.error.max_concurrency_reached`.
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
import { stableId } from './stable-id.js';

/** Calls waiting for a callee with spare concurrency, per registration. */
export const QUEUE_LIMIT = 1000;
export const MAX_CONCURRENCY_REACHED = 'crossbar.error.max_concurrency_reached';

interface PendingCall {
  readonly caller: Session;
  readonly request: number;
  readonly call: Call;
  readonly registration: Registration;
  /** INVOCATION.Request; 0 while queued. */
  invocation: number;
  callee: Callee | undefined;
  timer: NodeJS.Timeout | undefined;
  /** A progressive call invocation whose final chunk has not arrived yet. */
  streaming: boolean;
}

export class Dealer {
  private readonly index = new MatchIndex<Registration>();
  private readonly byId = new Map<number, Registration>();
  private readonly invocationIds = new IdSequence();
  private readonly byInvocation = new Map<number, PendingCall>();
  private readonly byCaller = new Map<Session, Map<number, PendingCall>>();
  private readonly byCallee = new Map<Session, Set<PendingCall>>();
  private readonly queues = new Map<Registration, PendingCall[]>();

  constructor(
    private readonly realm: string,
    private readonly authorizer: Authorizer,
    private readonly log: Logger,
  ) {}

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
    if (isReservedUri(procedure)) return refuse(ErrorUri.invalidUri, `procedure "${procedure}" is reserved for the router (wamp.*)`);
    if (!this.authorizer.authorize(session.authrole, procedure, 'register').allow) {
      return refuse(ErrorUri.notAuthorized, `session is not authorized to register procedure "${procedure}"`);
    }
    let reg = this.index.get(procedure, options.match);
    if (reg) {
      if (options.forceReregister) {
        this.revoke(reg, 'wamp.close.force_reregister');
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
    session.send({ type: T.REGISTERED, request: m.request, registration: reg.id });
  }

  unregister(session: Session, m: Unregister): void {
    const reg = this.byId.get(m.registration);
    if (!reg || !reg.remove(session)) {
      return session.sendError(T.UNREGISTER, m.request, ErrorUri.noSuchRegistration, [
        `session has no registration ${m.registration}`,
      ]);
    }
    // Invocations already sent stay valid: the callee may still answer them.
    this.afterCalleeRemoved(reg);
    session.send({ type: T.UNREGISTERED, request: m.request });
  }

  call(session: Session, m: Call): void {
    const existing = this.byCaller.get(session)?.get(m.request);
    if (existing) return this.chunk(existing, m);
    const refuse = (error: string, message: string) => session.sendError(T.CALL, m.request, error, [message]);
    const decision = this.authorizer.authorize(session.authrole, m.procedure, 'call');
    if (!decision.allow) return refuse(ErrorUri.notAuthorized, `session is not authorized to call procedure "${m.procedure}"`);
    const reg = this.index.best(m.procedure)?.value;
    if (!reg || reg.callees.length === 0) return refuse(ErrorUri.noSuchProcedure, `no procedure "${m.procedure}" is registered`);
    const p: PendingCall = {
      caller: session, request: m.request, call: m, registration: reg, invocation: 0, callee: undefined, timer: undefined,
      streaming: m.options.progress,
    };
    const callee = reg.pick();
    if (!callee) {
      const queue = this.queues.get(reg) ?? [];
      if (m.options.progress || queue.length >= QUEUE_LIMIT) {
        return refuse(MAX_CONCURRENCY_REACHED, `every callee of "${reg.uri}" is at its concurrency limit`);
      }
      queue.push(p);
      this.queues.set(reg, queue);
    }
    this.track(p);
    if (m.options.timeout > 0) {
      p.timer = setTimeout(() => this.expire(p), m.options.timeout);
      p.timer.unref();
    }
    if (callee) this.invoke(p, callee, decision.disclose);
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
    if (m.options.progress) details.progress = true;
    if (m.options.discloseMe || roleDisclose || callee.discloseCaller) {
      details.caller = p.caller.id;
      details.caller_authid = p.caller.authid;
      details.caller_authrole = p.caller.authrole;
    }
    callee.session.send({
      type: T.INVOCATION, request: p.invocation, registration: p.registration.id, details, args: m.args, kwargs: m.kwargs,
    });
  }

  /** A further CALL of a progressive call invocation goes to the same INVOCATION. */
  private chunk(p: PendingCall, m: Call): void {
    if (!p.streaming || !p.callee) {
      return p.caller.sendError(T.CALL, m.request, ErrorUri.invalidArgument, [
        `CALL request ${m.request} is already in flight and is not a progressive call invocation`,
      ]);
    }
    p.streaming = m.options.progress;
    const details: Dict = m.options.progress ? { progress: true } : {};
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
    this.finish(p);
    p.caller.send({ type: T.RESULT, request: p.request, details: {}, args: m.args, kwargs: m.kwargs });
  }

  invocationError(session: Session, m: ErrorMessage): void {
    const p = this.byInvocation.get(m.request);
    if (!p || p.callee?.session !== session) return;
    this.finish(p);
    p.caller.sendError(T.CALL, p.request, m.error, m.args, m.kwargs, m.details);
  }

  cancel(session: Session, m: Cancel): void {
    const p = this.byCaller.get(session)?.get(m.request);
    if (!p) return; // already answered
    const mode: CancelMode = m.mode ?? 'killnowait';
    this.stop(p, mode, ErrorUri.canceled, 'call canceled by the caller');
  }

  /** Cancels a pending call in `mode`, answering the caller with `error` unless mode is kill. */
  private stop(p: PendingCall, mode: CancelMode, error: string, message: string): void {
    const callee = p.callee;
    const interruptible = callee !== undefined && supportsCanceling(callee.session);
    const effective: CancelMode = callee === undefined || !interruptible ? 'skip' : mode;
    if (effective !== 'skip') {
      callee!.session.send({ type: T.INTERRUPT, request: p.invocation, options: { mode: effective, reason: error } });
    }
    // kill: the callee's own answer (RESULT or ERROR) goes to the caller when it comes.
    if (effective === 'kill') return;
    this.finish(p);
    p.caller.sendError(T.CALL, p.request, error, [message]);
  }

  private expire(p: PendingCall): void {
    p.timer = undefined;
    if (!this.isPending(p)) return;
    this.stop(p, 'killnowait', ErrorUri.timeout, `call timed out after ${p.call.options.timeout} ms`);
  }

  removeSession(session: Session): void {
    // Its registrations go first, so no queued call is handed to it while it leaves.
    for (const reg of [...this.byId.values()]) {
      if (reg.remove(session)) this.afterCalleeRemoved(reg);
    }
    // As caller: interrupt its invocations; nobody is left to answer.
    const calls = this.byCaller.get(session);
    if (calls) {
      for (const p of [...calls.values()]) {
        if (p.callee && supportsCanceling(p.callee.session)) {
          p.callee.session.send({ type: T.INTERRUPT, request: p.invocation, options: { mode: 'killnowait', reason: ErrorUri.canceled } });
        }
        this.finish(p);
      }
    }
    // As callee: every call in flight to it fails at once.
    const invoked = this.byCallee.get(session);
    if (invoked) {
      for (const p of [...invoked]) {
        this.finish(p);
        p.caller.sendError(T.CALL, p.request, ErrorUri.canceled, ['callee left before answering']);
      }
    }
  }

  /**
   * Registration revocation: the router removes every callee of `reg`, telling those that
   * announced `registration_revocation` with UNREGISTERED [67, 0, {registration, reason}].
   */
  revoke(reg: Registration, reason: string): void {
    for (const c of [...reg.callees]) {
      reg.remove(c.session);
      if (c.session.supports('callee', 'registration_revocation')) {
        c.session.send({ type: T.UNREGISTERED, request: 0, details: { registration: reg.id, reason } });
      }
    }
    this.afterCalleeRemoved(reg);
  }

  private afterCalleeRemoved(reg: Registration): void {
    if (reg.callees.length > 0) return this.drain(reg);
    this.index.delete(reg.uri, reg.match);
    this.byId.delete(reg.id);
    const queue = this.queues.get(reg);
    this.queues.delete(reg);
    for (const p of queue ?? []) {
      this.finish(p);
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
    if (queue) this.queues.delete(reg);
  }

  private track(p: PendingCall): void {
    let calls = this.byCaller.get(p.caller);
    if (!calls) this.byCaller.set(p.caller, (calls = new Map()));
    calls.set(p.request, p);
  }

  private isPending(p: PendingCall): boolean {
    return this.byCaller.get(p.caller)?.get(p.request) === p;
  }

  /** Removes every trace of a call; the single exit of every terminal path. */
  private finish(p: PendingCall): void {
    clearTimeout(p.timer);
    p.timer = undefined;
    const calls = this.byCaller.get(p.caller);
    if (calls?.get(p.request) === p) {
      calls.delete(p.request);
      if (calls.size === 0) this.byCaller.delete(p.caller);
    }
    if (p.callee) {
      this.byInvocation.delete(p.invocation);
      const set = this.byCallee.get(p.callee.session);
      set?.delete(p);
      if (set?.size === 0) this.byCallee.delete(p.callee.session);
      p.callee.inflight--;
      const reg = p.registration;
      p.callee = undefined;
      if (this.queues.has(reg)) this.drain(reg);
    } else {
      const queue = this.queues.get(p.registration);
      const i = queue?.indexOf(p) ?? -1;
      if (i >= 0) queue!.splice(i, 1);
      if (queue?.length === 0) this.queues.delete(p.registration);
    }
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
