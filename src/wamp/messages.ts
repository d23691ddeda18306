/**
 * Typed WAMP messages. Each type is headed by its spec line (basic/messages.md). Arguments and
 * ArgumentsKw are carried untouched; `undefined` means the element was absent.
 */
import type { MatchPolicy } from './uri.js';
import type { EncodedPayload } from './payload.js';
import { MessageType as T } from './codes.js';

export type Dict = Record<string, unknown>;
export type Args = readonly unknown[] | undefined;
export type Kwargs = Readonly<Dict> | undefined;
/**
 * Arguments|ArgumentsKw as they arrived, when the receiving serializer could locate them: sent on
 * to a peer with the same serializer, they are spliced in rather than encoded again. Undefined
 * otherwise; `args`/`kwargs` always hold the decoded values.
 */
export type Payload = EncodedPayload | undefined;

/**
 * Arguments|ArgumentsKw of one message as the router passes them on: the values, and the bytes
 * they came in when known (`payload`). A receiver on the payload's serializer gets the bytes
 * spliced in and never reads `args`/`kwargs`, which may then be decoded only on first read (a
 * payload that crossed from another node). A CALL, YIELD or ERROR is a Content itself.
 */
export interface Content {
  readonly args: Args;
  readonly kwargs: Kwargs;
  readonly payload?: Payload;
  /** Options describing a transparent payload (wamp/transparency.ts), given on in the answer's details. */
  readonly ppt?: Dict;
}

/** The content of an answer the router makes itself: one text argument. */
export function textContent(text: string): Content {
  return { args: [text], kwargs: undefined };
}

/** `c` without its bytes: for content kept past the handling of the message it came in (a view of its read buffer). */
export function detached(c: Content): Content {
  return c.payload === undefined ? c : { args: c.args, kwargs: c.kwargs, ...(c.ppt ? { ppt: c.ppt } : {}) };
}

export const NO_CONTENT: Content = Object.freeze({ args: undefined, kwargs: undefined });

// [HELLO, Realm|uri, Details|dict]
/** `realm` undefined: the client sent null, for the authentication to assign one (as Crossbar.io). */
export interface Hello { readonly type: typeof T.HELLO; readonly realm: string | undefined; readonly details: Dict }
// [WELCOME, Session|id, Details|dict]
export interface Welcome { readonly type: typeof T.WELCOME; readonly session: number; readonly details: Dict }
// [ABORT, Details|dict, Reason|uri]
export interface Abort { readonly type: typeof T.ABORT; readonly details: Dict; readonly reason: string }
// [CHALLENGE, AuthMethod|string, Extra|dict]
export interface Challenge { readonly type: typeof T.CHALLENGE; readonly authMethod: string; readonly extra: Dict }
// [AUTHENTICATE, Signature|string, Extra|dict]
export interface Authenticate { readonly type: typeof T.AUTHENTICATE; readonly signature: string; readonly extra: Dict }
// [GOODBYE, Details|dict, Reason|uri]
export interface Goodbye { readonly type: typeof T.GOODBYE; readonly details: Dict; readonly reason: string }
// [ERROR, REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri, Arguments|list, ArgumentsKw|dict]
export interface ErrorMessage {
  readonly type: typeof T.ERROR; readonly requestType: number; readonly request: number;
  readonly details: Dict; readonly error: string; readonly args: Args; readonly kwargs: Kwargs;
  readonly payload?: Payload; readonly ppt?: Dict;
}

/**
 * Who may receive a publication (advanced/subscriber_blackwhite_listing.md): PUBLISH.Options'
 * exclude/eligible lists by session id, authid and authrole. An absent list restricts nothing.
 */
export interface Receivers {
  readonly exclude?: readonly number[];
  readonly excludeAuthid?: readonly string[];
  readonly excludeAuthrole?: readonly string[];
  readonly eligible?: readonly number[];
  readonly eligibleAuthid?: readonly string[];
  readonly eligibleAuthrole?: readonly string[];
}

export interface PublishOptions {
  readonly acknowledge: boolean;
  /** Spec default: true (the publisher does not receive its own event). */
  readonly excludeMe: boolean;
  /** The exclude/eligible lists; undefined when the PUBLISH has none. */
  readonly receivers: Receivers | undefined;
  readonly discloseMe: boolean;
  readonly retain: boolean;
}
// [PUBLISH, Request|id, Options|dict, Topic|uri, Arguments|list, ArgumentsKw|dict]
export interface Publish {
  readonly type: typeof T.PUBLISH; readonly request: number; readonly options: PublishOptions;
  readonly rawOptions: Dict; readonly topic: string; readonly args: Args; readonly kwargs: Kwargs;
  readonly payload?: Payload; readonly ppt?: Dict;
}
// [PUBLISHED, PUBLISH.Request|id, Publication|id]
export interface Published { readonly type: typeof T.PUBLISHED; readonly request: number; readonly publication: number }

