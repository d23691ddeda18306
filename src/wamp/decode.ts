/**
 * Validates a decoded array into a typed WAMP message. Parsing is validation: every failure names
 * the message and the field, and comes back as a ProtocolViolation (ABORT) or, for a request
 * with an invalid URI, a RequestRejected (ERROR). Nothing here throws to the caller.
 */
import { ERROR_REQUEST_TYPES, MESSAGE_NAMES, MessageType as T } from './codes.js';
import { ErrorUri } from './errors.js';
import { isId } from './ids.js';
import type {
  Args, CallOptions, CancelMode, Dict, InvokePolicy, Kwargs, Payload, PublishOptions, Receivers, WampMessage,
} from './messages.js';
import type { PayloadLocator } from './payload.js';
import { isTransparent, transparencyOf } from './transparency.js';
import { isValidUri, type MatchPolicy, type UriCheck } from './uri.js';
import { ProtocolViolation, RequestRejected } from './violation.js';

export type Decoded = WampMessage | ProtocolViolation | RequestRejected;

class Invalid extends Error {
  constructor(readonly violation: ProtocolViolation | RequestRejected) {
    super(violation.message);
  }
}

const fail = (message: string): never => {
  throw new Invalid(new ProtocolViolation(message));
};

export function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * With the message's `bytes` and a `locator` for them (the serializer that decoded them), a CALL,
 * YIELD, ERROR or PUBLISH also gets its encoded `payload`.
 */
export function decodeMessage(raw: unknown, uriCheck: UriCheck, bytes?: Uint8Array, locator?: PayloadLocator): Decoded {
  try {
    return parse(raw, uriCheck, bytes, locator);
  } catch (e) {
    if (e instanceof Invalid) return e.violation;
    // A bug here must not take the process down; the peer still gets a clear ABORT.
    return new ProtocolViolation(`malformed message: ${(e as Error).message}`);
  }
}

/**
 * Reads one message's fields. One instance serves every message (parsing is synchronous and never
 * re-entered), so validating a message allocates nothing but what it returns.
 */
class Reader {
  m: readonly unknown[] = [];
  name = '';
  check: UriCheck = 'loose';
  bytes: Uint8Array | undefined;
  locator: PayloadLocator | undefined;
  /** The request whose option values are being read (see forRequest); 0 for none. */
  private requestType = 0;
  private request = 0;

  reset(m: readonly unknown[], name: string, check: UriCheck, bytes: Uint8Array | undefined, locator: PayloadLocator | undefined): void {
    this.m = m;
    this.name = name;
    this.check = check;
    this.bytes = bytes;
    this.locator = locator;
    this.requestType = 0;
    this.request = 0;
  }

  /** Releases the message and its bytes. */
  clear(): void {
    this.m = [];
    this.bytes = undefined;
    this.locator = undefined;
  }

  at(field: string): string {
    return `'${field}' in ${this.name}`;
  }
  arity(min: number, max: number): void {
    const n = this.m.length;
    if (n < min || n > max) fail(`invalid message length ${n} for ${this.name} (expected ${min === max ? min : `${min} to ${max}`})`);
  }
  id(i: number, field: string): number {
    const v = this.m[i];
    return isId(v) ? v : fail(`${this.at(field)}: expected an integer ID in [1, 2^53], got ${show(v)}`);
  }
  dict(i: number, field: string): Dict {
    const v = this.m[i];
    return isDict(v) ? v : fail(`${this.at(field)}: expected a dict, got ${typeName(v)}`);
  }
  str(i: number, field: string): string {
    const v = this.m[i];
    return typeof v === 'string' ? v : fail(`${this.at(field)}: expected a string, got ${typeName(v)}`);
  }
  /** Whether element `i` is null. */
  nullable(i: number): boolean {
    return this.m[i] === null;
  }
  /** A URI; an invalid one refuses the request (`requestType`, `request`) if given, else the session. */
  uri(i: number, field: string, match: MatchPolicy = 'exact', requestType = 0, request = 0): string {
    const v = this.str(i, field);
    if (isValidUri(v, this.check, match)) return v;
    const text = `${this.at(field)}: invalid ${this.check}${match === 'exact' ? '' : ` ${match}`} URI ${show(v)}`;
    throw new Invalid(
      requestType !== 0 ? new RequestRejected(requestType, request, ErrorUri.invalidUri, text) : new ProtocolViolation(text, ErrorUri.invalidUri),
    );
  }
  /**
   * Arguments at `i`, or a transparent payload (wamp/transparency.ts) — one binary value there that
   * `described` (the message's Options|Details) names a scheme for — carried as a one-element list.
   */
  argsOr(i: number, described: Dict): Args {
    const v = this.m[i];
    if (!(v instanceof Uint8Array) || !isTransparent(described)) return this.args(i);
    if (this.m.length > i + 1) fail(`${this.at('ArgumentsKw')}: a transparent payload (binary Arguments) has no ArgumentsKw`);
    return [v];
  }
  args(i: number): Args {
    const v = this.m[i];
    if (v !== undefined && !Array.isArray(v)) fail(`${this.at('Arguments')}: expected a list, got ${typeName(v)}`);
    return v as Args;
  }
  kwargs(i: number): Kwargs {
    const v = this.m[i];
    if (v !== undefined && !isDict(v)) fail(`${this.at('ArgumentsKw')}: expected a dict, got ${typeName(v)}`);
    return v as Kwargs;
  }
  /** The encoded Arguments|ArgumentsKw starting at element `i`, where the locator finds them. */
  encoded(i: number, args: Args, kwargs: Kwargs): Payload {
    if (args === undefined || this.bytes === undefined) return undefined;
    return this.locator?.payloadOf(this.bytes, i, kwargs === undefined ? 1 : 2);
  }

