/**
 * The `publisher` path service (Crossbar.io's `PublisherResource`): POST or PUT a JSON object
 * `{"topic", "args", "kwargs", "options"}` and it is published, acknowledged, on the service's
 * realm with its role; the answer is `{"id": <publication id>}`. A publish the router refuses
 * (not authorized, invalid URI) is a WAMP error in a 200 answer, as Crossbar.io sends it.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { PublisherPathConfig } from '../../../config/types-web.js';
import type { Router } from '../../../router/router.js';
import { DENIALS, Denial, deny, send, sendFailure } from './answers.js';
import { BridgeService } from './bridge-service.js';
import { PythonTypeError, publishOptions, starArgs, starKwargs } from './python-payload.js';
import type { AcceptedRequest } from './request-checks.js';

export class PublisherService extends BridgeService {
  constructor(c: PublisherPathConfig, router: Router, log: Logger) {
    super(c, router, 'xbar-publisher', log);
  }

  protected async process(_req: http.IncomingMessage, res: http.ServerResponse, r: AcceptedRequest): Promise<void> {
    const event = r.json!;
    if (!('topic' in event)) return deny(res, new Denial(400, DENIALS.AR455('topic')));
    let args: unknown[], kwargs: Record<string, unknown>, options: Record<string, unknown>;
    try {
      if (typeof event.topic !== 'string') throw new PythonTypeError('topic must be a string');
      args = starArgs(event.args);
      kwargs = starKwargs(event.kwargs);
      options = publishOptions(event.options);
    } catch (e) {
      if (e instanceof PythonTypeError) return deny(res, new Denial(500, DENIALS.CB500()));
      throw e;
    }
    // Crossbar.io passes the options as the keyword "options", so a kwarg of that name is lost.
    delete kwargs.options;
    try {
      const client = await this.session.client();
      const id = await client.publish(event.topic, args, kwargs, options);
      send(res, 200, JSON.stringify({ id }));
    } catch (e) {
      sendFailure(res, e);
    }
  }
}
