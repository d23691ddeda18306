/**
 * A call in flight through this node's dealer, and where its answers go: to a local caller
 * session (RESULT / ERROR frames) or back to the caller's node over the backplane.
 */
import type { CallHandle, ReplyPort } from '../backplane/backplane.js';
import { MessageType as T } from '../wamp/codes.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Content, Dict } from '../wamp/messages.js';
import type { ForwardHop } from '../wamp/forward-for.js';
import type { CallList } from './call-list.js';
import type { Callee, Registration } from './registration.js';
import type { Session } from './session.js';

/** Where the answers of a call go; an answer's content carries the callee's own bytes when known. */
export interface CallerEnd {
  progress(p: PendingCall, answer: Content): void;
  result(p: PendingCall, answer: Content): void;
  error(p: PendingCall, uri: string, answer: Content, details: Dict): void;
}

const NO_DETAILS: Dict = Object.freeze({});
const PROGRESS: Dict = Object.freeze({ progress: true });

/** Answers the call's caller session on this node with RESULT and ERROR (one object for every call). */
export const LOCAL_CALLER: CallerEnd = {
  progress(p, answer) {
    p.caller!.sendContent([T.RESULT, p.request, answer.ppt ? { ...answer.ppt, progress: true } : PROGRESS], answer);
  },
  result(p, answer) {
    // A transparent payload's options (wamp/transparency.ts) go to RESULT.Details.
    if (p.caller!.sendContent([T.RESULT, p.request, answer.ppt ?? NO_DETAILS], answer)) return;
    p.caller!.sendError(T.CALL, p.request, ErrorUri.internalError, ['the callee\'s result could not be decoded']);
  },
  error(p, uri, answer, details) {
    if (p.caller!.sendContent([T.ERROR, T.CALL, p.request, details, uri], answer)) return;
    p.caller!.sendError(T.CALL, p.request, uri, ['the callee\'s error arguments could not be decoded'], undefined, details);
  },
};

/** Answers a caller on another node through the backplane. */
export function remoteCaller(port: ReplyPort): CallerEnd {
  return {
    progress: (_p, answer) => port.progress(answer),
    result: (_p, answer) => port.result(answer),
    error: (_p, uri, answer, details) => port.error(uri, answer, details),
  };
}

export interface PendingCall {
  /** The local caller session; undefined when the call came from another node. */
  readonly caller: Session | undefined;
  readonly request: number;
  readonly answer: CallerEnd;
  readonly procedure: string;
  /**
   * The CALL's Arguments|ArgumentsKw: kept for a dispatch to another node (which may be retried),
   * dropped once a local callee has them. Its bytes (a view of the CALL's read buffer, or what
   * another node sent) serve the first INVOCATION only if that is sent at once; a call that waits
   * or may be sent again keeps the values (`detached`).
   */
  content: Content;
  readonly receiveProgress: boolean;
  readonly timeoutMs: number;
  /** The registration the call is routed by (it may change when a stale route is refreshed). */
  registration: Registration;
  /** INVOCATION.Details, including caller disclosure; progressive chunks reuse them. */
  details: Dict;
  /** INVOCATION.Request at a local callee; 0 while queued or when the callee is remote. */
  invocation: number;
  callee: Callee | undefined;
  /** The invocation at a callee on another node. */
  remote: CallHandle | undefined;
  /** Callees a rerouted call already failed on (undelivered). */
  tried: Set<Callee> | undefined;
  timer: NodeJS.Timeout | undefined;
  /** A progressive call invocation whose final chunk has not arrived yet. */
  streaming: boolean;
  /** INTERRUPT already sent (cancel kill), so a later timeout does not send another. */
  interrupted: boolean;
  /** Disclose the caller to the callee (disclose_me or the role's disclose.caller). */
  disclose: boolean;
  /** The rlink hops of a forwarded call (CALL.Options.forward_for). */
  forwardFor?: readonly ForwardHop[];
  /** The call waited in the queue for a callee with spare concurrency. */
  waited: boolean;
  done: boolean;
  /** When the call started (performance.now()), for the latency histogram; 0 when not measured. */
  started: number;
  /** The local callee's list of calls in flight this call is on, and its neighbours there. */
  list: CallList | undefined;
  prev: PendingCall | undefined;
  next: PendingCall | undefined;
}

export function newPendingCall(
  caller: Session | undefined, request: number, answer: CallerEnd,
  procedure: string, content: Content, options: { receiveProgress: boolean; timeout: number; progress: boolean },
  registration: Registration, details: Dict,
): PendingCall {
  return {
    caller, request, answer, procedure, content,
    receiveProgress: options.receiveProgress, timeoutMs: options.timeout, registration, details,
    invocation: 0, callee: undefined, remote: undefined, tried: undefined, timer: undefined,
    streaming: options.progress, interrupted: false, disclose: false, waited: false, done: false, started: 0,
    list: undefined, prev: undefined, next: undefined,
  };
}
