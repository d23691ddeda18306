/**
 * The `stats` path service's JSON report at `<path>.json` (the page at the path is the console,
 * web/console/). It takes no query parameters but the access gate's `token`; others get 400.
 */
import type http from 'node:http';
import type { NodeSnapshot } from '../stats/snapshot.js';
import { parseQuery, QueryError } from './console/query.js';
import type { PathHandler } from './http-server.js';

/** `snapshot`: the node's report (with `--workers N`, gathered from every worker: a promise). */
export function statsJsonHandler(source: { snapshot(): NodeSnapshot | Promise<NodeSnapshot> }): PathHandler {
  return {
    request(req, res, rest) {
      if (rest !== '') return notFound(res, req.url);
      if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res);
      try {
        parseQuery(req.url, {});
      } catch (e) {
        res.writeHead(e instanceof QueryError ? 400 : 500, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(`${(e as Error).message}\n`);
      }
      Promise.resolve(source.snapshot()).then(
        (snapshot) => {
          const body = JSON.stringify(snapshot);
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`stats failed: ${(err as Error).message}\n`);
        },
      );
    },
  };
}

export function notFound(res: http.ServerResponse, url: string | undefined): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`No service at ${url ?? '/'}\n`);
}

export function notAllowed(res: http.ServerResponse): void {
  res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' });
  res.end('Only GET and HEAD are served here\n');
}
