/**
 * The relay's HTTP side (practable's access API, `api/access.yml`, on the relay's own port):
 *
 *   POST <mount>/<topic path>   Authorization: Bearer <token>  → 200 {"uri", "code", "expires_in"}:
 *                               a single-use code for that path (connect to `uri`)
 *   POST <mount>/bids/deny?bid=…&exp=…   admin → 204: deny-list a booking until exp (unix s)
 *   POST <mount>/bids/allow?bid=…        admin → 204: lift a denial
 *   GET  <mount>/bids/deny               admin → 200 {"booking_ids": [{booking_id, exp}]}
 *   GET  <mount>/status                  admin → 200 [connection reports]
 *   GET  <mount>/stats                   the stats page (stats: public, or admin with ?token=)
 *   GET  <mount>/stats?format=json       the reports as JSON
 *
 * `bid` and `exp` may also come as a JSON body. "Admin" is the configured `admin_token` or a
 * token signed like the access tokens with scope "relay:admin" (practable). Every error is a
 * status with a JSON body `{"error": "<sentence>"}`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RelayRefusal } from './errors.js';
import { bearerOf, type RelayService } from './relay.js';
import { parseRoute, type Route } from './route.js';
import { STATS_PAGE } from './stats-page.js';
import { checkGrant } from './token.js';

const MAX_BODY = 8 * 1024;

export async function handleRequest(relay: RelayService, req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://relay');
    let route: Route;
    try {
      route = parseRoute(rest);
    } catch (e) {
      // The bare mount point answers with a hint rather than "no topic".
      if (rest === '' && (req.method === 'GET' || req.method === 'HEAD')) {
        return text(res, 200, 'xbar relay: connect a WebSocket client to /<topic>, /in/<topic> or /out/<topic>; stats at /stats\n');
      }
      throw e;
    }
    switch (route.kind) {
      case 'stats':
        return await stats(relay, req, res, url);
      case 'api':
        return await api(relay, req, res, route.path, url);
      case 'topic':
        if (req.method === 'POST') return await exchange(relay, req, res, route.path);
        if (req.method === 'GET' || req.method === 'HEAD') {
          return fail(res, new RelayRefusal(426, `"${route.path}" is a relay topic: connect with a WebSocket client`), { upgrade: 'websocket' });
        }
        return fail(res, new RelayRefusal(405, `${req.method} not allowed on a topic; use a WebSocket, or POST a token for an access code`), { allow: 'GET, POST' });
    }
  } catch (e) {
    if (e instanceof RelayRefusal) return fail(res, e);
    relay.log.error({ err: e }, 'relay: request failed');
    return fail(res, new RelayRefusal(500, 'internal error'));
  }
}

async function stats(relay: RelayService, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new RelayRefusal(405, 'the stats page is read with GET');
  const refusal = await statsRefusal(relay, req);
  if (refusal) throw new RelayRefusal(refusal.status, refusal.message);
  if (url.searchParams.get('format') === 'json') return json(res, 200, relay.reports());
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:",
  });
  res.end(req.method === 'HEAD' ? undefined : STATS_PAGE);
}

/** Why this request may not see the stats (stats: off, or admin without the admin token). */
export async function statsRefusal(relay: RelayService, req: IncomingMessage): Promise<{ status: number; message: string } | undefined> {
  switch (relay.config.stats) {
    case 'public':
      return undefined;
    case 'off':
      return { status: 404, message: 'stats are off on this relay' };
    case 'admin': {
      const token = new URL(req.url ?? '/', 'http://relay').searchParams.get('token') ?? undefined;
      return adminRefusal(relay, bearerOf(req) ?? token);
    }
  }
}

async function api(relay: RelayService, req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
  const known: Record<string, readonly string[]> = { status: ['GET'], 'bids/deny': ['GET', 'POST'], 'bids/allow': ['POST'] };
  const methods = known[path];
  if (!methods) throw new RelayRefusal(404, `no such access API path "${path}"; see /bids/deny, /bids/allow, /status`);
  if (!methods.includes(req.method ?? '')) throw new RelayRefusal(405, `${req.method} not allowed on ${path}; use ${methods.join(' or ')}`);
  const refusal = await adminRefusal(relay, bearerOf(req));
  if (refusal) throw new RelayRefusal(refusal.status, refusal.message);

  if (path === 'status') return json(res, 200, relay.reports());
  if (path === 'bids/deny' && req.method === 'GET') return json(res, 200, { booking_ids: relay.denied.list() });

  const params = await bookingParams(req, url);
  if (path === 'bids/allow') {
    relay.denied.allow(params.bid);
    return noContent(res);
  }
  if (params.exp === undefined || params.exp * 1000 <= Date.now()) {
    throw new RelayRefusal(400, params.exp === undefined ? 'exp (booking expiry, unix seconds) missing' : `exp ${params.exp} is in the past`);
  }
  relay.deny(params.bid, params.exp * 1000);
  return noContent(res);
}

