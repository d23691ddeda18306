/**
 * The `caller` path service (Crossbar.io's `CallerResource`): POST or PUT a JSON object
 * `{"procedure", "args", "kwargs"}` and the procedure is called on the service's realm with its
 * role. The answer is the result as Autobahn|Python hands it to Crossbar.io: a single value is
 * `{"args": [value]}` (no result: `{"args": [null]}`), several values or keyword results are
 * `{"args": […], "kwargs": {…}}` (each only when not empty). A WAMP error is a 200 answer with
 * `{"error", "args", "kwargs"}`.
 *
 * xbar adds the call timeout: the request's `options.timeout` (ms, as a WAMP CALL option), never
 * more than the service's `call_timeout` (60 s unless set), answered with `wamp.error.timeout`.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { CallerPathConfig } from '../../../config/types-web.js';
import type { Router } from '../../../router/router.js';
import { DENIALS, Denial, deny, send, sendFailure } from './answers.js';
import { BridgeService } from './bridge-service.js';
import { PythonTypeError, isDict, starArgs, starKwargs, truthy } from './python-payload.js';
import type { AcceptedRequest } from './request-checks.js';

export class CallerService extends BridgeService {
  private readonly maxTimeout: number;

  constructor(c: CallerPathConfig, router: Router, log: Logger) {
    super(c, router, 'xbar-caller', log);
    this.maxTimeout = c.callTimeout;
  }

  protected async process(_req: http.IncomingMessage, res: http.ServerResponse, r: AcceptedRequest): Promise<void> {
    const event = r.json!;
    if (!('procedure' in event)) return deny(res, new Denial(400, DENIALS.AR455('procedure')));
    let args: unknown[], kwargs: Record<string, unknown>;
    try {
      args = starArgs(event.args);
      kwargs = starKwargs(event.kwargs);
    } catch (e) {
      if (e instanceof PythonTypeError) return deny(res, new Denial(500, DENIALS.CB500()));
      throw e;
    }
    // Autobahn takes a kwarg "options" as its CallOptions: a falsy one is dropped, any other fails the call.
    const kwOptions = kwargs.options;
    delete kwargs.options;
    if (typeof event.procedure !== 'string' || truthy(kwOptions)) return sendFailure(res, new Error('not a call Autobahn makes'));
    const requested = isDict(event.options) ? event.options.timeout : undefined;
    const timeout = typeof requested === 'number' && requested > 0 ? Math.min(requested, this.maxTimeout) : this.maxTimeout;
    try {
      const client = await this.session.client();
      const result = await client.call(event.procedure, args, kwargs, { timeout: Math.ceil(timeout) });
      send(res, 200, JSON.stringify(resultBody(result.args ?? [], result.kwargs ?? {})));
    } catch (e) {
      sendFailure(res, e);
    }
  }
}

/** Autobahn|Python's call result (one value, or a `CallResult`) as Crossbar.io answers it. */
export function resultBody(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const named = Object.keys(kwargs).length > 0;
  if (!named && args.length <= 1) return { args: [args.length === 1 ? args[0] : null] };
  return { ...(args.length > 0 ? { args } : {}), ...(named ? { kwargs } : {}) };
}
