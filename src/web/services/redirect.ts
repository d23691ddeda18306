/**
 * The `redirect` web service: every GET on the path or below it answers 302 with `Location: url`,
 * as Crossbar.io's `RedirectResource` (a leaf: sub-paths are not appended).
 */
import type { RedirectPathConfig } from '../../config/types-web.js';
import type { PathHandler } from '../http-server.js';
import { allowMethods, reply } from './http-util.js';

export function redirectService(c: RedirectPathConfig): PathHandler {
  return {
    request(req, res) {
      if (!allowMethods(req, res, ['GET'])) return;
      reply(req, res, 302, '', { location: c.url });
    },
  };
}