/** `bid` and `exp` from the query (practable) or a JSON body. */
async function bookingParams(req: IncomingMessage, url: URL): Promise<{ bid: string; exp?: number }> {
  let bid = url.searchParams.get('bid') ?? undefined;
  let exp: unknown = url.searchParams.get('exp') ?? undefined;
  const body = await readBody(req);
  if (body.length > 0) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      throw new RelayRefusal(400, 'request body is not JSON');
    }
    if (typeof doc !== 'object' || doc === null) throw new RelayRefusal(400, 'request body must be a JSON object {"bid", "exp"}');
    const d = doc as Record<string, unknown>;
    if (d['bid'] !== undefined) {
      if (typeof d['bid'] !== 'string') throw new RelayRefusal(400, '"bid" must be a string');
      bid = d['bid'];
    }
    if (d['exp'] !== undefined) exp = d['exp'];
  }
  if (!bid) throw new RelayRefusal(400, 'bid (booking id) missing');
  if (exp === undefined) return { bid };
  const n = typeof exp === 'number' ? exp : typeof exp === 'string' && /^\d+$/.test(exp) ? Number(exp) : NaN;
  if (!Number.isSafeInteger(n)) throw new RelayRefusal(400, `exp must be unix seconds (an integer), got ${JSON.stringify(exp)}`);
  return { bid, exp: n };
}

/** POST <path> with a token → a single-use code for that path. */
async function exchange(relay: RelayService, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const verifier = relay.verifier;
  if (!verifier) throw new RelayRefusal(404, 'this relay does not use tokens: connect to the topic directly');
  const bearer = bearerOf(req);
  if (bearer === undefined) throw new RelayRefusal(401, 'POST needs an Authorization: Bearer <token> header');
  const grant = await verifier.verify(bearer);
  checkGrant(grant, path, Date.now());
  if (relay.denied.isDenied(grant.bookingId)) throw new RelayRefusal(403, `booking "${grant.bookingId}" is deny-listed`);
  const code = relay.codes.issue(grant);
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true || req.headers['x-forwarded-proto'] === 'https';
  const host = req.headers.host ?? 'localhost';
  const mount = relay.options.mount === '' ? '' : `/${relay.options.mount}`;
  return json(res, 200, {
    uri: `${secure ? 'wss' : 'ws'}://${host}${mount}/${path}?code=${code}`,
    code,
    expires_in: relay.config.codeTtl / 1000,
  });
}

/** undefined if `bearer` is the admin token or an access token with scope "relay:admin". */
async function adminRefusal(relay: RelayService, bearer: string | undefined): Promise<{ status: number; message: string } | undefined> {
  const admin = relay.config.adminToken;
  const verifier = relay.verifier;
  if (admin === undefined && !verifier) return { status: 403, message: 'no admin_token configured for this relay' };
  if (bearer === undefined || bearer === '') return { status: 401, message: 'admin API needs an Authorization: Bearer <admin token> header' };
  if (admin !== undefined && sameSecret(bearer, admin)) return undefined;
  if (verifier && bearer.split('.').length === 3) {
    try {
      const grant = await verifier.verifyAdmin(bearer);
      if (grant) return undefined;
    } catch {
      // fall through: not a valid admin token
    }
  }
  return { status: 401, message: 'admin token invalid' };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      if (size > MAX_BODY) return; // already refused: the rest is read and discarded
      size += c.length;
      if (size > MAX_BODY) {
        chunks.length = 0;
        reject(new RelayRefusal(413, `request body larger than ${MAX_BODY} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

function noContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

function fail(res: ServerResponse, e: RelayRefusal, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const data = JSON.stringify({ error: e.message });
  // The request may not have been read to its end (e.g. 413): do not reuse the connection.
  res.shouldKeepAlive = false;
  res.writeHead(e.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
    ...(e.status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
    ...headers,
  });
  res.end(data);
}
