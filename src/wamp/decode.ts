/**
 * Validates a decoded array into a typed WAMP message. Parsing is validation: every failure names
 * the message and the field, and comes back as a ProtocolViolation (ABORT) or, for a request
 * with an invalid URI, a RequestRejected (ERROR). Nothing here throws to the caller.
 */
import type { MatchPolicy, UriCheck } from '../config/types.js';
import { ERROR_REQUEST_TYPES, MESSAGE_NAMES, MessageType as T } from './codes.js';
import { ErrorUri } from './errors.js';
import { isId } from './ids.js';
import type {
  Args, CancelMode, Dict, InvokePolicy, Kwargs, PublishOptions, WampMessage,
} from './messages.js';
import { isValidUri } from './uri.js';
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

export function decodeMessage(raw: unknown, uriCheck: UriCheck): Decoded {
  try {
    return parse(raw, uriCheck);
  } catch (e) {
    if (e instanceof Invalid) return e.violation;
    // A bug here must not take the process down; the peer still gets a clear ABORT.
    return new ProtocolViolation(`malformed message: ${(e as Error).message}`);
  }
}

function parse(m: unknown, check: UriCheck): WampMessage {
  if (!Array.isArray(m)) return fail(`message must be an array, got ${typeName(m)}`);
  if (m.length === 0) return fail('message must not be empty');
  const code = m[0];
  const name = typeof code === 'number' ? MESSAGE_NAMES.get(code) : undefined;
  if (name === undefined) return fail(`unknown message type ${JSON.stringify(code) ?? String(code)}`);
  const at = (field: string) => `'${field}' in ${name}`;
  const arity = (min: number, max: number) => {
    if (m.length < min || m.length > max) {
      fail(`invalid message length ${m.length} for ${name} (expected ${min === max ? min : `${min} to ${max}`})`);
    }
  };
  const id = (i: number, field: string): number => {
    const v = m[i];
    return isId(v) ? v : fail(`${at(field)}: expected an integer ID in [1, 2^53], got ${show(v)}`);
  };
  const dict = (i: number, field: string): Dict => {
    const v = m[i];
    return isDict(v) ? v : fail(`${at(field)}: expected a dict, got ${typeName(v)}`);
  };
  const str = (i: number, field: string): string => {
    const v = m[i];
    return typeof v === 'string' ? v : fail(`${at(field)}: expected a string, got ${typeName(v)}`);
  };
  const uri = (i: number, field: string, match: MatchPolicy = 'exact', request?: [number, number]): string => {
    const v = str(i, field);
    if (isValidUri(v, check, match)) return v;
    const text = `${at(field)}: invalid ${check}${match === 'exact' ? '' : ` ${match}`} URI ${show(v)}`;
    throw new Invalid(
      request ? new RequestRejected(request[0], request[1], ErrorUri.invalidUri, text) : new ProtocolViolation(text, ErrorUri.invalidUri),
    );
  };
  const payload = (i: number): [Args, Kwargs] => {
    const args = m[i];
    const kwargs = m[i + 1];
    if (args !== undefined && !Array.isArray(args)) fail(`${at('Arguments')}: expected a list, got ${typeName(args)}`);
    if (kwargs !== undefined && !isDict(kwargs)) fail(`${at('ArgumentsKw')}: expected a dict, got ${typeName(kwargs)}`);
    return [args as Args, kwargs as Kwargs];
  };
  const opts = new OptionReader(at);

  switch (code) {
    case T.HELLO: {
      arity(3, 3);
      const details = dict(2, 'Details');
      if (!isDict(details.roles) || Object.keys(details.roles).length === 0) {
        fail(`${at('Details.roles')}: expected a dict naming at least one role`);
      }
      return { type: T.HELLO, realm: uri(1, 'Realm'), details };
    }
    case T.WELCOME:
      arity(3, 3);
      return { type: T.WELCOME, session: id(1, 'Session'), details: dict(2, 'Details') };
    case T.ABORT:
      arity(3, 3);
      return { type: T.ABORT, details: dict(1, 'Details'), reason: uri(2, 'Reason') };
    case T.CHALLENGE:
      arity(3, 3);
      return { type: T.CHALLENGE, authMethod: str(1, 'AuthMethod'), extra: dict(2, 'Extra') };
    case T.AUTHENTICATE:
      arity(3, 3);
      return { type: T.AUTHENTICATE, signature: str(1, 'Signature'), extra: dict(2, 'Extra') };
    case T.GOODBYE:
      arity(3, 3);
      return { type: T.GOODBYE, details: dict(1, 'Details'), reason: uri(2, 'Reason') };
    case T.ERROR: {
      arity(5, 7);
      const requestType = m[1];
      if (typeof requestType !== 'number' || !ERROR_REQUEST_TYPES.has(requestType)) {
        fail(`${at('REQUEST.Type')}: ${show(requestType)} is not a request type an ERROR may answer`);
      }
      const [args, kwargs] = payload(5);
      return {
        type: T.ERROR, requestType: requestType as number, request: id(2, 'REQUEST.Request'),
        details: dict(3, 'Details'), error: uri(4, 'Error'), args, kwargs,
      };
    }
    case T.PUBLISH: {
      arity(4, 6);
      const request = id(1, 'Request');
      const raw = dict(2, 'Options');
      const options: PublishOptions = {
        acknowledge: opts.bool(raw, 'acknowledge', false),
        excludeMe: opts.bool(raw, 'exclude_me', true),
        exclude: opts.ids(raw, 'exclude'),
        excludeAuthid: opts.strings(raw, 'exclude_authid'),
        excludeAuthrole: opts.strings(raw, 'exclude_authrole'),
        eligible: opts.ids(raw, 'eligible'),
        eligibleAuthid: opts.strings(raw, 'eligible_authid'),
        eligibleAuthrole: opts.strings(raw, 'eligible_authrole'),
        discloseMe: opts.bool(raw, 'disclose_me', false),
        retain: opts.bool(raw, 'retain', false),
      };
      const topic = uri(3, 'Topic', 'exact', [T.PUBLISH, request]);
      const [args, kwargs] = payload(4);
      return { type: T.PUBLISH, request, options, rawOptions: raw, topic, args, kwargs };
    }
    case T.PUBLISHED:
      arity(3, 3);
      return { type: T.PUBLISHED, request: id(1, 'PUBLISH.Request'), publication: id(2, 'Publication') };
    case T.SUBSCRIBE: {
      arity(4, 4);
      const request = id(1, 'Request');
      const raw = dict(2, 'Options');
      const match = opts.match(raw);
      const options = { match, getRetained: opts.bool(raw, 'get_retained', false) };
      return { type: T.SUBSCRIBE, request, options, rawOptions: raw, topic: uri(3, 'Topic', match, [T.SUBSCRIBE, request]) };
    }
    case T.SUBSCRIBED:
      arity(3, 3);
      return { type: T.SUBSCRIBED, request: id(1, 'SUBSCRIBE.Request'), subscription: id(2, 'Subscription') };
    case T.UNSUBSCRIBE:
      arity(3, 3);
      return { type: T.UNSUBSCRIBE, request: id(1, 'Request'), subscription: id(2, 'SUBSCRIBED.Subscription') };
    case T.UNSUBSCRIBED:
    case T.UNREGISTERED: {
      arity(2, 3);
      // Request 0 with Details marks a router-side revocation (subscription/registration revocation).
      const request = m[1] === 0 && m.length === 3 ? 0 : id(1, 'Request');
      const details = m.length === 3 ? dict(2, 'Details') : undefined;
      return code === T.UNSUBSCRIBED
        ? { type: T.UNSUBSCRIBED, request, details }
        : { type: T.UNREGISTERED, request, details };
    }
    case T.EVENT: {
      arity(4, 6);
      const [args, kwargs] = payload(4);
      return {
        type: T.EVENT, subscription: id(1, 'SUBSCRIBED.Subscription'), publication: id(2, 'PUBLISHED.Publication'),
        details: dict(3, 'Details'), args, kwargs,
      };
    }
    case T.CALL: {
      arity(4, 6);
      const request = id(1, 'Request');
      const raw = dict(2, 'Options');
      // A bad option value refuses this call only (ERROR wamp.error.invalid_argument).
      const callOpts = opts.forRequest(T.CALL, request);
      const options = {
        timeout: callOpts.nonNegativeInt(raw, 'timeout', 0),
        receiveProgress: callOpts.bool(raw, 'receive_progress', false),
        progress: callOpts.bool(raw, 'progress', false),
        discloseMe: callOpts.bool(raw, 'disclose_me', false),
      };
      const procedure = uri(3, 'Procedure', 'exact', [T.CALL, request]);
      const [args, kwargs] = payload(4);
      return { type: T.CALL, request, options, rawOptions: raw, procedure, args, kwargs };
    }
    case T.CANCEL: {
      arity(3, 3);
      const raw = dict(2, 'Options');
      const mode = opts.oneOf(raw, 'mode', CANCEL_MODES) as CancelMode | undefined;
      return { type: T.CANCEL, request: id(1, 'CALL.Request'), mode, rawOptions: raw };
    }
    case T.RESULT: {
      arity(3, 5);
      const [args, kwargs] = payload(3);
      return { type: T.RESULT, request: id(1, 'CALL.Request'), details: dict(2, 'Details'), args, kwargs };
    }
    case T.REGISTER: {
      arity(4, 4);
      const request = id(1, 'Request');
      const raw = dict(2, 'Options');
      // A bad option value refuses this registration only (ERROR wamp.error.invalid_argument).
      const regOpts = opts.forRequest(T.REGISTER, request);
      const match = regOpts.match(raw);
      const concurrency = raw.concurrency === undefined ? undefined : regOpts.positiveInt(raw, 'concurrency');
      const options = {
        match,
        invoke: (regOpts.oneOf(raw, 'invoke', INVOKE_POLICIES) ?? 'single') as InvokePolicy,
        concurrency,
        discloseCaller: regOpts.bool(raw, 'disclose_caller', false),
        forceReregister: regOpts.bool(raw, 'force_reregister', false),
      };
      return { type: T.REGISTER, request, options, rawOptions: raw, procedure: uri(3, 'Procedure', match, [T.REGISTER, request]) };
    }
    case T.REGISTERED:
      arity(3, 3);
      return { type: T.REGISTERED, request: id(1, 'REGISTER.Request'), registration: id(2, 'Registration') };
    case T.UNREGISTER:
      arity(3, 3);
      return { type: T.UNREGISTER, request: id(1, 'Request'), registration: id(2, 'REGISTERED.Registration') };
    case T.INVOCATION: {
      arity(4, 6);
      const [args, kwargs] = payload(4);
      return {
        type: T.INVOCATION, request: id(1, 'Request'), registration: id(2, 'REGISTERED.Registration'),
        details: dict(3, 'Details'), args, kwargs,
      };
    }
    case T.INTERRUPT:
      arity(3, 3);
      return { type: T.INTERRUPT, request: id(1, 'INVOCATION.Request'), options: dict(2, 'Options') };
    case T.YIELD: {
      arity(3, 5);
      const raw = dict(2, 'Options');
      const [args, kwargs] = payload(3);
      return { type: T.YIELD, request: id(1, 'INVOCATION.Request'), progress: opts.bool(raw, 'progress', false), rawOptions: raw, args, kwargs };
    }
  }
  return fail(`unknown message type ${show(code)}`);
}

