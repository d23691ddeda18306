/**
 * The `stats` path service's JSON report at `<path>.json` (the page at the path is the console,
 * web/console/). It takes no query parameters but the access gate's `token`; others get 400.
 */
import type http from 'node:http';
import type { StatsCollector } from '../stats/collector.js';
import { parseQuery, QueryError } from './console/query.js';
import type { PathHandler } from './http-server.js';

export function statsJsonHandler(collector: Pick<StatsCollector, 'snapshot'>): PathHandler {
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
      const body = JSON.stringify(collector.snapshot());
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
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
