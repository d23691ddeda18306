/**
 * The `json` web service: the configured value as `application/json`, as Crossbar.io's
 * `JsonResource` (compact unless `prettify`, cross-origin headers unless `allow_cross_origin` is
 * false, no-store headers with `discourage_caching`). xbar differs in two small ways: the options
 * are applied (Crossbar.io's factory drops them), and the charset reads "utf-8" (Crossbar.io sends
 * "utf8-8").
 */
import type { JsonPathConfig } from '../../config/types-web.js';
import type { PathHandler } from '../http-server.js';
import { allowMethods, reply, setCrossOriginHeaders } from './http-util.js';

export function jsonService(c: JsonPathConfig): PathHandler {
  const body = Buffer.from(c.body, 'utf8');
  return {
    request(req, res) {
      if (!allowMethods(req, res, ['GET'])) return;
      if (c.allowCrossOrigin) setCrossOriginHeaders(req, res);
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (c.discourageCaching) headers['cache-control'] = 'no-store, no-cache, must-revalidate, max-age=0';
      reply(req, res, 200, body, headers);
    },
  };
}
