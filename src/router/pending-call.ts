/**
 * A call in flight through this node's dealer, and where its answers go: to a local caller
 * session (RESULT / ERROR frames) or back to the caller's node over the backplane.
 */
import type { CallHandle, ReplyPort } from '../backplane/backplane.js';
import { MessageType as T } from '../wamp/codes.js';
import type { Args, Call, Dict, Kwargs, Payload } from '../wamp/messages.js';
import type { ForwardHop } from '../wamp/forward-for.js';
import type { CallList } from './call-list.js';
import type { Callee, Registration } from './registration.js';
import type { Session } from './session.js';

/** Where the answers of a call go; `payload` is the callee's encoded args/kwargs, when known. */
export interface CallerEnd {
  progress(p: PendingCall, args: Args, kwargs: Kwargs, payload?: Payload): void;
  result(p: PendingCall, args: Args, kwargs: Kwargs, payload?: Payload): void;
  error(p: PendingCall, uri: string, args: Args, kwargs: Kwargs, details: Dict, payload?: Payload): void;
}

const NO_DETAILS: Dict = Object.freeze({});
const PROGRESS: Dict = Object.freeze({ progress: true });

/** Answers the call's caller session on this node with RESULT and ERROR (one object for every call). */
export const LOCAL_CALLER: CallerEnd = {
  progress(p, args, kwargs, payload) {
    p.caller!.sendPayload([T.RESULT, p.request, PROGRESS], args, kwargs, payload);
  },
  result(p, args, kwargs, payload) {
    p.caller!.sendPayload([T.RESULT, p.request, NO_DETAILS], args, kwargs, payload);
  },
  error(p, uri, args, kwargs, details, payload) {
    p.caller!.sendPayload([T.ERROR, T.CALL, p.request, details, uri], args, kwargs, payload);
  },
};

/** Answers a caller on another node through the backplane. */
export function remoteCaller(port: ReplyPort): CallerEnd {
  return {
    progress: (_p, args, kwargs) => port.progress(args, kwargs),
    result: (_p, args, kwargs) => port.result(args, kwargs),
    error: (_p, uri, args, kwargs, details) => port.error(uri, args, kwargs, details),
  };
}

export interface PendingCall {
  /** The local caller session; undefined when the call came from another node. */
  readonly caller: Session | undefined;
  readonly request: number;
  readonly answer: CallerEnd;
  readonly procedure: string;
  /** Kept for a dispatch to another node (which may be retried); dropped once a local callee has them. */
  args: Args;
  kwargs: Kwargs;
  /** The CALL's encoded args/kwargs, for its first INVOCATION only if that is sent at once (see Payload). */
  payload: Payload;
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
  call: Pick<Call, 'procedure' | 'args' | 'kwargs' | 'payload'> & { options: { receiveProgress: boolean; timeout: number; progress: boolean } },
  registration: Registration, details: Dict,
): PendingCall {
  return {
    caller, request, answer, procedure: call.procedure, args: call.args, kwargs: call.kwargs, payload: call.payload,
    receiveProgress: call.options.receiveProgress, timeoutMs: call.options.timeout, registration, details,
    invocation: 0, callee: undefined, remote: undefined, tried: undefined, timer: undefined,
    streaming: call.options.progress, interrupted: false, disclose: false, waited: false, done: false, started: 0,
    list: undefined, prev: undefined, next: undefined,
  };
}
