/**
 * What a config says that Crossbar.io accepts but that will not do what it seems to, reported
 * (by `xbar check`, and in the log at start) without refusing the file:
 * - a role named by a static principal, `anonymous` or a JWT ticket's default role that no realm
 *   defines — such a client is refused with `wamp.error.no_such_role` only when it joins;
 * - two permissions for one URI in a role: Crossbar.io's role keeps one permission per URI
 *   (`crossbar/router/role.py`, `RouterRoleStaticAuth`: a dict by URI, for wildcard URIs by the
 *   part before the first ".."), so the later entry replaces the earlier; xbar does the same;
 * - `auth.cookie` where no cookie is tracked (a WebSocket without `cookie`, any other transport):
 *   Crossbar.io accepts it and it never authenticates anyone;
 * - a realm's `trace`: Crossbar.io accepts any value and never reads it (its router's
 *   `_trace_traffic` stays off), so nothing is traced there either.
 */
import { formatPath, type KeyPath } from './issues.js';
import type { ValidDocument } from './schema.js';
import { permissionKey } from './normalize.js';

type Roles = ReadonlyMap<string, ReadonlySet<string>>;

export function configWarnings(doc: ValidDocument): string[] {
  const warnings: string[] = [];
  const roles = new Map<string, Set<string>>();
  doc.workers.forEach((worker, w) => {
    if (worker.type !== 'router') return;
    (worker.realms ?? []).forEach((realm, r) => {
      roles.set(realm.name, new Set((realm.roles ?? []).map((role) => role.name)));
      if (realm.trace !== undefined) {
        warnings.push(`${formatPath(['workers', w, 'realms', r, 'trace'])}: accepted and ignored, as by Crossbar.io (which never reads it): nothing is traced; the log (--log-level debug) and the stats path show the traffic`);
      }
      (realm.roles ?? []).forEach((role, o) => {
        const seen = new Map<string, number>();
        (role.permissions ?? []).forEach((p, i) => {
          const key = permissionKey(p);
          const earlier = seen.get(key);
          const at: KeyPath = ['workers', w, 'realms', r, 'roles', o, 'permissions'];
          if (earlier !== undefined) {
            warnings.push(`${formatPath([...at, i, 'uri'])}: a second permission for ${JSON.stringify(p.uri)} in role ${JSON.stringify(role.name)}; it replaces the one at ${formatPath([...at, earlier])}, as in Crossbar.io`);
          }
          seen.set(key, i);
        });
      });
    });
  });
  doc.workers.forEach((worker, w) => {
    if (worker.type !== 'router') return;
    (worker.transports ?? []).forEach((t, i) => findAuth(t, ['workers', w, 'transports', i], (auth, at, owner) => {
      checkRoles(auth, at, roles, warnings);
      if (auth.cookie !== undefined && owner.cookie === undefined) {
        warnings.push(`${formatPath([...at, 'cookie'])}: no cookie is tracked here (only a WebSocket transport or path with "cookie" tracks one), so this method never authenticates anyone`);
      }
    }));
  });
  return warnings;
}

/** Calls `found` for every `auth` object under `value` (transports, web paths at any depth, mqtt options), with the object that holds it. */
function findAuth(value: unknown, at: KeyPath, found: (auth: Record<string, unknown>, at: KeyPath, owner: Record<string, unknown>) => void): void {
  if (typeof value !== 'object' || value === null) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'auth' && typeof v === 'object' && v !== null && !Array.isArray(v)) found(v as Record<string, unknown>, [...at, key], value as Record<string, unknown>);
    else findAuth(v, [...at, key], found);
  }
}

function checkRoles(auth: Record<string, unknown>, at: KeyPath, roles: Roles, warnings: string[]): void {
  const check = (role: unknown, realm: unknown, where: KeyPath, who: string) => {
    if (typeof role !== 'string') return;
    if (typeof realm === 'string') {
      const defined = roles.get(realm);
      if (defined && !defined.has(role)) {
        warnings.push(`${formatPath(where)}: realm ${JSON.stringify(realm)} has no role ${JSON.stringify(role)} (its roles: ${[...defined].join(', ') || 'none'}); ${who} would be refused with wamp.error.no_such_role`);
      }
      return;
    }
    if (![...roles.values()].some((defined) => defined.has(role))) {
      const all = [...new Set([...roles.values()].flatMap((s) => [...s]))];
      warnings.push(`${formatPath(where)}: no realm defines role ${JSON.stringify(role)} (roles: ${all.join(', ') || 'none'}); ${who} would be refused with wamp.error.no_such_role`);
    }
  };
  for (const [method, conf] of Object.entries(auth)) {
    if (typeof conf !== 'object' || conf === null) continue;
    const c = conf as Record<string, unknown>;
    const here: KeyPath = [...at, method];
    if (method === 'anonymous' && c.type === 'static') check(c.role ?? 'anonymous', c.realm, [...here, c.role === undefined ? 'type' : 'role'], 'every anonymous client');
    if (method === 'ticket' && c.type === 'jwt' && c.role !== undefined) check(c.role, c.realm, [...here, 'role'], 'a token without a role claim');
    if (c.type !== 'static') continue;
    for (const list of ['principals', 'users']) {
      const entries = c[list];
      if (typeof entries !== 'object' || entries === null) continue;
      for (const [authid, p] of Object.entries(entries as Record<string, unknown>)) {
        const principal = p as { role?: unknown; realm?: unknown };
        check(principal.role, principal.realm, [...here, list, authid, 'role'], JSON.stringify(authid));
      }
    }
  }
}
