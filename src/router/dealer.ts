/**
 * The dealer: REGISTER / UNREGISTER / CALL → INVOCATION → YIELD | ERROR → RESULT | ERROR, with
 * shared and pattern registrations, progressive results and invocations, caller disclosure,
 * timeouts, cancellation and per-callee concurrency limits — across the nodes of a cluster.
 *
 * Registrations live in the backplane's registry (cluster-wide order and uniqueness); this dealer
 * mirrors them and routes each call to a local callee directly or to a remote one through
 * `Backplane.invoke`. This file routes calls and ends them; its parts:
 * - registrar.ts: REGISTER, UNREGISTER, the mirror of the registry, revocation;
 * - registration-table.ts: the mirrored registrations and the REGISTERs in progress;
 * - pending-calls.ts: the calls in flight, their indexes and the queue per registration;
 * - remote-calls.ts: invocations from other nodes, answers from callees on other nodes.
 *
 * Guarantee: every CALL from a live caller gets exactly one final RESULT or ERROR, and every
 * pending entry is removed on that terminal event: `PendingCalls.finish` is the single exit and answers
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
import type { Backplane, CallHandle, ClusterReg, RemoteInvocation, ReplyPort } from '../backplane/backplane.js';
import type { CallCounters } from '../stats/realm-counters.js';
import { MessageType as T } from '../wamp/codes.js';
import { ErrorUri } from '../wamp/errors.js';
import { forwardForOf, type ForwardHop } from '../wamp/forward-for.js';
import {
  type Call, type Cancel, type CancelMode, type Content, detached, type Dict, type ErrorMessage, NO_CONTENT, type Register, textContent, type Unregister,
  type Yield,
} from '../wamp/messages.js';
import { ownedPayload } from '../wamp/payload.js';
import type { MatchPolicy } from '../wamp/uri.js';
import { CallLookups, MAX_WAITING_CHUNKS, type WaitingCall } from './call-lookups.js';
import { LOCAL_CALLER, newPendingCall, type PendingCall } from './pending-call.js';
import { PendingCalls } from './pending-calls.js';
import type { Callee, Registration } from './registration.js';
import { Registrar } from './registrar.js';
import { RegistrationTable } from './registration-table.js';
import { type CallRouter, RemoteCalls, streams, supportsCanceling } from './remote-calls.js';
import type { Session } from './session.js';
import { LimitKey } from './session-limits.js';

/** Procedures the router answers itself (the meta API): consulted before any registration. */
export interface InternalProcedures {
  handles(procedure: string): boolean;
  call(session: Session, m: Call): void;
}

/** Who hears of callees coming and going (registration meta events); calls come after the reply. */
export interface DealerHooks {
  /** `created`: the session is the registration's first callee. */
  registered(session: Session, reg: Registration, created: boolean): void;
  /**
   * `deleted`: whether the registration has no callee left anywhere in the cluster (this removal
   * took the last): at once on one node, a promise in a cluster.
   */
  unregistered(session: Session, reg: Registration, deleted: boolean | Promise<boolean>): void;
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

export interface DealerOptions {
  /** Calls that may wait per registration when every callee is at its concurrency limit. */
  readonly queueLimit?: number;
}

export class Dealer {
  private readonly table: RegistrationTable;
  private readonly calls = new PendingCalls();
  private readonly lookups = new CallLookups();
  private readonly remote: RemoteCalls;
  private readonly registrar: Registrar;
  private readonly queueLimit: number;
  /** Sends a queued call to the callee that has room for it (one function for every drain). */
  private readonly send = (p: PendingCall, callee: Callee) => this.dispatch(p, callee);
  /** The meta API; undefined until the realm sets it. */
  internal: InternalProcedures | undefined;
  hooks: DealerHooks | undefined;

  constructor(
    private readonly realm: string,
    private readonly authorizer: Authorizer,
    private readonly backplane: Backplane,
    sessions: ReadonlyMap<number, Session>,
    log: Logger,
    options: DealerOptions = {},
  ) {
    this.queueLimit = options.queueLimit ?? QUEUE_LIMIT;
    this.table = new RegistrationTable(backplane.nodeId, sessions);
    const router: CallRouter = {
      dispatch: (p, callee) => this.dispatch(p, callee),
      forwardChunk: (p, content, more) => this.forwardChunk(p, content, more),
      stop: (p, mode, error, message) => this.stop(p, mode, error, message),
      fail: (p, why) => this.fail(p, why),
      drain: (p) => this.drainRegistration(p.registration),
    };
    this.remote = new RemoteCalls(realm, backplane, this.table, this.calls, router);
    this.registrar = new Registrar(realm, authorizer, backplane, this.table, this.calls, () => this.hooks, (reg) => this.drainRegistration(reg), log);
  }

