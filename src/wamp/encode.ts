/** Typed WAMP message → plain array, ready for a serializer. Empty trailing payload is omitted. */
import { MessageType as T } from './codes.js';
import type { Args, Dict, Kwargs, WampMessage } from './messages.js';
import { isTransparent, isTransparentArgs } from './transparency.js';

export function encodeMessage(m: WampMessage): unknown[] {
  switch (m.type) {
    case T.HELLO: return [T.HELLO, m.realm ?? null, m.details];
    case T.WELCOME: return [T.WELCOME, m.session, m.details];
    case T.ABORT: return [T.ABORT, m.details, m.reason];
    case T.CHALLENGE: return [T.CHALLENGE, m.authMethod, m.extra];
    case T.AUTHENTICATE: return [T.AUTHENTICATE, m.signature, m.extra];
    case T.GOODBYE: return [T.GOODBYE, m.details, m.reason];
    case T.ERROR:
    case T.PUBLISH:
    case T.EVENT:
    case T.CALL:
    case T.RESULT:
    case T.INVOCATION:
    case T.YIELD:
      return withPayload(encodeHead(m), m.args, m.kwargs);
    case T.PUBLISHED: return [T.PUBLISHED, m.request, m.publication];
    case T.SUBSCRIBE: return [T.SUBSCRIBE, m.request, m.rawOptions, m.topic];
    case T.SUBSCRIBED: return [T.SUBSCRIBED, m.request, m.subscription];
    case T.UNSUBSCRIBE: return [T.UNSUBSCRIBE, m.request, m.subscription];
    case T.UNSUBSCRIBED: return m.details ? [T.UNSUBSCRIBED, m.request, m.details] : [T.UNSUBSCRIBED, m.request];
    case T.CANCEL: return [T.CANCEL, m.request, m.rawOptions];
    case T.REGISTER: return [T.REGISTER, m.request, m.rawOptions, m.procedure];
    case T.REGISTERED: return [T.REGISTERED, m.request, m.registration];
    case T.UNREGISTER: return [T.UNREGISTER, m.request, m.registration];
    case T.UNREGISTERED: return m.details ? [T.UNREGISTERED, m.request, m.details] : [T.UNREGISTERED, m.request];
    case T.INTERRUPT: return [T.INTERRUPT, m.request, m.options];
  }
}

/** A message that carries Arguments|ArgumentsKw. */
type PayloadMessage = Extract<WampMessage, { readonly args: Args }>;

/** The elements of a payload message before its Arguments. */
function encodeHead(m: PayloadMessage): unknown[] {
  switch (m.type) {
    case T.ERROR: return [T.ERROR, m.requestType, m.request, m.details, m.error];
    case T.PUBLISH: return [T.PUBLISH, m.request, m.rawOptions, m.topic];
    case T.EVENT: return [T.EVENT, m.subscription, m.publication, m.details];
    case T.CALL: return [T.CALL, m.request, m.rawOptions, m.procedure];
    case T.RESULT: return [T.RESULT, m.request, m.details];
    case T.INVOCATION: return [T.INVOCATION, m.request, m.registration, m.details];
    case T.YIELD: return [T.YIELD, m.request, m.rawOptions];
  }
}

/**
 * The head followed by Arguments and ArgumentsKw, omitting them when empty (basic/messages.md):
 * `head` itself when nothing follows, else a new array of its final length (a push would grow
 * the head's backing store several times over, on every message of the hot path).
 */
export function withPayload(head: unknown[], args: Args, kwargs: Kwargs): unknown[] {
  if (kwargs !== undefined && !isEmpty(kwargs)) return [...head, args ?? [], kwargs];
  // A transparent payload (wamp/transparency.ts) goes in the Arguments slot bare, not in a list.
  if (isTransparentArgs(args) && isTransparent(detailsOf(head))) return [...head, args![0]];
  if (args !== undefined && args.length > 0) return [...head, args];
  return head;
}

/** The message's Options|Details: the first dict of its head. */
function detailsOf(head: readonly unknown[]): Dict | undefined {
  for (let i = 1; i < head.length; i++) {
    const v = head[i];
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)) return v as Dict;
  }
  return undefined;
}

function isEmpty(d: Dict): boolean {
  for (const key in d) if (Object.hasOwn(d, key)) return false;
  return true;
}
