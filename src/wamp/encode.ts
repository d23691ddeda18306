/** Typed WAMP message → plain array, ready for a serializer. Empty trailing payload is omitted. */
import { MessageType as T } from './codes.js';
import type { Args, Kwargs, WampMessage } from './messages.js';

export function encodeMessage(m: WampMessage): unknown[] {
  switch (m.type) {
    case T.HELLO: return [T.HELLO, m.realm, m.details];
    case T.WELCOME: return [T.WELCOME, m.session, m.details];
    case T.ABORT: return [T.ABORT, m.details, m.reason];
    case T.CHALLENGE: return [T.CHALLENGE, m.authMethod, m.extra];
    case T.AUTHENTICATE: return [T.AUTHENTICATE, m.signature, m.extra];
    case T.GOODBYE: return [T.GOODBYE, m.details, m.reason];
    case T.ERROR: return withPayload([T.ERROR, m.requestType, m.request, m.details, m.error], m.args, m.kwargs);
    case T.PUBLISH: return withPayload([T.PUBLISH, m.request, m.rawOptions, m.topic], m.args, m.kwargs);
    case T.PUBLISHED: return [T.PUBLISHED, m.request, m.publication];
    case T.SUBSCRIBE: return [T.SUBSCRIBE, m.request, m.rawOptions, m.topic];
    case T.SUBSCRIBED: return [T.SUBSCRIBED, m.request, m.subscription];
    case T.UNSUBSCRIBE: return [T.UNSUBSCRIBE, m.request, m.subscription];
    case T.UNSUBSCRIBED: return m.details ? [T.UNSUBSCRIBED, m.request, m.details] : [T.UNSUBSCRIBED, m.request];
    case T.EVENT: return withPayload([T.EVENT, m.subscription, m.publication, m.details], m.args, m.kwargs);
    case T.CALL: return withPayload([T.CALL, m.request, m.rawOptions, m.procedure], m.args, m.kwargs);
    case T.CANCEL: return [T.CANCEL, m.request, m.rawOptions];
    case T.RESULT: return withPayload([T.RESULT, m.request, m.details], m.args, m.kwargs);
    case T.REGISTER: return [T.REGISTER, m.request, m.rawOptions, m.procedure];
    case T.REGISTERED: return [T.REGISTERED, m.request, m.registration];
    case T.UNREGISTER: return [T.UNREGISTER, m.request, m.registration];
    case T.UNREGISTERED: return m.details ? [T.UNREGISTERED, m.request, m.details] : [T.UNREGISTERED, m.request];
    case T.INVOCATION: return withPayload([T.INVOCATION, m.request, m.registration, m.details], m.args, m.kwargs);
    case T.INTERRUPT: return [T.INTERRUPT, m.request, m.options];
    case T.YIELD: return withPayload([T.YIELD, m.request, m.rawOptions], m.args, m.kwargs);
  }
}

/** Appends Arguments and ArgumentsKw, omitting them when empty (basic/messages.md). */
export function withPayload(head: unknown[], args: Args, kwargs: Kwargs): unknown[] {
  const hasKw = kwargs !== undefined && Object.keys(kwargs).length > 0;
  if (hasKw) head.push(args ?? [], kwargs);
  else if (args !== undefined && args.length > 0) head.push(args);
  return head;
}
