/**
 * The `health` path service, for load balancers and orchestrators: `<path>` is liveness (200
 * while the process serves HTTP at all), `<path>/ready` is readiness: 200 only while the node
 * serves (listeners up, not shutting down) and its backplane is standalone or ready; otherwise 503
 * with a JSON body saying why (HAProxy checks /health/ready).
 */
import type { PathHandler } from './http-server.js';
import { notAllowed, notFound } from './stats-page.js';

export interface Readiness {
  readonly ready: boolean;
  /** Why not, one sentence each; empty when ready. */
  readonly reasons: readonly string[];
  readonly backplane: string;
  readonly node: string;
}

export function healthHandler(readiness: () => Readiness): PathHandler {
  return {
    request(req, res, rest) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res);
      let status: number;
      let body: Record<string, unknown>;
      if (rest === '') {
        status = 200;
        body = { status: 'alive' };
      } else if (rest === 'ready') {
        const r = readiness();
        status = r.ready ? 200 : 503;
        body = r.ready ? { status: 'ready', node: r.node, backplane: r.backplane } : { status: 'not ready', node: r.node, backplane: r.backplane, reasons: r.reasons };
      } else {
        return notFound(res, req.url);
      }
      const text = `${JSON.stringify(body)}\n`;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
  };
}
