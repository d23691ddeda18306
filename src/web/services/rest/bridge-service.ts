/**
 * What the publisher, caller and webhook services share (Crossbar.io's `_CommonResource.render`):
 * the common headers on every answer, POST and PUT handled, OPTIONS answered for CORS preflight,
 * any other method 405; the request checks; an unexpected failure is Crossbar.io's 500.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { BridgeRequestChecks } from '../../../config/types-web.js';
import type { Router } from '../../../router/router.js';
import type { PathHandler, RequestPath } from '../../http-server.js';
import { ServiceSession } from '../service-session.js';
import { DENIALS, Denial, deny, setCommonHeaders } from './answers.js';
import { type AcceptedRequest, Refused, RequestChecks } from './request-checks.js';

export abstract class BridgeService implements PathHandler {
  protected readonly session: ServiceSession;
  private readonly checks: RequestChecks;

  constructor(c: { realm: string; role: string; checks: BridgeRequestChecks }, router: Router, authid: string, protected readonly log: Logger) {
    this.session = new ServiceSession(router, c.realm, c.role, authid);
    this.checks = new RequestChecks(c.checks);
  }

  request(req: http.IncomingMessage, res: http.ServerResponse, _rest: string, at: RequestPath): void {
    setCommonHeaders(req, res);
    const method = req.method ?? '';
    if (method === 'OPTIONS') {
      res.setHeader('allow', 'POST,PUT,OPTIONS');
      res.setHeader('access-control-allow-methods', 'POST,PUT,OPTIONS');
      res.setHeader('content-length', 0);
      res.writeHead(200).end();
      return;
    }
    if (method !== 'POST' && method !== 'PUT') return deny(res, new Denial(405, DENIALS.AR405(method)), true);
    this.checks.check(req, at.query).then(
      (r) => {
        if (r instanceof Refused) {
          if (r.unread) res.once('finish', () => req.destroy());
          return deny(res, r.denial, r.unread);
        }
        return this.process(req, res, r);
      },
    ).catch((e: unknown) => {
      this.log.error({ err: e }, 'HTTP bridge: unhandled failure');
      deny(res, new Denial(500, DENIALS.CB500()));
    });
  }

  /** Handles an accepted request and answers it. */
  protected abstract process(req: http.IncomingMessage, res: http.ServerResponse, r: AcceptedRequest): Promise<void>;

  close(): void {
    this.session.close();
  }
}
