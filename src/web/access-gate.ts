/**
 * Access control for a path service (stats, metrics, health; any service can use it): a client
 * must come from one of the allowed `networks` (real client address: PROXY protocol or trusted
 * X-Forwarded-For) and, when a `token` is set, present it as `Authorization: Bearer <token>` or,
 * for a browser that opens a page by URL, as `?token=<token>`. Refusals: 403 outside the networks,
 * 401 (with `WWW-Authenticate: Bearer`) without the right token. Tokens are compared in constant time.
 *
 *   "stats": {"type": "stats", "access": {"token": "…", "networks": ["10.0.0.0/8", "127.0.0.1"]}}
 */
import { timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { AccessConfig } from '../config/types.js';
import { clientAddress } from '../network/client-address.js';
import { NetworkList } from '../network/networks.js';
import type { EdgeRefusals } from '../network/refusals.js';
import type { PathHandler } from './http-server.js';

export interface AccessRefusal {
  readonly status: 401 | 403;
  readonly reason: 'network' | 'token';
  readonly message: string;
}

export class AccessGate {
  private readonly networks: NetworkList | undefined;
  private readonly token: Buffer | undefined;

  constructor(config: AccessConfig, private readonly path = '', private readonly refusals?: EdgeRefusals) {
    this.networks = config.networks === undefined ? undefined : new NetworkList(config.networks);
    this.token = config.token === undefined ? undefined : Buffer.from(config.token);
  }

  /** Why `req` may not use the service, or undefined when it may (counted in /metrics). */
  refusal(req: IncomingMessage): AccessRefusal | undefined {
    const r = this.check(req);
    if (r) this.refusals?.access.inc({ path: `/${this.path}`, reason: r.reason });
    return r;
  }

  private check(req: IncomingMessage): AccessRefusal | undefined {
    if (this.networks !== undefined) {
      const address = clientAddress(req);
      if (!this.networks.contains(address)) {
        return { status: 403, reason: 'network', message: `clients from ${address ?? 'this address'} may not use this service (not in its access.networks)` };
      }
    }
    if (this.token !== undefined) {
      const given = presentedToken(req);
      if (given === undefined) return { status: 401, reason: 'token', message: 'this service needs a token: send "Authorization: Bearer <token>" or add ?token=<token>' };
      const g = Buffer.from(given);
      if (g.length !== this.token.length || !timingSafeEqual(g, this.token)) return { status: 401, reason: 'token', message: 'token invalid' };
    }
    return undefined;
  }
}

function presentedToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (m) return m[1];
  }
  const q = (req.url ?? '').indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams((req.url ?? '').slice(q + 1)).get('token') ?? undefined;
}

/** `handler` behind `gate` (as is when there is no gate): requests and upgrades are refused alike. */
export function gated(handler: PathHandler, gate: AccessGate | undefined): PathHandler {
  if (gate === undefined) return handler;
  const out: PathHandler = {};
  if (handler.request) {
    const request = handler.request.bind(handler);
    out.request = (req, res, rest, at) => {
      const r = gate.refusal(req);
      if (r === undefined) return request(req, res, rest, at);
      const body = `${r.message}\n`;
      res.writeHead(r.status, {
        'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body),
        ...(r.status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
  }
  if (handler.upgrade) {
    const upgrade = handler.upgrade.bind(handler);
    out.upgrade = (req, socket, head, rest, at) => {
      const r = gate.refusal(req);
      if (r === undefined) return upgrade(req, socket, head, rest, at);
      refuseUpgrade(socket, r.status, r.message, r.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
    };
  }
  if (handler.close) out.close = handler.close.bind(handler);
  return out;
}

/** Ends a WebSocket upgrade with an HTTP error and closes the socket once the reply is out. */
export function refuseUpgrade(socket: Socket, status: number, message: string, headers: Readonly<Record<string, string>> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${message}\n`;
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}
