/**
 * The `health` path service, for load balancers and orchestrators: `<path>` is liveness (200
 * while the process serves HTTP at all), `<path>/ready` is readiness: 200 only while the node
 * serves (listeners up, not shutting down) and its backplane is standalone or ready; otherwise 503
 * with a JSON body saying why (HAProxy checks /health/ready). A node of `--workers N` whose
 * workers are not all up still serves (the others take its connections): both answers then say
 * `degraded`, with each worker's state, and stay 200.
 */
import type { PathHandler } from './http-server.js';
import { notAllowed, notFound } from './stats-page.js';

export interface Readiness {
  readonly ready: boolean;
  /** Why not, one sentence each; empty when ready. */
  readonly reasons: readonly string[];
  readonly backplane: string;
  readonly node: string;
  /** With `--workers N`: each worker's state; the node is degraded while one is not up. */
  readonly workers?: readonly { readonly index: number; readonly state: string }[];
}

/** Why a node of workers is degraded: one sentence per worker that is not up. */
export function degradedBy(workers: Readiness['workers']): string[] {
  return (workers ?? []).filter((w) => w.state !== 'up').map((w) => `worker ${w.index} is ${w.state}`);
}

export function healthHandler(readiness: () => Readiness): PathHandler {
  return {
    request(req, res, rest) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res);
      let status: number;
      let body: Record<string, unknown>;
      if (rest === '') {
        status = 200;
        const r = readiness();
        const degraded = degradedBy(r.workers);
        body = r.workers === undefined ? { status: 'alive' } : { status: degraded.length > 0 ? 'degraded' : 'alive', workers: r.workers, ...(degraded.length > 0 ? { reasons: degraded } : {}) };
      } else if (rest === 'ready') {
        const r = readiness();
        const degraded = degradedBy(r.workers);
        const workers = r.workers === undefined ? {} : { workers: r.workers };
        status = r.ready ? 200 : 503;
        body = !r.ready
          ? { status: 'not ready', node: r.node, backplane: r.backplane, reasons: [...r.reasons, ...degraded], ...workers }
          : degraded.length > 0
            ? { status: 'degraded', node: r.node, backplane: r.backplane, reasons: degraded, ...workers }
            : { status: 'ready', node: r.node, backplane: r.backplane, ...workers };
      } else {
        return notFound(res, req.url);
      }
      const text = `${JSON.stringify(body)}\n`;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
  };
}