export interface SubscribeOptions { readonly match: MatchPolicy; readonly getRetained: boolean }
// [SUBSCRIBE, Request|id, Options|dict, Topic|uri]
export interface Subscribe {
  readonly type: typeof T.SUBSCRIBE; readonly request: number; readonly options: SubscribeOptions;
  readonly rawOptions: Dict; readonly topic: string;
}
// [SUBSCRIBED, SUBSCRIBE.Request|id, Subscription|id]
export interface Subscribed { readonly type: typeof T.SUBSCRIBED; readonly request: number; readonly subscription: number }
// [UNSUBSCRIBE, Request|id, SUBSCRIBED.Subscription|id]
export interface Unsubscribe { readonly type: typeof T.UNSUBSCRIBE; readonly request: number; readonly subscription: number }
// [UNSUBSCRIBED, UNSUBSCRIBE.Request|id] or, on revocation, [UNSUBSCRIBED, 0, Details|dict]
export interface Unsubscribed { readonly type: typeof T.UNSUBSCRIBED; readonly request: number; readonly details?: Dict }
// [EVENT, SUBSCRIBED.Subscription|id, PUBLISHED.Publication|id, Details|dict, PUBLISH.Arguments|list, PUBLISH.ArgumentKw|dict]
export interface EventMessage {
  readonly type: typeof T.EVENT; readonly subscription: number; readonly publication: number;
  readonly details: Dict; readonly args: Args; readonly kwargs: Kwargs;
}

export type InvokePolicy = 'single' | 'roundrobin' | 'random' | 'first' | 'last';
export type CancelMode = 'skip' | 'kill' | 'killnowait';

export interface CallOptions {
  /** Milliseconds; 0 = none. */
  readonly timeout: number;
  readonly receiveProgress: boolean;
  /** A progressive call invocation chunk (progressive_call_invocations); false = last or only chunk. */
  readonly progress: boolean;
  readonly discloseMe: boolean;
}
// [CALL, Request|id, Options|dict, Procedure|uri, Arguments|list, ArgumentsKw|dict]
export interface Call {
  readonly type: typeof T.CALL; readonly request: number; readonly options: CallOptions;
  readonly rawOptions: Dict; readonly procedure: string; readonly args: Args; readonly kwargs: Kwargs;
  readonly payload?: Payload; readonly ppt?: Dict;
}
// [CANCEL, CALL.Request|id, Options|dict]
export interface Cancel { readonly type: typeof T.CANCEL; readonly request: number; readonly mode: CancelMode | undefined; readonly rawOptions: Dict }
// [RESULT, CALL.Request|id, Details|dict, YIELD.Arguments|list, YIELD.ArgumentsKw|dict]
export interface Result {
  readonly type: typeof T.RESULT; readonly request: number; readonly details: Dict;
  readonly args: Args; readonly kwargs: Kwargs;
}

export interface RegisterOptions {
  readonly match: MatchPolicy;
  readonly invoke: InvokePolicy;
  /** Crossbar.io's per-registration concurrency limit; undefined = unlimited. */
  readonly concurrency?: number;
  readonly discloseCaller: boolean;
  readonly forceReregister: boolean;
}
// [REGISTER, Request|id, Options|dict, Procedure|uri]
export interface Register {
  readonly type: typeof T.REGISTER; readonly request: number; readonly options: RegisterOptions;
  readonly rawOptions: Dict; readonly procedure: string;
}
// [REGISTERED, REGISTER.Request|id, Registration|id]
export interface Registered { readonly type: typeof T.REGISTERED; readonly request: number; readonly registration: number }
// [UNREGISTER, Request|id, REGISTERED.Registration|id]
export interface Unregister { readonly type: typeof T.UNREGISTER; readonly request: number; readonly registration: number }
// [UNREGISTERED, UNREGISTER.Request|id] or, on revocation, [UNREGISTERED, 0, Details|dict]
export interface Unregistered { readonly type: typeof T.UNREGISTERED; readonly request: number; readonly details?: Dict }
// [INVOCATION, Request|id, REGISTERED.Registration|id, Details|dict, CALL.Arguments|list, CALL.ArgumentsKw|dict]
export interface Invocation {
  readonly type: typeof T.INVOCATION; readonly request: number; readonly registration: number;
  readonly details: Dict; readonly args: Args; readonly kwargs: Kwargs;
}
// [INTERRUPT, INVOCATION.Request|id, Options|dict]
export interface Interrupt { readonly type: typeof T.INTERRUPT; readonly request: number; readonly options: Dict }
// [YIELD, INVOCATION.Request|id, Options|dict, Arguments|list, ArgumentsKw|dict]
export interface Yield {
  readonly type: typeof T.YIELD; readonly request: number; readonly progress: boolean;
  readonly rawOptions: Dict; readonly args: Args; readonly kwargs: Kwargs; readonly payload?: Payload; readonly ppt?: Dict;
}

export type WampMessage =
  | Hello | Welcome | Abort | Challenge | Authenticate | Goodbye | ErrorMessage
  | Publish | Published | Subscribe | Subscribed | Unsubscribe | Unsubscribed | EventMessage
  | Call | Cancel | Result | Register | Registered | Unregister | Unregistered
  | Invocation | Interrupt | Yield;
