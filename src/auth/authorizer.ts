/**
 * Role-based authorization with Crossbar.io's semantics.
 *
 * Static roles: a role's permissions are `{uri, match, allow, disclose}` rules; for a URI the
 * most specific matching rule decides (exact, then the longest prefix, then wildcard); no
 * matching rule → denied. Decisions are cached per (role, URI) when the rule says `cache`, in a
 * bounded map.
 *
 * Dynamic roles (`authorizer: <uri>`): the procedure is called with `(session, uri, action,
 * options)` and returns a bool or `{allow, disclose, cache}` (`docs/Authorization.rst`). As in
 * Crossbar.io (`router/router.py`, `Router.authorize`), a decision with `cache: true` is kept
 * per (role, URI, action) and used for every later session of that role. The call is
 * asynchronous while the broker and dealer ask synchronously, so the session awaits the decision
 * first (`AuthorizationGate`) and replays it to them through `withDecision`.
 */
import type { Logger } from 'pino';
import type { Action, Permission, RoleConfig } from '../config/types.js';
import { MatchIndex } from '../match/match-index.js';
import type { Dict } from '../wamp/messages.js';

export interface Decision {
  readonly allow: boolean;
  /** Crossbar.io's `disclose`: the caller/publisher identity is disclosed for this URI. */
  readonly disclose: boolean;
}

const DENY: Decision = { allow: false, disclose: false };
const ALLOW: Decision = { allow: true, disclose: false };
const ALLOW_DISCLOSED: Decision = { allow: true, disclose: true };

/** The router's own in-process components join with this role; it may do everything (as in Crossbar.io). */
export const TRUSTED_ROLE = 'trusted';
const CACHE_LIMIT = 10_000;

/** Calls a dynamic authorizer procedure on this realm; resolves to its result. */
export type AuthorizerCall = (procedure: string, args: unknown[]) => Promise<unknown>;

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

/** What a dynamic authorizer returned, checked; undefined = not a decision. */
export function decisionFrom(result: unknown, action: Action): (Decision & { cache: boolean }) | undefined {
  if (typeof result === 'boolean') return { allow: result, disclose: false, cache: false };
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  const r = result as Dict;
  if (typeof r.allow !== 'boolean') return undefined;
  if (r.disclose !== undefined && typeof r.disclose !== 'boolean') return undefined;
  if (r.cache !== undefined && typeof r.cache !== 'boolean') return undefined;
  // Disclosure concerns callers and publishers only.
  const disclose = r.disclose === true && (action === 'call' || action === 'publish');
  return { allow: r.allow, disclose, cache: r.cache === true };
}

const key = (role: string, uri: string, action: Action): string => `${role}\u0000${action}\u0000${uri}`;

export class Authorizer {
  private readonly roles = new Map<string, RolePermissions>();
  /** Dynamic roles: role → authorizer procedure. */
  private readonly dynamic = new Map<string, string>();
  private readonly decisions = new Map<string, Decision>();
  /** The decision being replayed to the broker or dealer (see `withDecision`). */
  private current: { key: string; decision: Decision } | undefined;
  private call: AuthorizerCall | undefined;
  private log: Logger | undefined;

  constructor(roles: readonly RoleConfig[]) {
    for (const r of roles) {
      if (r.authorizer !== undefined) this.dynamic.set(r.name, r.authorizer);
      else this.roles.set(r.name, new RolePermissions(r.permissions));
    }
  }

  /** Wires dynamic authorizers to the procedures components register (done by the node). */
  useCaller(call: AuthorizerCall, log: Logger): void {
    this.call = call;
    this.log = log;
  }

  hasRole(role: string): boolean {
    return role === TRUSTED_ROLE || this.roles.has(role) || this.dynamic.has(role);
  }

  isDynamic(role: string): boolean {
    return this.dynamic.has(role);
  }

  /** The synchronous decision the broker and dealer use. */
  authorize(role: string, uri: string, action: Action): Decision {
    if (role === TRUSTED_ROLE) return ALLOW;
    if (this.dynamic.has(role)) {
      const k = key(role, uri, action);
      if (this.current?.key === k) return this.current.decision;
      return this.decisions.get(k) ?? DENY;
    }
    const rule = this.roles.get(role)?.rule(uri);
    if (!rule || !rule.allow[action]) return DENY;
    const disclose = action === 'publish' ? rule.disclose.publisher : action === 'call' ? rule.disclose.caller : false;
    return disclose ? ALLOW_DISCLOSED : ALLOW;
  }

  /** A cached decision of a dynamic role, if its authorizer allowed caching it. */
  cached(role: string, uri: string, action: Action): Decision | undefined {
    return this.decisions.get(key(role, uri, action));
  }

  /**
   * Asks the role's authorizer. Resolves to its decision, or to 'failed' when it could not
   * decide (not registered, raised, timed out, returned something else); never rejects.
   */
  async decide(session: Dict, role: string, uri: string, action: Action, options: Dict): Promise<Decision | 'failed'> {
    const procedure = this.dynamic.get(role);
    if (procedure === undefined) return this.authorize(role, uri, action);
    const log = this.log?.child({ authorizer: procedure, role, uri, action });
    if (this.call === undefined) {
      log?.error('dynamic authorizer configured, but the node cannot call procedures');
      return 'failed';
    }
    let result: unknown;
    try {
      result = await this.call(procedure, [session, uri, action, options]);
    } catch (e) {
      const err = e as { uri?: string; args?: unknown[]; message?: string };
      log?.warn({ err: err.uri !== undefined ? { uri: err.uri, args: err.args } : err.message }, 'dynamic authorizer failed');
      return 'failed';
    }
    const decision = decisionFrom(result, action);
    if (decision === undefined) {
      log?.warn({ result }, 'dynamic authorizer returned neither a bool nor {allow, disclose?, cache?}');
      return 'failed';
    }
    const { cache, ...d } = decision;
    if (cache) {
      if (this.decisions.size >= CACHE_LIMIT) this.decisions.clear();
      this.decisions.set(key(role, uri, action), d);
    }
    return d;
  }

  /** Runs `fn` (a broker or dealer call) with `decision` standing for the dynamic role's answer. */
  withDecision<T>(role: string, uri: string, action: Action, decision: Decision, fn: () => T): T {
    const previous = this.current;
    this.current = { key: key(role, uri, action), decision };
    try {
      return fn();
    } finally {
      this.current = previous;
    }
  }
}
