/**
 * The `reverseproxy` web service: forwards each HTTP request to `host:port`, as Crossbar.io's
 * `ExtReverseProxyResource` (`crossbar/webservice/base.py`) does: the path below the service,
 * each component re-quoted, appended to `path`, the query string kept; `Host` set to the target
 * (":port" unless 80); `X-Forwarded-Host` (the client's Host), `X-Forwarded-For` and `X-Real-IP`
 * (the client's address, replacing what the client sent), `X-Forwarded-Port` and
 * `X-Forwarded-Proto` from `forwarded_port`/`forwarded_proto` (80 and "http" unless set). The
 * body streams both ways; hop-by-hop headers are not forwarded.
 *
 * Hand-written on node:http (a few dozen lines; http-proxy, the library for it, is unmaintained).
 * xbar differs: an unreachable target is 502 Bad Gateway (Twisted answers 501).
 */
import http from 'node:http';
import type { Logger } from 'pino';
import type { ReverseProxyPathConfig } from '../../config/types-web.js';
import type { PathHandler, RequestPath } from '../http-server.js';
import { reply } from './http-util.js';

/** RFC 7230 §6.1 hop-by-hop headers, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** How long the target may take to answer, ms. */
const TARGET_TIMEOUT_MS = 60_000;

/** Python's `urllib.parse.quote(s, safe="")`: everything but letters, digits and "-._~". */
export function quoteComponent(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Where `forwardRequest` sends a request. */
export interface ForwardTarget {
  readonly host: string;
  readonly port: number;
  /** The request target: path and query. */
  readonly path: string;
  readonly headers: http.OutgoingHttpHeaders;
  readonly agent?: http.Agent;
  /** The 502 body's text when the target does not answer. */
  readonly unreachable: string;
}

/**
 * Sends `req` to the target and its answer back, both bodies streamed (each direction paused by
 * pipe's backpressure); hop-by-hop headers of the answer are dropped. A target that fails before
 * answering is 502; one that fails while answering ends the response.
 */
export function forwardRequest(req: http.IncomingMessage, res: http.ServerResponse, t: ForwardTarget, log: Logger): void {
  const upstream = http.request({ host: t.host, port: t.port, method: req.method, path: t.path, headers: t.headers, timeout: TARGET_TIMEOUT_MS, ...(t.agent ? { agent: t.agent } : {}) });
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, forwardable(answer.headers));
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  upstream.on('timeout', () => upstream.destroy(new Error(`no answer within ${TARGET_TIMEOUT_MS} ms`)));
  upstream.on('error', (err) => {
    log.warn({ err: err.message, target: `${t.host}:${t.port}${t.path}` }, 'target failed');
    if (!res.headersSent) reply(req, res, 502, `Bad gateway: ${t.unreachable}\n`);
    else res.destroy();
  });
  // A client that goes away takes its upstream request with it.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

/** The request's headers without hop-by-hop ones (RFC 7230 §6.1 and those `Connection` names). */
export function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase()),
  );
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && !named.has(k)) out[k] = v;
  return out;
}

export function reverseProxyService(c: ReverseProxyPathConfig, log: Logger): PathHandler {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const hostHeader = c.port === 80 ? c.host : `${c.host}:${c.port}`;
  return {
    request(req: http.IncomingMessage, res: http.ServerResponse, _rest: string, at: RequestPath) {
      const path = c.path + at.segments.map((s) => `/${quoteComponent(s)}`).join('');
      const target = `${path === '' ? '/' : path}${at.query === '' ? '' : `?${at.query}`}`;
      const client = req.socket.remoteAddress ?? '';
      const headers: http.OutgoingHttpHeaders = {
        ...forwardable(req.headers),
        host: hostHeader,
        'x-forwarded-port': String(c.forwardedPort),
        'x-forwarded-proto': c.forwardedProto,
      };
      if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
      if (client !== '') {
        headers['x-forwarded-for'] = client;
        headers['x-real-ip'] = client;
      }
      forwardRequest(req, res, { host: c.host, port: c.port, path: target, headers, agent, unreachable: `${c.host}:${c.port} did not answer` }, log);
    },
    close() {
      agent.destroy();
    },
  };
}
