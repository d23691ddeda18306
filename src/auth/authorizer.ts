/**
 * Static role-based authorization with Crossbar.io's semantics: a role's permissions are
 * `{uri, match, allow, disclose}` rules; for a URI the most specific matching rule decides
 * (exact, then the longest prefix, then wildcard); no matching rule → denied.
 * Decisions are cached per (role, URI) when the rule says `cache`, in a bounded map.
 */
import type { Action, Permission, RoleConfig } from '../config/types.js';
import { MatchIndex } from '../router/match/match-index.js';

export interface Decision {
  readonly allow: boolean;
  /** Crossbar.io's `disclose`: the caller/publisher identity is disclosed for this URI. */
  readonly disclose: boolean;
}

const DENY: Decision = { allow: false, disclose: false };
const ALLOW: Decision = { allow: true, disclose: false };

/** The router's own in-process components join with this role; it may do everything (as in Crossbar.io). */
export const TRUSTED_ROLE = 'trusted';
const CACHE_LIMIT = 10_000;

class RolePermissions {
  private readonly index = new MatchIndex<Permission>();
  private readonly cache = new Map<string, Permission | null>();

  constructor(permissions: readonly Permission[]) {
    for (const p of permissions) this.index.set(p.uri, p.match, p);
  }

  rule(uri: string): Permission | undefined {
    const hit = this.cache.get(uri);
    if (hit !== undefined) return hit ?? undefined;
    const best = this.index.best(uri)?.value;
    if (best === undefined || best.cache) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(uri, best ?? null);
    }
    return best;
  }
}

export class Authorizer {
  private readonly roles = new Map<string, RolePermissions>();

  constructor(roles: readonly RoleConfig[]) {
    for (const r of roles) this.roles.set(r.name, new RolePermissions(r.permissions));
  }

  hasRole(role: string): boolean {
    return role === TRUSTED_ROLE || this.roles.has(role);
  }

  authorize(role: string, uri: string, action: Action): Decision {
    if (role === TRUSTED_ROLE) return ALLOW;
    const rule = this.roles.get(role)?.rule(uri);
    if (!rule || !rule.allow[action]) return DENY;
    const disclose = action === 'publish' ? rule.disclose.publisher : action === 'call' ? rule.disclose.caller : false;
    return { allow: true, disclose };
  }
}