  /** Statistics (plain counters); undefined when statistics are off. */
  get counters(): CallCounters | undefined {
    return this.calls.counters;
  }

  set counters(c: CallCounters | undefined) {
    this.calls.counters = c;
  }

  get registrationCount(): number {
    return this.table.size;
  }

  registration(id: number): Registration | undefined {
    return this.table.byRegistrationId(id);
  }

  registrations(): IterableIterator<Registration> {
    return this.table.all();
  }

  /** The registration under exactly (uri, match), if it has callees (wamp.registration.lookup). */
  lookup(uri: string, match: MatchPolicy): Registration | undefined {
    const reg = this.table.get(uri, match);
    return reg && reg.callees.length > 0 ? reg : undefined;
  }

  /** The registration a call to `procedure` is routed by (wamp.registration.match). */
  bestMatch(procedure: string): Registration | undefined {
    const reg = this.table.best(procedure);
    return reg && reg.callees.length > 0 ? reg : undefined;
  }

  /** Sessions holding a pending-call table (as caller or callee); 0 once every session has left. */
  get sessionTables(): number {
    return this.calls.sessionTables;
  }

  /** Sizes of every pending-call table; all zero when no call is in flight. */
  pendingState(): { invocations: number; callers: number; callees: number; queued: number; remote: number } {
    return this.calls.state();
  }

  /** How many calls `session` has in flight as caller. */
  callsInFlight(session: Session): number {
    return this.calls.inFlight(session);
  }

  register(session: Session, m: Register): void {
    this.registrar.register(session, m);
  }

  unregister(session: Session, m: Unregister): void {
    this.registrar.unregister(session, m);
  }

  /** The registry changed (here or on another node). */
  registryChanged(uri: string, match: MatchPolicy, cr: ClusterReg | undefined): void {
    this.registrar.registryChanged(uri, match, cr);
  }

  /** Registration revocation: this node's callees of `reg` are removed and told `reason`. */
  revoke(reg: Registration, reason: string): void {
    this.registrar.revoke(reg, reason);
  }

  // ---- calls ----------------------------------------------------------------------------

