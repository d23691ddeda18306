/**
 * The dealer's side of calls that cross nodes: an invocation from another node for one of this
 * node's callees (`invocation`), and the answers of a callee on another node to a call routed
 * there (`sinkFor`), including the reroute of a call that provably did not reach its callee.
 */
import type { Backplane, CallHandle, RemoteInvocation, ReplyPort, ReplySink } from '../backplane/backplane.js';
import { ErrorUri } from '../wamp/errors.js';
import { type CancelMode, type Content, textContent } from '../wamp/messages.js';
import { newPendingCall, type PendingCall, remoteCaller } from './pending-call.js';
import type { PendingCalls } from './pending-calls.js';
import type { Callee } from './registration.js';
import type { RegistrationTable } from './registration-table.js';
import type { Session } from './session.js';

/** What remote calls need of the dealer. */
export interface CallRouter {
  /** Sends the INVOCATION of a call to `callee`, here or on its node. */
  dispatch(p: PendingCall, callee: Callee): void;
  forwardChunk(p: PendingCall, content: Content, more: boolean): void;
  stop(p: PendingCall, mode: CancelMode, error: string, message: string): void;
  /** Ends a call no callee could take: every one was busy, or gone. */
  fail(p: PendingCall, why: 'gone' | 'busy'): void;
  /** Lets waiting calls of the call's registration go (after a callee answered). */
  drain(p: PendingCall): void;
}

/**
 * How long an invocation for a local callee whose REGISTER is still being made waits for it:
 * the registry may tell another node of it before this one.
 */
const READY_WAIT_MS = 1000;
const NO_HANDLE: CallHandle = { chunk: () => undefined, cancel: () => undefined };

export class RemoteCalls {
  constructor(
    private readonly realm: string,
    private readonly backplane: Backplane,
    private readonly table: RegistrationTable,
    private readonly pending: PendingCalls,
    private readonly router: CallRouter,
  ) {}

  /** A call from another node to one of this node's callees. */
  invocation(inv: RemoteInvocation, port: ReplyPort): CallHandle {
    return this.registering(inv) ? this.whenReady(inv, port) : this.invoke(inv, port);
  }

  private invoke(inv: RemoteInvocation, port: ReplyPort): CallHandle {
    const reg = this.table.byRegistrationId(inv.regId);
    const callee = reg?.callees.find((c) => c.session !== undefined && c.sessionId === inv.callee);
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
      port.error(ErrorUri.featureNotSupported, textContent(`the callee of "${reg.uri}" does not support progressive call invocations`), {});
      return NO_HANDLE;
    }
    const { progress: _chunked, ...details } = inv.details;
    const options = { receiveProgress: details.receive_progress === true, timeout: 0, progress };
    // The invocation is the content: its arguments are decoded from the caller's bytes only if the callee's serializer needs them.
    const p = newPendingCall(undefined, 0, remoteCaller(port), inv.procedure, inv, options, reg, details);
    this.pending.addRemote(p);
    this.router.dispatch(p, callee);
    return {
      chunk: (content, last) => this.router.forwardChunk(p, content, !last),
      cancel: (mode, reason) => this.router.stop(p, mode, reason ?? ErrorUri.canceled, 'call canceled by the caller'),
    };
  }

  /**
   * Whether the invoked callee is a session of this node whose registration is still being made:
   * another node already routes to it (the registry told that node first) while this node has not
   * mirrored it yet or not sent its REGISTERED.
   */
  private registering(inv: RemoteInvocation): boolean {
    const callee = this.table.byRegistrationId(inv.regId)?.callees.find((c) => c.session !== undefined && c.sessionId === inv.callee);
    if (callee) return !callee.ready && callee.session?.isOpen === true;
    return this.table.isRegistering(inv.callee) && this.table.session(inv.callee)?.isOpen === true;
  }

  /**
   * An invocation for a callee whose registration is still being made here waits until it has
   * settled (up to READY_WAIT_MS), so it never overtakes REGISTERED and is not refused as gone
   * meanwhile. Chunks and a cancel that arrive meanwhile are kept for it.
   */
  private whenReady(inv: RemoteInvocation, port: ReplyPort): CallHandle {
    let handle: CallHandle | undefined;
    let canceled = false;
    // Kept as they came: bytes from another node are not a view of a read buffer that is reused.
    const chunks: [Content, boolean][] = [];
    // Waiting ends at the deadline or at a cancel, whichever comes first.
    let over = false;
    let end!: () => void;
    const ended = new Promise<void>((r) => (end = () => {
      over = true;
      r();
    }));
    const timer = setTimeout(end, READY_WAIT_MS);
    void (async () => {
      while (!over && this.registering(inv)) await this.table.settled(inv.callee, ended);
      clearTimeout(timer);
      if (canceled) return port.reject('gone');
      handle = this.invoke(inv, port);
      for (const [content, last] of chunks) handle.chunk(content, last);
    })();
    return {
      chunk: (content, last) => (handle ? handle.chunk(content, last) : void chunks.push([content, last])),
      cancel: (mode, reason) => {
        if (handle) return handle.cancel(mode, reason);
        canceled = true;
        end();
      },
    };
  }

  /** Where the answers of `callee`, on another node, to call `p` go. */
  sinkFor(p: PendingCall, callee: Callee): ReplySink {
    const current = () => !p.done && p.callee === callee;
    return {
      progress: (answer) => {
        if (current() && p.receiveProgress) p.answer.progress(p, answer);
      },
      result: (answer) => {
        if (current() && this.pending.finish(p)) {
          p.answer.result(p, answer);
          this.router.drain(p);
        }
      },
      error: (uri, answer, details) => {
        if (current() && this.pending.finish(p)) {
          p.answer.error(p, uri, answer, details);
          this.router.drain(p);
        }
      },
      undelivered: (why) => {
        if (current()) this.reroute(p, callee, why);
      },
    };
  }

  /** Provably never delivered to `callee`: tries the other callees, each once. */
  private reroute(p: PendingCall, callee: Callee, why: 'gone' | 'busy'): void {
    callee.inflight--;
    p.callee = undefined;
    p.remote = undefined;
    (p.tried ??= new Set()).add(callee);
    const next = p.streaming ? undefined : p.registration.pick(p.tried);
    if (next) return this.router.dispatch(p, next);
    if (why === 'busy' || p.streaming) return this.router.fail(p, why);
    // Every callee had left, and this node's view of the registry was behind: refresh it and
    // route once more by the current registrations (perhaps another pattern now).
    const stale = p.registration;
    void this.backplane.refresh(this.realm, stale.uri, stale.match).then(() => {
      if (p.done || p.callee) return;
      const best = this.table.best(p.procedure);
      const again = best?.pick(p.tried);
      if (!best || !again) return this.router.fail(p, 'gone');
      if (best !== stale) {
        const details = { ...p.details };
        if (best.match === 'exact') delete details.procedure;
        else details.procedure = p.procedure;
        p.registration = best;
        p.details = details;
      }
      this.router.dispatch(p, again);
    });
  }
}

export function supportsCanceling(s: Session): boolean {
  return s.supports('callee', 'call_canceling');
}

/** A callee that takes progressive call invocations (and can be interrupted, as they need). */
export function streams(s: Session): boolean {
  return s.supports('callee', 'progressive_call_invocations') && supportsCanceling(s);
}
