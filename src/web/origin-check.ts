/**
 * The Origin check of a WebSocket endpoint, as Crossbar.io does it (Autobahn|Python's
 * `WebSocketServerProtocol.processHandshake`, `_url_to_origin`, `_is_same_origin` and
 * `util.wildcards2patterns`), for the `allowed_origins` and `allow_null_origin` WebSocket options:
 *
 * - no Origin header (a non-browser client): allowed;
 * - `null` (also any `file:` origin): allowed if `allow_null_origin` (default true);
 * - otherwise the origin is rebuilt as `<scheme>://<host>:<port>` (host lowercased, IPv6 without
 *   brackets, port 80/443 for http/https when absent, `None` for other schemes without a port) and
 *   must match one of the patterns in full. A pattern is Crossbar.io's wildcard: "." is literal,
 *   "*" matches anything, and the rest is a regular expression as Crossbar.io compiles it — so
 *   `"https://*.example.com:*"` and `"https?://127[.][0-9]+[.][0-9]+[.][0-9]+:*"` mean the same
 *   in both.
 *
 * A refusal is HTTP 400 with Crossbar.io's sentence ("WebSocket connection denied: origin '…' not
 * allowed"), counted in `xbar_websocket_origin_refused_total`.
 */
import type { IncomingMessage } from 'node:http';
import { originPattern, parseOrigin } from '../network/origin.js';
import type { EdgeRefusals } from '../network/refusals.js';
import { refuseUpgrade } from './access-gate.js';
import type { PathHandler } from './http-server.js';

/** Crossbar.io's defaults: every origin, and the null origin. */
export const ORIGIN_DEFAULTS = { allowedOrigins: ['*'] as readonly string[], allowNullOrigin: true } as const;

/**
 * Beyond any real origin (a host name is at most 253 characters): longer headers are refused
 * before a pattern sees them, which bounds the work of a pattern with many "*".
 */
const MAX_ORIGIN_LENGTH = 1024;

export interface OriginRules {
  readonly allowedOrigins?: readonly string[];
  readonly allowNullOrigin?: boolean;
}

export interface OriginRefusal {
  readonly reason: 'not_allowed' | 'null' | 'invalid';
  readonly message: string;
}

export class OriginPolicy {
  private readonly patterns: readonly RegExp[];
  private readonly allowNull: boolean;

  constructor(rules: OriginRules) {
    this.patterns = (rules.allowedOrigins ?? ORIGIN_DEFAULTS.allowedOrigins).map(originPattern);
    this.allowNull = rules.allowNullOrigin ?? ORIGIN_DEFAULTS.allowNullOrigin;
  }

  /** True when every origin, the null one included, is allowed (nothing to check). */
  get open(): boolean {
    return this.allowNull && this.patterns.some((p) => p.source === '^.*$');
  }

  /** Why the upgrade `req` is refused for its Origin, or undefined when it may proceed. */
  refusal(req: IncomingMessage): OriginRefusal | undefined {
    let count = 0;
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'origin') count++;
    if (count === 0) return undefined; // non-browser clients may omit it
    if (count > 1) return { reason: 'invalid', message: 'HTTP Origin header appears more than once in opening handshake request' };
    const text = String(req.headers.origin ?? '').trim();
    if (text.length > MAX_ORIGIN_LENGTH) return { reason: 'invalid', message: `HTTP Origin header invalid: longer than ${MAX_ORIGIN_LENGTH} characters` };
    let origin: ReturnType<typeof parseOrigin>;
    try {
      origin = parseOrigin(text);
    } catch (e) {
      return { reason: 'invalid', message: `HTTP Origin header invalid: ${(e as Error).message}` };
    }
    if (origin === 'null') {
      return this.allowNull ? undefined : { reason: 'null', message: `WebSocket connection denied: origin '${text}' not allowed` };
    }
    const rebuilt = `${origin.scheme}://${origin.host}:${origin.port ?? 'None'}`;
    if (this.patterns.some((p) => p.test(rebuilt))) return undefined;
    return { reason: 'not_allowed', message: `WebSocket connection denied: origin '${text}' not allowed` };
  }
}

/** `handler` with its WebSocket upgrades checked against `rules` (as is when every origin is allowed). */
export function originChecked(handler: PathHandler, rules: OriginRules, path: string, refusals?: EdgeRefusals): PathHandler {
  const policy = new OriginPolicy(rules);
  if (policy.open || !handler.upgrade) return handler;
  const upgrade = handler.upgrade.bind(handler);
  return {
    ...(handler.request ? { request: handler.request.bind(handler) } : {}),
    ...(handler.close ? { close: handler.close.bind(handler) } : {}),
    upgrade(req, socket, head, rest, at) {
      const r = policy.refusal(req);
      if (r === undefined) return upgrade(req, socket, head, rest, at);
      refusals?.origin.inc({ path: `/${path}`, reason: r.reason });
      refuseUpgrade(socket, 400, r.message);
    },
  };
}
