/**
 * Crossbar.io's `crossbar.bridge.rest.RESTCallee`, natively: it registers `procedure`, and a call
 * `(method, url, body="", headers={}, params={})` (by position or keyword) makes that HTTP request
 * to `url` resolved against `baseurl` (as Python's `urljoin`), `params` added to the query, and
 * answers `{"code": status, "content": body text, "headers": {Name: [values…]}}`. A request that
 * gets no answer is the call's error (`wamp.error.runtime_error` with the reason), as Autobahn
 * turns treq's exception into one.
 *
 * xbar bounds it: `max_in_flight` requests at once (32), `max_queued_calls` waiting beyond them
 * (256; more is `xbar.error.busy`, counted as queue_full), `request_timeout`, a response body of at
 * most `max_response_bytes`; requests of idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) that
 * get no answer, a 5xx or 429 are retried with back-off up to `max_attempts` (POST is not).
 */
import type { Logger } from 'pino';
import { type LocalClient, WampError } from '../client/local-client.js';
import type { RestCalleeConfig } from '../config/normalize-outbound.js';
import type { BridgeCounts } from '../stats/bridge-counts.js';
import { twistedHeaderName } from '../web/services/rest/webhook.js';
import { retryDelay, sleep } from './retry.js';
import { ErrorUri } from '../wamp/errors.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export interface RestCallResult {
  readonly code: number;
  readonly content: string;
  readonly headers: Record<string, string[]>;
}

interface RestRequest {
  readonly method: string;
  readonly url: string;
  readonly body: string;
  readonly headers: Headers;
}

const runtimeError = (message: string) => new WampError(ErrorUri.runtimeError, [message], undefined);

/** The call's arguments as the Python signature `on_call(method, url, body, headers, params)` binds them. */
export function restRequest(baseUrl: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): RestRequest {
  const names = ['method', 'url', 'body', 'headers', 'params'] as const;
  const a: Record<string, unknown> = {};
  names.forEach((n, i) => {
    if (i < args.length) a[n] = args[i];
  });
  for (const [k, v] of Object.entries(kwargs)) {
    if (!(names as readonly string[]).includes(k)) throw runtimeError(`on_call() got an unexpected keyword argument '${k}'`);
    a[k] = v;
  }
  if (typeof a.method !== 'string' || a.method === '') throw runtimeError('the call needs "method" (e.g. "GET")');
  if (typeof a.url !== 'string') throw runtimeError('the call needs "url" (relative to the component\'s baseurl)');
  const body = a.body ?? '';
  if (typeof body !== 'string') throw runtimeError('"body" must be a string');
  const target = new URL(a.url, baseUrl);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw runtimeError(`not an HTTP URL: ${target.href}`);
  const params = a.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw runtimeError('"params" must be a dict');
  for (const [k, v] of Object.entries(params)) target.searchParams.append(k, String(v));
  const headers = new Headers();
  const given = a.headers ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw runtimeError('"headers" must be a dict');
  try {
    for (const [k, v] of Object.entries(given)) for (const one of Array.isArray(v) ? v : [v]) headers.append(k, String(one));
  } catch (e) {
    throw runtimeError((e as Error).message);
  }
  return { method: a.method.toUpperCase(), url: target.href, body, headers };
}

export class RestCallee {
  private readonly stop = new AbortController();
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly c: RestCalleeConfig, private readonly counts: BridgeCounts, private readonly log: Logger) {}

  async start(client: LocalClient): Promise<void> {
    await client.register(this.c.procedure, async (args, kwargs) => ({ args: [await this.call(args ?? [], kwargs ?? {})] }));
  }

  async call(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Promise<RestCallResult> {
    const req = restRequest(this.c.baseUrl, args, kwargs);
    if (this.inFlight >= this.c.maxInFlight) {
      if (this.waiting.length >= this.c.maxQueuedCalls) {
        this.counts.outboundDropped.inc({ component: this.c.id, reason: 'queue_full' });
        throw new WampError('xbar.error.busy', [`RESTCallee ${this.c.procedure}: ${this.c.maxInFlight} requests in flight and ${this.c.maxQueuedCalls} waiting`], undefined);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.inFlight++;
    try {
      return await this.send(req);
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  private async send(req: RestRequest): Promise<RestCallResult> {
    const retry = IDEMPOTENT.has(req.method);
    for (let attempt = 1; ; attempt++) {
      let result: RestCallResult | undefined;
      let problem: string;
      try {
        result = await this.once(req);
        problem = `${req.method} ${req.url} returned ${result.code}`;
      } catch (e) {
        if (e instanceof WampError) throw e;
        problem = (e as Error).message;
      }
      const transient = result === undefined || result.code >= 500 || result.code === 429;
      if (!transient) return result!;
      if (!retry || attempt >= this.c.attempts || this.stop.signal.aborted) {
        if (result) return result;
        this.counts.outboundDropped.inc({ component: this.c.id, reason: 'failed' });
        this.log.warn({ url: req.url, problem, attempts: attempt }, 'RESTCallee: request failed');
        throw runtimeError(problem);
      }
      this.counts.outboundRetries.inc({ component: this.c.id });
      await sleep(retryDelay(this.c, attempt), this.stop.signal);
    }
  }

  private async once(req: RestRequest): Promise<RestCallResult> {
    const signal = AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.c.requestTimeout)]);
    const res = await fetch(req.url, {
      method: req.method, headers: req.headers, signal,
      ...(req.body !== '' || !['GET', 'HEAD'].includes(req.method) ? { body: req.body } : {}),
    });
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > this.c.maxResponseBytes) throw new WampError(ErrorUri.runtimeError, [`the response of ${req.url} is over ${this.c.maxResponseBytes} bytes`], undefined);
        chunks.push(chunk);
      }
    }
    const headers: Record<string, string[]> = {};
    for (const [k, v] of res.headers) (headers[twistedHeaderName(k)] ??= []).push(v);
    return { code: res.status, content: Buffer.concat(chunks).toString('utf8'), headers };
  }

  close(): void {
    this.stop.abort();
  }
}
