/**
 * Small HTTP answers shared by the web services: plain and HTML replies, Crossbar.io's 404 page
 * and 405 answer, and its cross-origin headers (`crossbar/webservice/base.py`
 * `set_cross_origin_headers`).
 */
import type http from 'node:http';
import { XBAR_VERSION } from './version.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Ends the response with `body`; HEAD gets the headers only. */
export function reply(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  body: string | Buffer,
  headers: Readonly<Record<string, string | number>> = {},
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers, 'content-length': bytes.length });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

export function page(title: string, bodyHtml: string): string {
  return (
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n` +
    `<body>\n<h1>${escapeHtml(title)}</h1>\n${bodyHtml}\n<hr><small>xbar ${escapeHtml(XBAR_VERSION)}</small>\n</body></html>\n`
  );
}

/** Crossbar.io's `Resource404`: an HTML page with status 404. */
export function notFound(req: http.IncomingMessage, res: http.ServerResponse): void {
  reply(req, res, 404, page('404 Not Found', '<p>The page requested could not be found.</p>'), {
    'content-type': 'text/html; charset=utf-8',
  });
}

/** Twisted's answer to a method a resource does not render: 405 with the allowed ones. */
export function methodNotAllowed(req: http.IncomingMessage, res: http.ServerResponse, allowed: readonly string[]): void {
  reply(req, res, 405, `Method ${req.method ?? ''} is not allowed here; allowed: ${allowed.join(', ')}\n`, {
    allow: allowed.join(', '),
  });
}

/** True when the method is one of `allowed` (HEAD goes wherever GET does); otherwise answers 405. */
export function allowMethods(req: http.IncomingMessage, res: http.ServerResponse, allowed: readonly string[]): boolean {
  const all = allowed.includes('GET') && !allowed.includes('HEAD') ? [...allowed, 'HEAD'] : allowed;
  if (all.includes(req.method ?? '')) return true;
  methodNotAllowed(req, res, all);
  return false;
}

/**
 * Crossbar.io's cross-origin headers: the request's Origin (or "*" for none or "null") is
 * allowed, with credentials, and any requested headers.
 */
export function setCrossOriginHeaders(req: http.IncomingMessage, res: http.ServerResponse): void {
  const origin = req.headers.origin;
  res.setHeader('access-control-allow-origin', origin === undefined || origin === 'null' ? '*' : origin);
  res.setHeader('access-control-allow-credentials', 'true');
  const requested = req.headers['access-control-request-headers'];
  if (requested !== undefined) res.setHeader('access-control-allow-headers', requested);
}

/** The remote address as "host:port" (for pages that show it, as Crossbar.io's do). */
export function peerOf(req: http.IncomingMessage): string {
  const s = req.socket;
  return `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;
}

/** The query string's parameters, first value of each (Crossbar.io's services read only the first). */
export function queryArgs(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(query)) if (!out.has(k)) out.set(k, v);
  return out;
}
