/**
 * Validated network settings → config: path-service access control and Crossbar.io's Origin
 * options (absent = every origin, as Crossbar.io; `web/origin-check.ts`).
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
