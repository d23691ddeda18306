/**
 * The `stats` path service as an operator console: the page at the path, its script and uPlot
 * (served from node_modules, never a CDN), and the JSON it polls below the path:
 *
 *   <path>                 the page                <path>/history.json?since=MS  the last minutes
 *   <path>/cluster.json    every node, and totals  <path>/sessions.json?limit=N&realm=R
 *
 * (`<path>.json`, the node's report, is `statsJsonHandler`.) All of it sits behind the service's
 * access gate, so the session listing reaches exactly whom the statistics reach. A query string
 * with anything but the parameters named (and `token`) is answered 400.
 */
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { createRequire } from 'node:module';
import type { Rates, Totals } from '../../stats/snapshot.js';
import type { PathHandler } from '../http-server.js';
import { notAllowed, notFound } from '../stats-page.js';
import { CONSOLE_CSS, CONSOLE_SCRIPT, consolePage } from './console-page.js';
import type { ConsoleSource, NodeFigures } from './console-source.js';
import { intParam, parseQuery, QueryError, textParam } from './query.js';

const require = createRequire(import.meta.url);

/** uPlot's browser build and stylesheet, read once. */
let uplot: { js: Buffer; css: Buffer } | undefined;
function uplotFiles(): { js: Buffer; css: Buffer } {
  uplot ??= {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css')),
  };
  return uplot;
}

export interface ConsoleOptions {
  /** URL path of the page, e.g. "/stats" ("" at the root). */
  readonly base: string;
  /** URL of the node's JSON report, e.g. "/stats.json". */
  readonly jsonUrl: string;
  /** How often the page polls (the sampling interval). */
  readonly refreshMs: number;
}

const SESSION_LIMIT = intParam(1, 1000);
const SINCE = intParam(0, Number.MAX_SAFE_INTEGER);
const REALM = textParam(255);

export function consoleHandler(source: ConsoleSource, o: ConsoleOptions): PathHandler {
  const assets: Record<string, { type: string; body: () => Buffer | string }> = {
    'console.js': { type: 'text/javascript; charset=utf-8', body: () => CONSOLE_SCRIPT },
    'console.css': { type: 'text/css; charset=utf-8', body: () => CONSOLE_CSS },
    'uplot.js': { type: 'text/javascript; charset=utf-8', body: () => uplotFiles().js },
    'uplot.css': { type: 'text/css; charset=utf-8', body: () => uplotFiles().css },
  };
  return {
    request(req, res, rest) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res);
      try {
        if (rest === '') {
          parseQuery(req.url, {});
          return send(req, res, 200, 'text/html; charset=utf-8', consolePage(o, tokenOf(req.url)), {
            // Scripts and styles come from this service only; data from this origin only.
            'content-security-policy': "default-src 'none'; connect-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
          });
        }
        const asset = assets[rest];
        if (asset) {
          parseQuery(req.url, {});
          return send(req, res, 200, asset.type, asset.body(), { 'cache-control': 'private, max-age=300' });
        }
        if (rest === 'history.json') {
          const q = parseQuery(req.url, { since: SINCE });
          const s = source.snapshot();
          return answer(req, res, Promise.resolve(source.history(q.since)).then((points) => ({ node: s.node, interval_ms: s.interval_ms, points })));
        }
        if (rest === 'cluster.json') {
          parseQuery(req.url, {});
          return answer(req, res, source.cluster().then((nodes) => ({ clustered: source.clustered(), nodes, totals: clusterTotals(nodes) })));
        }
        if (rest === 'sessions.json') {
          const q = parseQuery(req.url, { limit: SESSION_LIMIT, realm: REALM });
          return answer(req, res, source.sessions(q.limit ?? 200, q.realm).then((nodes) => ({
            total: nodes.reduce((n, x) => n + x.total, 0),
            sessions: nodes.flatMap((x) => x.sessions),
          })));
        }
        return notFound(res, req.url);
      } catch (e) {
        if (e instanceof QueryError) return send(req, res, 400, 'text/plain; charset=utf-8', `${e.message}\n`);
        // A failure here ends this request, never the process.
        return send(req, res, 500, 'text/plain; charset=utf-8', `console failed: ${(e as Error).message}\n`);
      }
    },
  };
}

/** Sums of every node's counts, totals and rates (latencies do not add up: they stay per node). */
export function clusterTotals(nodes: readonly NodeFigures[]): { nodes: number; connections: number; sessions: number; totals: Totals; rates: Rates } {
  const sum = <T extends object>(pick: (n: NodeFigures) => T): T => {
    const out: Record<string, number> = {};
    for (const n of nodes) for (const [k, v] of Object.entries(pick(n))) out[k] = (out[k] ?? 0) + (typeof v === 'number' ? v : 0);
    return out as unknown as T;
  };
  return {
    nodes: nodes.length,
    connections: nodes.reduce((n, x) => n + x.connections, 0),
    sessions: nodes.reduce((n, x) => n + x.sessions, 0),
    totals: sum((n) => n.totals),
    rates: sum((n) => n.rates),
  };
}

function tokenOf(url: string | undefined): string | undefined {
  const q = (url ?? '').indexOf('?');
  return q < 0 ? undefined : (new URLSearchParams((url ?? '').slice(q + 1)).get('token') ?? undefined);
}

function answer(req: http.IncomingMessage, res: http.ServerResponse, body: Promise<unknown>): void {
  body.then(
    (b) => json(req, res, b),
    (err: unknown) => send(req, res, 500, 'text/plain; charset=utf-8', `console data failed: ${(err as Error).message}\n`),
  );
}

function json(req: http.IncomingMessage, res: http.ServerResponse, body: unknown): void {
  send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(body));
}

function send(req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff', ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
