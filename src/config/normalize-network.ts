/**
 * Validated network settings → config: path-service access control, Crossbar.io's Origin
 * options (absent = every origin, as Crossbar.io; `web/origin-check.ts`) and a TCP endpoint's
 * load-balancer keys (PROXY protocol, trusted proxies).
 */
import type { AccessDocument } from './schema-network.js';
import type { AccessConfig } from './types.js';

export function accessConfig(d: AccessDocument): AccessConfig {
  return {
    ...(d.token === undefined ? {} : { token: d.token }),
    ...(d.networks === undefined ? {} : { networks: [...d.networks] }),
  };
}

type OriginDocument = { allowed_origins?: string[] | undefined; allow_null_origin?: boolean | undefined };

export function origins(d: OriginDocument | undefined): { allowedOrigins?: string[]; allowNullOrigin?: boolean } {
  return {
    ...(d?.allowed_origins === undefined ? {} : { allowedOrigins: [...d.allowed_origins] }),
    ...(d?.allow_null_origin === undefined ? {} : { allowNullOrigin: d.allow_null_origin }),
  };
}

export const LOAD_BALANCER_DEFAULTS = {
  /** A load balancer sends the header at once; a client that sends nothing is cut off soon. */
  proxyProtocolTimeout: 5000,
} as const;

type TcpEndpointDocument = { proxy_protocol?: boolean | undefined; proxy_protocol_timeout?: number | undefined; trusted_proxies?: string[] | undefined };

export function loadBalancer(e: TcpEndpointDocument): { proxyProtocol?: { timeout: number }; trustedProxies?: string[] } {
  return {
    ...(e.proxy_protocol === true ? { proxyProtocol: { timeout: e.proxy_protocol_timeout ?? LOAD_BALANCER_DEFAULTS.proxyProtocolTimeout } } : {}),
    ...(e.trusted_proxies === undefined ? {} : { trustedProxies: [...e.trusted_proxies] }),
  };
}