  // ---- options: unknown options are ignored, as the spec asks of routers. A bad value is a
  // protocol violation or, after forRequest, an ERROR to that request only.

  forRequest(requestType: number, request: number): void {
    this.requestType = requestType;
    this.request = request;
  }
  private bad(key: string, expected: string, v: unknown): never {
    const text = `${this.at(`Options.${key}`)}: expected ${expected}, got ${show(v)}`;
    if (this.requestType !== 0) throw new Invalid(new RequestRejected(this.requestType, this.request, ErrorUri.invalidArgument, text));
    return fail(text);
  }
  positiveInt(o: Dict, key: string): number {
    const v = o[key];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : this.bad(key, 'a positive integer', v);
  }
  bool(o: Dict, key: string, dflt: boolean): boolean {
    const v = o[key];
    if (v === undefined) return dflt;
    return typeof v === 'boolean' ? v : this.bad(key, 'a boolean', v);
  }
  nonNegativeInt(o: Dict, key: string, dflt: number): number {
    const v = o[key];
    if (v === undefined) return dflt;
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : this.bad(key, 'a non-negative integer', v);
  }
  ids(o: Dict, key: string): readonly number[] | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    return Array.isArray(v) && v.every(isId) ? (v as number[]) : this.bad(key, 'a list of IDs', v);
  }
  strings(o: Dict, key: string): readonly string[] | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : this.bad(key, 'a list of strings', v);
  }
  /** PUBLISH.Options' exclude/eligible lists; undefined when it has none. */
  receivers(o: Dict): Receivers | undefined {
    const exclude = this.ids(o, 'exclude');
    const excludeAuthid = this.strings(o, 'exclude_authid');
    const excludeAuthrole = this.strings(o, 'exclude_authrole');
    const eligible = this.ids(o, 'eligible');
    const eligibleAuthid = this.strings(o, 'eligible_authid');
    const eligibleAuthrole = this.strings(o, 'eligible_authrole');
    if (!exclude && !excludeAuthid && !excludeAuthrole && !eligible && !eligibleAuthid && !eligibleAuthrole) return undefined;
    return { exclude, excludeAuthid, excludeAuthrole, eligible, eligibleAuthid, eligibleAuthrole };
  }
  oneOf(o: Dict, key: string, allowed: readonly string[]): string | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    return typeof v === 'string' && allowed.includes(v) ? v : this.bad(key, `one of ${allowed.join(', ')}`, v);
  }
  match(o: Dict): MatchPolicy {
    return (this.oneOf(o, 'match', MATCH_POLICIES) ?? 'exact') as MatchPolicy;
  }
}

const reader = new Reader();

function parse(m: unknown, check: UriCheck, bytes: Uint8Array | undefined, locator: PayloadLocator | undefined): WampMessage {
  if (!Array.isArray(m)) return fail(`message must be an array, got ${typeName(m)}`);
  if (m.length === 0) return fail('message must not be empty');
  const code = m[0];
  const name = typeof code === 'number' ? MESSAGE_NAMES.get(code) : undefined;
  if (name === undefined) return fail(`unknown message type ${JSON.stringify(code) ?? String(code)}`);
  const r = reader;
  r.reset(m, name, check, bytes, locator);
  try {
    return read(r, code as number);
  } finally {
    r.clear();
  }
}