const CANCEL_MODES = ['skip', 'kill', 'killnowait'] as const;
const INVOKE_POLICIES = ['single', 'roundrobin', 'random', 'first', 'last'] as const;
const MATCH_POLICIES = ['exact', 'prefix', 'wildcard'] as const;

/**
 * Reads typed options; unknown options are ignored, as the spec asks of routers. A bad value is a
 * protocol violation, or, for a reader made by `forRequest`, an ERROR to that request only.
 */
class OptionReader {
  constructor(
    private readonly at: (field: string) => string,
    private readonly request?: readonly [number, number],
  ) {}

  forRequest(requestType: number, request: number): OptionReader {
    return new OptionReader(this.at, [requestType, request]);
  }

  private bad(key: string, expected: string, v: unknown): never {
    const text = `${this.at(`Options.${key}`)}: expected ${expected}, got ${show(v)}`;
    if (this.request) throw new Invalid(new RequestRejected(this.request[0], this.request[1], ErrorUri.invalidArgument, text));
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
  oneOf(o: Dict, key: string, allowed: readonly string[]): string | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    return typeof v === 'string' && allowed.includes(v) ? v : this.bad(key, `one of ${allowed.join(', ')}`, v);
  }
  match(o: Dict): MatchPolicy {
    return (this.oneOf(o, 'match', MATCH_POLICIES) ?? 'exact') as MatchPolicy;
  }
}

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
