/**
 * Turning what an authenticator decided into the session's identity, with Crossbar.io's rules
 * (`PendingAuth._assign_principal`): a dynamic authenticator returns a role name or an object
 * `{role, realm?, authid?, extra?, …}`; its realm overrides the one the client asked for, its
 * authid the one the client gave; a principal without authid or role is refused.
 */
import type { Dict, Hello } from '../wamp/messages.js';
import { ErrorUri } from '../wamp/errors.js';
import type { AuthOutcome, Identity } from './authenticator.js';

/** A principal, from the config or a dynamic authenticator. */
export interface Principal {
  readonly role?: string | undefined;
  readonly realm?: string | undefined;
  readonly authid?: string | undefined;
  readonly extra?: Dict | undefined;
}

/** What a dynamic authenticator returned, checked; a string is why it is unusable. */
export function principalFrom(result: unknown): (Principal & Dict) | string {
  if (typeof result === 'string') return { role: result };
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    return `returned ${Array.isArray(result) ? 'a list' : typeof result}; expected a role name or an object`;
  }
  const p = result as Dict;
  for (const key of ['role', 'realm', 'authid'] as const) {
    if (p[key] !== undefined && p[key] !== null && typeof p[key] !== 'string') return `returned a non-string "${key}"`;
  }
  if (p.extra !== undefined && p.extra !== null && (typeof p.extra !== 'object' || Array.isArray(p.extra))) {
    return 'returned an "extra" that is not an object';
  }
  return {
    ...p,
    role: (p.role as string | null | undefined) ?? undefined,
    realm: (p.realm as string | null | undefined) ?? undefined,
    authid: (p.authid as string | null | undefined) ?? undefined,
    extra: (p.extra as Dict | null | undefined) ?? undefined,
  };
}

export function abort(reason: string, message: string): AuthOutcome {
  return { kind: 'abort', reason, message };
}

/** The one answer for wrong credentials: it must not tell an attacker what was wrong. */
export const FAILED: AuthOutcome = abort(ErrorUri.authenticationFailed, 'authentication failed');

/** HELLO.Details.authid, if the client gave one. */
export function helloAuthid(hello: Hello): string | undefined {
  const a = hello.details.authid;
  return typeof a === 'string' && a !== '' ? a : undefined;
}

export function helloAuthextra(hello: Hello): Dict {
  const e = hello.details.authextra;
  return typeof e === 'object' && e !== null && !Array.isArray(e) ? (e as Dict) : {};
}

/** WELCOME for `principal`, or ABORT when it lacks an authid or role. */
export function welcome(
  hello: Hello,
  principal: Principal,
  how: { readonly authmethod: string; readonly authprovider: string; readonly authid?: string | undefined },
): AuthOutcome {
  const authid = principal.authid ?? how.authid ?? helloAuthid(hello);
  if (authid === undefined) return abort(ErrorUri.noSuchPrincipal, 'no authid assigned');
  if (principal.role === undefined || principal.role === '') return abort(ErrorUri.noSuchRole, 'no authrole assigned');
  const identity: Identity = {
    authid,
    authrole: principal.role,
    authmethod: how.authmethod,
    authprovider: how.authprovider,
    ...(principal.extra === undefined ? {} : { authextra: principal.extra }),
    ...(principal.realm === undefined ? {} : { realm: principal.realm }),
  };
  return { kind: 'welcome', identity };
}
