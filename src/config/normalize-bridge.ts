/**
 * The HTTP bridge's path services (publisher, caller, webhook, sse) → `types-web.ts` configs,
 * with Crossbar.io's defaults (`crossbar/bridge/rest/common.py`): `timestamp_delta_limit` 300 s,
 * `post_body_limit` 0 (none), the webhook's "OK" / "NOT OK" answers.
 */
import { toCidr } from '../network/bridge-networks.js';
import type { KeyPath } from './issues.js';
import type { LoadContext } from './load-context.js';
import { checkRole } from './normalize-web.js';
import type { PathServiceDocument } from './schema-transport.js';
import type { RealmConfig } from './types.js';
import type { BridgeRequestChecks, HttpBridgePathConfig } from './types-web.js';

export const BRIDGE_DEFAULTS = {
  /** Crossbar.io's code default (its docs say 0). */
  timestampDeltaLimit: 300,
  /** xbar's cap on a call's duration, ms; Crossbar.io has none. */
  callTimeout: 60_000,
  sseMaxOutBuffer: 1024 * 1024,
  sseKeepalive: 15_000,
  sseMaxClients: 10_000,
} as const;

type Bridge = Extract<PathServiceDocument, { type: HttpBridgePathConfig['type'] }>;

const cidrs = (list: readonly string[] | undefined) => list?.map((n) => toCidr(n) as string);

export function httpBridgePath(d: Bridge, at: KeyPath, ctx: LoadContext, realms: readonly RealmConfig[]): HttpBridgePathConfig {
  checkRole(realms, d.realm, d.role, at, ctx);
  if (d.type === 'sse') {
    const o = d.options ?? {};
    const requireIp = cidrs(o.require_ip);
    return {
      type: 'sse', realm: d.realm, role: d.role,
      maxOutBuffer: o.max_out_buffer ?? BRIDGE_DEFAULTS.sseMaxOutBuffer,
      slowConsumer: o.slow_consumer ?? 'drop',
      keepalive: o.keepalive === undefined ? BRIDGE_DEFAULTS.sseKeepalive : o.keepalive * 1000,
      maxClients: o.max_clients ?? BRIDGE_DEFAULTS.sseMaxClients,
      requireTls: o.require_tls ?? false,
      ...(requireIp ? { requireIp } : {}),
    };
  }
  if (d.type === 'webhook') {
    const o = d.options;
    const checks: BridgeRequestChecks = {
      requireTls: false, postBodyLimit: o.post_body_limit ?? 0, timestampDeltaLimit: BRIDGE_DEFAULTS.timestampDeltaLimit, json: false,
      ...(o.github_secret ? { githubSecret: o.github_secret } : {}),
    };
    return {
      type: 'webhook', realm: d.realm, role: d.role, checks, topic: o.topic,
      successResponse: o.success_response ?? 'OK', errorResponse: o.error_response ?? 'NOT OK',
    };
  }
  const o = d.options ?? {};
  const requireIp = cidrs(o.require_ip);
  const checks: BridgeRequestChecks = {
    ...(o.key !== undefined ? { key: o.key } : {}),
    ...(o.secret ? { secret: o.secret } : {}),
    requireTls: o.require_tls ?? false,
    ...(requireIp ? { requireIp } : {}),
    postBodyLimit: o.post_body_limit ?? 0,
    timestampDeltaLimit: o.timestamp_delta_limit ?? BRIDGE_DEFAULTS.timestampDeltaLimit,
    json: true,
  };
  if (d.type === 'caller') {
    const seconds = d.options?.call_timeout;
    return { type: 'caller', realm: d.realm, role: d.role, checks, callTimeout: seconds === undefined ? BRIDGE_DEFAULTS.callTimeout : seconds * 1000 };
  }
  return { type: 'publisher', realm: d.realm, role: d.role, checks };
}
