/**
 * The answer to a message whose text no serializer can pass on (`IllFormedTextError`: a lone
 * surrogate from JSON, a MessagePack or CBOR string that is not UTF-8), so that the sender learns
 * why and nothing else breaks: a request is refused with ERROR `wamp.error.invalid_argument` (a
 * PUBLISH only when acknowledged, as every refused PUBLISH); a callee's YIELD or ERROR becomes
 * that ERROR for its caller, so the call ends; anything else is a protocol violation.
 */
import { MessageType as T } from '../wamp/codes.js';
import { ErrorUri } from '../wamp/errors.js';
import { isId } from '../wamp/ids.js';
import type { ErrorMessage } from '../wamp/messages.js';
import { RequestRejected } from '../wamp/violation.js';

const REQUESTS: ReadonlySet<number> = new Set([T.PUBLISH, T.SUBSCRIBE, T.UNSUBSCRIBE, T.CALL, T.REGISTER, T.UNREGISTER]);

/** What to do about the ill-formed `raw`: refuse the request, end the call, or (undefined) abort. */
export function illFormedReply(raw: unknown, reason: string): RequestRejected | ErrorMessage | undefined {
  if (!Array.isArray(raw)) return undefined;
  const [type, a, b] = raw as unknown[];
  if (typeof type !== 'number' || !isId(a)) return undefined;
  if (REQUESTS.has(type)) return new RequestRejected(type, a, ErrorUri.invalidArgument, reason);
  const invocation = type === T.YIELD ? a : type === T.ERROR && a === T.INVOCATION && isId(b) ? b : undefined;
  if (invocation === undefined) return undefined;
  return {
    type: T.ERROR, requestType: T.INVOCATION, request: invocation, details: {}, error: ErrorUri.invalidArgument,
    args: [`the callee's answer could not be passed on: ${reason}`], kwargs: undefined,
  };
}