function read(r: Reader, code: number): WampMessage {
  switch (code) {
    case T.HELLO: {
      r.arity(3, 3);
      const details = r.dict(2, 'Details');
      if (!isDict(details.roles) || Object.keys(details.roles).length === 0) {
        fail(`${r.at('Details.roles')}: expected a dict naming at least one role`);
      }
      // Realm may be null (Autobahn's Hello.parse allows None): the authentication then assigns it.
      return { type: T.HELLO, realm: r.nullable(1) ? undefined : r.uri(1, 'Realm'), details };
    }
    case T.WELCOME:
      r.arity(3, 3);
      return { type: T.WELCOME, session: r.id(1, 'Session'), details: r.dict(2, 'Details') };
    case T.ABORT:
      r.arity(3, 3);
      return { type: T.ABORT, details: r.dict(1, 'Details'), reason: r.uri(2, 'Reason') };
    case T.CHALLENGE:
      r.arity(3, 3);
      return { type: T.CHALLENGE, authMethod: r.str(1, 'AuthMethod'), extra: r.dict(2, 'Extra') };
    case T.AUTHENTICATE:
      r.arity(3, 3);
      return { type: T.AUTHENTICATE, signature: r.str(1, 'Signature'), extra: r.dict(2, 'Extra') };
    case T.GOODBYE:
      r.arity(3, 3);
      return { type: T.GOODBYE, details: r.dict(1, 'Details'), reason: r.uri(2, 'Reason') };
    case T.ERROR: {
      r.arity(5, 7);
      const requestType = r.m[1];
      if (typeof requestType !== 'number' || !ERROR_REQUEST_TYPES.has(requestType)) {
        fail(`${r.at('REQUEST.Type')}: ${show(requestType)} is not a request type an ERROR may answer`);
      }
      const details = r.dict(3, 'Details');
      const args = r.argsOr(5, details);
      const kwargs = r.kwargs(6);
      return {
        type: T.ERROR, requestType: requestType as number, request: r.id(2, 'REQUEST.Request'),
        details, error: r.uri(4, 'Error'), args, kwargs, payload: r.encoded(5, args, kwargs), ppt: transparencyOf(details),
      };
    }
    case T.PUBLISH: {
      r.arity(4, 6);
      const request = r.id(1, 'Request');
      const raw = r.dict(2, 'Options');
      const options: PublishOptions = isEmpty(raw) ? DEFAULT_PUBLISH_OPTIONS : {
        acknowledge: r.bool(raw, 'acknowledge', false),
        excludeMe: r.bool(raw, 'exclude_me', true),
        receivers: r.receivers(raw),
        discloseMe: r.bool(raw, 'disclose_me', false),
        retain: r.bool(raw, 'retain', false),
      };
      const topic = r.uri(3, 'Topic', 'exact', T.PUBLISH, request);
      const args = r.argsOr(4, raw);
      const kwargs = r.kwargs(5);
      return { type: T.PUBLISH, request, options, rawOptions: raw, topic, args, kwargs, payload: r.encoded(4, args, kwargs), ppt: transparencyOf(raw) };
    }
    case T.PUBLISHED:
      r.arity(3, 3);
      return { type: T.PUBLISHED, request: r.id(1, 'PUBLISH.Request'), publication: r.id(2, 'Publication') };
    case T.SUBSCRIBE: {
      r.arity(4, 4);
      const request = r.id(1, 'Request');
      const raw = r.dict(2, 'Options');
      const match = r.match(raw);
      const options = { match, getRetained: r.bool(raw, 'get_retained', false) };
      return { type: T.SUBSCRIBE, request, options, rawOptions: raw, topic: r.uri(3, 'Topic', match, T.SUBSCRIBE, request) };
    }
    case T.SUBSCRIBED:
      r.arity(3, 3);
      return { type: T.SUBSCRIBED, request: r.id(1, 'SUBSCRIBE.Request'), subscription: r.id(2, 'Subscription') };
    case T.UNSUBSCRIBE:
      r.arity(3, 3);
      return { type: T.UNSUBSCRIBE, request: r.id(1, 'Request'), subscription: r.id(2, 'SUBSCRIBED.Subscription') };
    case T.UNSUBSCRIBED:
    case T.UNREGISTERED: {
      r.arity(2, 3);
      // Request 0 with Details marks a router-side revocation (subscription/registration revocation).
      const request = r.m[1] === 0 && r.m.length === 3 ? 0 : r.id(1, 'Request');
      const details = r.m.length === 3 ? r.dict(2, 'Details') : undefined;
      return code === T.UNSUBSCRIBED
        ? { type: T.UNSUBSCRIBED, request, details }
        : { type: T.UNREGISTERED, request, details };
    }
    case T.EVENT: {
      r.arity(4, 6);
      const details = r.dict(3, 'Details');
      const args = r.argsOr(4, details);
      const kwargs = r.kwargs(5);
      return {
        type: T.EVENT, subscription: r.id(1, 'SUBSCRIBED.Subscription'), publication: r.id(2, 'PUBLISHED.Publication'),
        details, args, kwargs,
      };
    }
    case T.CALL: {
      r.arity(4, 6);
      const request = r.id(1, 'Request');
      const raw = r.dict(2, 'Options');
      // A bad option value refuses this call only (ERROR wamp.error.invalid_argument).
      r.forRequest(T.CALL, request);
      const options: CallOptions = isEmpty(raw) ? DEFAULT_CALL_OPTIONS : {
        timeout: r.nonNegativeInt(raw, 'timeout', 0),
        receiveProgress: r.bool(raw, 'receive_progress', false),
        progress: r.bool(raw, 'progress', false),
        discloseMe: r.bool(raw, 'disclose_me', false),
      };
      const procedure = r.uri(3, 'Procedure', 'exact', T.CALL, request);
      const args = r.argsOr(4, raw);
      const kwargs = r.kwargs(5);
      return { type: T.CALL, request, options, rawOptions: raw, procedure, args, kwargs, payload: r.encoded(4, args, kwargs), ppt: transparencyOf(raw) };
    }
    case T.CANCEL: {
      r.arity(3, 3);
      const raw = r.dict(2, 'Options');
      const mode = r.oneOf(raw, 'mode', CANCEL_MODES) as CancelMode | undefined;
      return { type: T.CANCEL, request: r.id(1, 'CALL.Request'), mode, rawOptions: raw };
    }
    case T.RESULT: {
      r.arity(3, 5);
      const details = r.dict(2, 'Details');
      const args = r.argsOr(3, details);
      const kwargs = r.kwargs(4);
      return { type: T.RESULT, request: r.id(1, 'CALL.Request'), details, args, kwargs };
    }
    case T.REGISTER: {
      r.arity(4, 4);
      const request = r.id(1, 'Request');
      const raw = r.dict(2, 'Options');
      // A bad option value refuses this registration only (ERROR wamp.error.invalid_argument).
      r.forRequest(T.REGISTER, request);
      const match = r.match(raw);
      const concurrency = raw.concurrency === undefined ? undefined : r.positiveInt(raw, 'concurrency');
      const options = {
        match,
        invoke: (r.oneOf(raw, 'invoke', INVOKE_POLICIES) ?? 'single') as InvokePolicy,
        concurrency,
        discloseCaller: r.bool(raw, 'disclose_caller', false),
        forceReregister: r.bool(raw, 'force_reregister', false),
      };
      return { type: T.REGISTER, request, options, rawOptions: raw, procedure: r.uri(3, 'Procedure', match, T.REGISTER, request) };
    }
    case T.REGISTERED:
      r.arity(3, 3);
      return { type: T.REGISTERED, request: r.id(1, 'REGISTER.Request'), registration: r.id(2, 'Registration') };
    case T.UNREGISTER:
      r.arity(3, 3);
      return { type: T.UNREGISTER, request: r.id(1, 'Request'), registration: r.id(2, 'REGISTERED.Registration') };
    case T.INVOCATION: {
      r.arity(4, 6);
      const details = r.dict(3, 'Details');
      const args = r.argsOr(4, details);
      const kwargs = r.kwargs(5);
      return {
        type: T.INVOCATION, request: r.id(1, 'Request'), registration: r.id(2, 'REGISTERED.Registration'),
        details, args, kwargs,
      };
    }
    case T.INTERRUPT:
      r.arity(3, 3);
      return { type: T.INTERRUPT, request: r.id(1, 'INVOCATION.Request'), options: r.dict(2, 'Options') };
    case T.YIELD: {
      r.arity(3, 5);
      const raw = r.dict(2, 'Options');
      const args = r.argsOr(3, raw);
      const kwargs = r.kwargs(4);
      return {
        type: T.YIELD, request: r.id(1, 'INVOCATION.Request'), progress: !isEmpty(raw) && r.bool(raw, 'progress', false), rawOptions: raw,
        args, kwargs, payload: r.encoded(3, args, kwargs), ppt: transparencyOf(raw),
      };
    }
  }
  return fail(`unknown message type ${show(code)}`);
}

/** Most requests carry no options: they share these, and no option is looked up. */
const DEFAULT_CALL_OPTIONS: CallOptions = Object.freeze({ timeout: 0, receiveProgress: false, progress: false, discloseMe: false });
const DEFAULT_PUBLISH_OPTIONS: PublishOptions = Object.freeze({
  acknowledge: false, excludeMe: true, receivers: undefined, discloseMe: false, retain: false,
});

function isEmpty(dict: Dict): boolean {
  for (const _key in dict) return false;
  return true;
}

const CANCEL_MODES = ['skip', 'kill', 'killnowait'] as const;
const INVOKE_POLICIES = ['single', 'roundrobin', 'random', 'first', 'last'] as const;
const MATCH_POLICIES = ['exact', 'prefix', 'wildcard'] as const;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v === 'object' ? 'a dict' : `${typeof v} ${show(v)}`;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 80)}…` : s;
  } catch {
    return String(v);
  }
}