  call(session: Session, m: Call): void {
    const existing = this.calls.ofCaller(session, m.request);
    if (existing) return this.chunk(existing, m);
    const waiting = this.lookups.get(session, m.request);
    if (waiting) return this.holdChunk(session, waiting, m);
    if (this.calls.isLateChunk(session, m.request, !m.options.progress)) return;
    const maxCalls = session.limits.maxCalls;
    if (maxCalls !== undefined && this.calls.inFlight(session) >= maxCalls) {
      return session.refuseOverLimit(T.CALL, m.request, LimitKey.calls, maxCalls, 'this session has the most calls in flight it may have');
    }
    const decision = this.authorizer.authorize(session.authrole, m.procedure, 'call');
    if (!decision.allow) return refuseCall(session, m, ErrorUri.notAuthorized, `session is not authorized to call procedure "${m.procedure}"`);
    // Meta procedures obey authorization like any other URI, then the router answers them.
    if (this.internal?.handles(m.procedure)) return this.internal.call(session, m);
    const reg = this.table.best(m.procedure);
    if (!reg || reg.callees.length === 0) {
      // This node's view of the registry may be an instant behind another node's REGISTER.
      this.lookups.start(session, m.request);
      const payload = m.payload && ownedPayload(m.payload);
      void this.backplane.refresh(this.realm, m.procedure, 'exact').then(() => {
        const w = this.lookups.finish(session, m.request);
        if (!w || !session.isOpen) return;
        if (w.canceled) return refuseCall(session, m, ErrorUri.canceled, 'call canceled by the caller');
        const now = this.table.best(m.procedure);
        if (!now || now.callees.length === 0) return refuseCall(session, m, ErrorUri.noSuchProcedure, `no procedure "${m.procedure}" is registered`);
        this.route(session, { ...m, payload }, now, decision.disclose);
        // The chunks follow a routed call (or its late-chunk watch); a refused call takes them with it.
        if (this.calls.ofCaller(session, m.request)) for (const c of w.chunks) this.call(session, c);
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
    if (!callee && this.calls.queued(reg) >= this.queueLimit) {
      return refuseCall(session, m, ErrorUri.maxConcurrencyReached, `every callee of "${reg.uri}" is at its concurrency limit and ${this.queueLimit} calls are waiting`);
    }
    let details = NO_DETAILS;
    if (reg.match !== 'exact' || m.options.receiveProgress || m.ppt) {
      details = { ...m.ppt };
      if (reg.match !== 'exact') details.procedure = m.procedure;
      if (m.options.receiveProgress) details.receive_progress = true;
    }
    const forwardFor = m.rawOptions.forward_for === undefined ? undefined : forwardForOf(m.rawOptions);
    if (typeof forwardFor === 'string') return refuseCall(session, m, ErrorUri.invalidArgument, forwardFor);
    const p = newPendingCall(session, m.request, LOCAL_CALLER, m.procedure, m, m.options, reg, details);
    p.disclose = m.options.discloseMe || roleDisclose;
    if (forwardFor) p.forwardFor = forwardFor;
    this.calls.addCall(p);
    if (m.options.timeout > 0) {
      // Node fires a delay above 2^31-1 ms at once; a timeout that long means "none" in practice.
      p.timer = setTimeout(() => this.expire(p), Math.min(m.options.timeout, MAX_TIMER_MS));
      p.timer.unref();
    }
    if (callee) return this.dispatch(p, callee);
    this.calls.enqueue(reg, p);
  }

  /** A call from another node to one of this node's callees. */
  remoteInvocation(inv: RemoteInvocation, port: ReplyPort): CallHandle {
    return this.remote.invocation(inv, port);
  }

  /** Sends the INVOCATION of a call to the chosen callee, here or on its node. */
  private dispatch(p: PendingCall, callee: Callee): void {
    p.callee = callee;
    callee.inflight++;
    const details = p.caller && (p.disclose || callee.discloseCaller) ? disclosed(p.details, p.caller, p.forwardFor) : p.details;
    p.details = details;
    const first = p.streaming ? { ...details, progress: true } : details;
    const session = callee.session;
    // The encoded payload may be a view of the CALL's read buffer: used only by a dispatch made at once.
    const content = p.content;
    if (!session) {
      // The callee's node gets the caller's bytes; a reroute (undelivered) sends the values again.
      const inv: RemoteInvocation = {
        realm: this.realm, procedure: p.procedure, regId: p.registration.id, callee: callee.sessionId,
        details: first, args: content.args, kwargs: content.kwargs, payload: content.payload,
      };
      p.content = detached(content);
      p.remote = this.backplane.invoke(callee.node, inv, this.remote.sinkFor(p, callee));
      return;
    }
    const invocation = this.calls.invoked(p, session);
    // A local invocation is never sent again: the call need not keep its arguments alive.
    p.content = NO_CONTENT;
    if (!session.sendContent([T.INVOCATION, invocation, p.registration.id, first], content)) this.undecodable(p);
  }

  /** Arguments from another node that do not decode for the callee's serializer: the call fails, the callee never hears of it. */
  private undecodable(p: PendingCall): void {
    if (!this.calls.finish(p)) return;
    p.answer.error(p, ErrorUri.invalidArgument, textContent('the call\'s arguments could not be decoded on the callee\'s node'), {});
    this.drainRegistration(p.registration);
  }

  private fail(p: PendingCall, why: 'gone' | 'busy'): void {
    if (!this.calls.finish(p)) return;
    if (why === 'busy') p.answer.error(p, ErrorUri.maxConcurrencyReached, textContent(`every callee of "${p.registration.uri}" is at its concurrency limit`), {});
    // Every callee tried had left (this node had not yet heard): the procedure is gone — for a
    // call that waited, as when the registration goes while it waits.
    else if (p.waited) p.answer.error(p, ErrorUri.canceled, textContent(`procedure "${p.registration.uri}" was unregistered while the call waited`), {});
    else p.answer.error(p, ErrorUri.noSuchProcedure, textContent(`no procedure "${p.procedure}" is registered any more`), {});
  }

  /** A further CALL under a request that waits for a registry lookup waits behind it. */
  private holdChunk(session: Session, w: WaitingCall, m: Call): void {
    if (w.chunks.length >= MAX_WAITING_CHUNKS) {
      return session.abort(ErrorUri.protocolViolation, `CALL request ${m.request} sent more than ${MAX_WAITING_CHUNKS} chunks before it could be routed`);
    }
    w.chunks.push({ ...m, payload: m.payload && ownedPayload(m.payload) });
  }

  /** A further CALL of a progressive call invocation goes to the same INVOCATION. */
  private chunk(p: PendingCall, m: Call): void {
    if (!p.streaming || !p.callee) {
      // Reusing the ID of a call in flight: no ERROR can answer it without also ending that call.
      return p.caller?.abort(ErrorUri.protocolViolation, `CALL request ${m.request} is already in flight and is not a progressive call invocation`);
    }
    this.forwardChunk(p, m, m.options.progress);
  }

  /** `content` may be a view of a read buffer: it is sent at once, never kept. */
  private forwardChunk(p: PendingCall, content: Content, more: boolean): void {
    if (p.done || !p.callee || !p.streaming) return;
    p.streaming = more;
    const session = p.callee.session;
    if (!session) return p.remote?.chunk(content, !more);
    const details: Dict = more ? { ...p.details, progress: true } : p.details;
    if (!session.sendContent([T.INVOCATION, p.invocation, p.registration.id, details], content)) {
      this.stop(p, 'killnowait', ErrorUri.invalidArgument, 'a chunk\'s arguments could not be decoded on the callee\'s node');
    }
  }

  yieldResult(session: Session, m: Yield): void {
    const p = this.calls.ofInvocation(m.request);
    // A late answer (after cancel, timeout or the caller leaving) is dropped.
    if (!p || p.callee?.session !== session) return;
    if (m.progress) {
      if (p.receiveProgress) p.answer.progress(p, m);
      return;
    }
    if (!this.calls.finish(p)) return;
    p.answer.result(p, m);
    this.drainRegistration(p.registration);
  }

  invocationError(session: Session, m: ErrorMessage): void {
    const p = this.calls.ofInvocation(m.request);
    if (!p || p.callee?.session !== session) return;
    if (!this.calls.finish(p)) return;
    // Application errors pass through unchanged: URI, Arguments, ArgumentsKw and Details.
    p.answer.error(p, m.error, m, m.details);
    this.drainRegistration(p.registration);
  }

  cancel(session: Session, m: Cancel): void {
    const p = this.calls.ofCaller(session, m.request);
    if (!p) {
      const w = this.lookups.get(session, m.request);
      if (w) w.canceled = true; // answered when the lookup ends
      return; // already answered: nothing to cancel
    }
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
    if (!this.calls.finish(p)) return;
    p.answer.error(p, error, textContent(message), {});
    if (interrupt) this.interrupt(callee!, invocation, remote, 'killnowait', error);
    else remote?.cancel('skip');
    this.drainRegistration(p.registration);
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
    this.registrar.removeCallee(session);
    // As caller: nobody is left to answer; the callee is told to stop (killnowait, as
    // ap_10_rpc_progressive_call_invocations.md requires for a caller that left).
    for (const p of this.calls.asCaller(session)) {
      const callee = p.callee;
      const invocation = p.invocation;
      const remote = p.remote;
      if (!this.calls.finish(p)) continue;
      if (callee && callee.session !== session && !p.interrupted && (!callee.session || supportsCanceling(callee.session))) {
        this.interrupt(callee, invocation, remote, 'killnowait', ErrorUri.canceled);
      } else {
        remote?.cancel('skip');
      }
      this.drainRegistration(p.registration);
    }
    // As callee: every call in flight to it fails at once.
    for (const p of this.calls.asCallee(session)) {
      if (!this.calls.finish(p)) continue;
      p.answer.error(p, ErrorUri.canceled, textContent('callee left before answering'), {});
    }
    this.calls.forget(session);
    this.lookups.forget(session);
  }

  /** Sends queued calls to callees that have capacity again. */
  private drainRegistration(reg: Registration): void {
    this.calls.drain(reg, this.send);
  }
}

/** INVOCATION.Details naming the caller; a call forwarded by an rlink names its first hop, as Crossbar.io does. */
function disclosed(details: Dict, caller: Session, forwardFor: readonly ForwardHop[] | undefined): Dict {
  if (!forwardFor) return { ...details, caller: caller.id, caller_authid: caller.authid, caller_authrole: caller.authrole };
  const first = forwardFor[0]!;
  return {
    ...details, caller: first.session, caller_authid: first.authid, caller_authrole: first.authrole,
    forward_for: [...forwardFor, { session: caller.id, authid: caller.authid, authrole: caller.authrole }],
  };
}

function refuseCall(session: Session, m: Call, error: string, message: string): void {
  session.sendError(T.CALL, m.request, error, [message]);
}
