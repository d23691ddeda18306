/**
 * The `webhook` path service (Crossbar.io's `WebhookResource`): any POST or PUT becomes one event
 * on the configured topic, `{"headers": {Name: [values…]}, "body": "<the body as text>"}`, with
 * header names as Twisted spells them ("Content-Type", "X-Hub-Signature") and every value of a
 * repeated header. The answer is 202 with `success_response` ("OK"), or 500 with
 * `error_response` ("NOT OK") when the publish fails. With `github_secret`, the request's
 * X-Hub-Signature must be the body's HMAC-SHA1 with that secret.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { WebhookPathConfig } from '../../../config/types-web.js';
import type { Router } from '../../../router/router.js';
import { WampError } from '../../../client/local-client.js';
import { clientAddress } from '../../../network/client-address.js';
import { send } from './answers.js';
import { BridgeService } from './bridge-service.js';
import type { AcceptedRequest } from './request-checks.js';

/** Twisted's `Headers._caseMappings`: names it does not spell by capitalizing each word. */
const TWISTED_NAMES: Readonly<Record<string, string>> = {
  'content-md5': 'Content-MD5', dnt: 'DNT', etag: 'ETag', p3p: 'P3P', te: 'TE', 'www-authenticate': 'WWW-Authenticate',
  'x-xss-protection': 'X-XSS-Protection',
};

export function twistedHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return TWISTED_NAMES[lower] ?? lower.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');
}

/** The request's headers as Twisted's `getAllRawHeaders` lists them: name → every value, in order. */
export function webhookHeaders(req: http.IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) (out[twistedHeaderName(raw[i]!)] ??= []).push(raw[i + 1]!);
  return out;
}

export class WebhookService extends BridgeService {
  constructor(private readonly c: WebhookPathConfig, router: Router, log: Logger) {
    super(c, router, 'xbar-webhook', log);
  }

  protected async process(req: http.IncomingMessage, res: http.ServerResponse, r: AcceptedRequest): Promise<void> {
    const message = { headers: webhookHeaders(req), body: r.text };
    try {
      const client = await this.session.client();
      await client.publish(this.c.topic, [message], undefined, { acknowledge: true });
      send(res, 202, this.c.successResponse);
    } catch (e) {
      const err = e instanceof WampError ? `${e.uri}: ${String(e.args?.[0] ?? '')}` : (e as Error).message;
      this.log.error({ ip: clientAddress(req), topic: this.c.topic, err, realm: this.c.realm, role: this.c.role }, 'webhook: unable to publish');
      send(res, 500, this.c.errorResponse);
    }
  }
}
