/**
 * Crossbar.io's outbound HTTP bridge components, which it configures as Python components of
 * these class names (`crossbar/bridge/rest/subscriber.py`, `callee.py`): xbar recognizes them in
 * router and container workers and runs them natively (`src/bridge/`), so they never reach the
 * Python worker host. `isNativeComponent` is the one check the worker config uses to leave them out.
 *
 * A router component joins its realm with its `role` (default "anonymous"); a container
 * component joins as an anonymous client of the router it names would (role "anonymous"); both
 * run in this node's router.
 */
import type { KeyPath } from './issues.js';
import type { LoadContext } from './load-context.js';
import type { ValidDocument } from './schema.js';

export const MESSAGE_FORWARDER = 'crossbar.bridge.rest.MessageForwarder';
export const REST_CALLEE = 'crossbar.bridge.rest.RESTCallee';

export function isNativeComponent(classname: string): boolean {
  return classname === MESSAGE_FORWARDER || classname === REST_CALLEE;
}

export const OUTBOUND_DEFAULTS = {
  /** Bytes of event bodies waiting per forwarded subscription. */
  maxQueueBytes: 4 * 1024 * 1024,
  /** Attempts per event or idempotent call before it is dropped (the first included). */
  attempts: 5,
  /** First retry delay, ms; doubled each time up to `maxBackoff`. */
  backoff: 200,
  maxBackoff: 10_000,
  /** One HTTP request, ms. */
  requestTimeout: 10_000,
  /** RESTCallee: requests in flight at once, and calls waiting beyond them. */
  maxInFlight: 32,
  maxQueuedCalls: 256,
  /** RESTCallee: the largest response body passed back, bytes. */
  maxResponseBytes: 16 * 1024 * 1024,
} as const;

export interface ForwardedSubscription {
  readonly topic: string;
  readonly url: string;
  readonly match: 'exact' | 'prefix' | 'wildcard';
}

interface OutboundBase {
  readonly id: string;
  readonly realm: string;
  readonly role: string;
  readonly attempts: number;
  readonly backoff: number;
  readonly maxBackoff: number;
  readonly requestTimeout: number;
}

export interface MessageForwarderConfig extends OutboundBase {
  readonly classname: typeof MESSAGE_FORWARDER;
  readonly subscriptions: readonly ForwardedSubscription[];
  readonly method: string;
  /** The status a delivery must get; undefined = any answer counts as delivered (Crossbar.io's rule). */
  readonly expectedCode?: number;
  readonly maxQueueBytes: number;
}

export interface RestCalleeConfig extends OutboundBase {
  readonly classname: typeof REST_CALLEE;
  readonly procedure: string;
  readonly baseUrl: string;
  readonly maxInFlight: number;
  readonly maxQueuedCalls: number;
  readonly maxResponseBytes: number;
}

export type OutboundComponentConfig = MessageForwarderConfig | RestCalleeConfig;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const httpUrl = (u: unknown) => typeof u === 'string' && URL.canParse(u) && ['http:', 'https:'].includes(new URL(u).protocol);

/** A positive integer from `extra[key]` (xbar's tuning keys), or the default. */
function tuning(extra: Record<string, unknown>, key: string, fallback: number, at: KeyPath, ctx: LoadContext): number {
  const v = extra[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    ctx.problem([...at, 'extra', key], 'expected a positive integer');
    return fallback;
  }
  return v;
}

function component(
  c: { id?: string | undefined; classname: string; realm: string; role?: string | undefined; extra?: Record<string, unknown> | undefined },
  id: string, at: KeyPath, ctx: LoadContext,
): OutboundComponentConfig {
  const extra = c.extra ?? {};
  const base: OutboundBase = {
    id, realm: c.realm, role: c.role ?? 'anonymous',
    attempts: tuning(extra, 'max_attempts', OUTBOUND_DEFAULTS.attempts, at, ctx),
    backoff: tuning(extra, 'retry_backoff', OUTBOUND_DEFAULTS.backoff, at, ctx),
    maxBackoff: tuning(extra, 'max_retry_backoff', OUTBOUND_DEFAULTS.maxBackoff, at, ctx),
    requestTimeout: tuning(extra, 'request_timeout', OUTBOUND_DEFAULTS.requestTimeout, at, ctx),
  };
  if (c.classname === REST_CALLEE) {
    // Crossbar.io asserts both at join.
    if (typeof extra.procedure !== 'string' || extra.procedure === '') ctx.problem([...at, 'extra', 'procedure'], 'RESTCallee needs "procedure" (a procedure URI)');
    if (!httpUrl(extra.baseurl)) ctx.problem([...at, 'extra', 'baseurl'], 'RESTCallee needs "baseurl" (an http:// or https:// URL)');
    return {
      ...base, classname: REST_CALLEE, procedure: String(extra.procedure ?? ''), baseUrl: String(extra.baseurl ?? ''),
      maxInFlight: tuning(extra, 'max_in_flight', OUTBOUND_DEFAULTS.maxInFlight, at, ctx),
      maxQueuedCalls: tuning(extra, 'max_queued_calls', OUTBOUND_DEFAULTS.maxQueuedCalls, at, ctx),
      maxResponseBytes: tuning(extra, 'max_response_bytes', OUTBOUND_DEFAULTS.maxResponseBytes, at, ctx),
    };
  }
  const subscriptions: ForwardedSubscription[] = [];
  const given = extra.subscriptions;
  if (!Array.isArray(given)) ctx.problem([...at, 'extra', 'subscriptions'], 'MessageForwarder needs "subscriptions": [{"topic", "url"}]');
  else {
    given.forEach((s: unknown, i) => {
      const here = [...at, 'extra', 'subscriptions', i];
      if (!isObject(s) || typeof s.topic !== 'string' || !httpUrl(s.url)) return ctx.problem(here, 'expected {"topic": URI, "url": http(s) URL[, "match"]}');
      const match = s.match ?? 'exact';
      if (match !== 'exact' && match !== 'prefix' && match !== 'wildcard') return ctx.problem([...here, 'match'], 'expected exact, prefix or wildcard');
      subscriptions.push({ topic: s.topic, url: s.url as string, match });
    });
  }
  const method = extra.method ?? 'POST';
  if (typeof method !== 'string' || !/^[A-Z]+$/.test(method)) ctx.problem([...at, 'extra', 'method'], 'expected an HTTP method such as "POST"');
  const code = extra.expectedcode;
  if (code !== undefined && (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 599)) {
    ctx.problem([...at, 'extra', 'expectedcode'], 'expected an HTTP status code');
  }
  return {
    ...base, classname: MESSAGE_FORWARDER, subscriptions, method: String(method),
    ...(typeof code === 'number' ? { expectedCode: code } : {}),
    maxQueueBytes: tuning(extra, 'max_queue_bytes', OUTBOUND_DEFAULTS.maxQueueBytes, at, ctx),
  };
}

/** `{ outbound }` for the node config: every native component of router and container workers. */
export function outboundConfig(doc: ValidDocument, ctx: LoadContext): { outbound?: readonly OutboundComponentConfig[] } {
  const out: OutboundComponentConfig[] = [];
  doc.workers.forEach((w, wi) => {
    if (w.type === 'guest' || w.type === 'websocket-testee') return;
    (w.components ?? []).forEach((c, ci) => {
      if (!isNativeComponent(c.classname)) return;
      const role = w.type === 'router' ? (c as { role?: string }).role : undefined;
      out.push(component({ ...c, role }, c.id ?? `bridge${out.length + 1}`, ['workers', wi, 'components', ci], ctx));
    });
  });
  return out.length === 0 ? {} : { outbound: out };
}
