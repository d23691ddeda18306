/**
 * A transport's `auth` config → the authenticators its sessions may use, by method name. Key
 * material is prepared once per transport (derived WAMP-CRA keys, JWT keys); every session gets
 * fresh authenticator instances, since challenges carry per-session state. No `auth` means
 * anonymous with role "anonymous", as in Crossbar.io.
 */
import type { AuthConfig } from '../config/types.js';
import { AnonymousAuthenticator } from './anonymous.js';
import type { AuthenticatorFactory } from './authenticator.js';
import { CookieAuthenticator } from './cookie.js';
import { DynamicCryptosignAuthenticator, StaticCryptosignAuthenticator } from './cryptosign.js';
import type { AuthDeps } from './dynamic.js';
import type { AuthGuard } from './guard.js';
import { JwtTicketAuthenticator, JwtVerifier } from './jwt.js';
import { DynamicTicketAuthenticator, StaticTicketAuthenticator } from './ticket.js';
import { TlsCertificateAuthenticator } from './tls-client-cert.js';
import { DynamicScramAuthenticator, StaticScramAuthenticator } from './scram.js';
import { DynamicWampCraAuthenticator, StaticWampCraAuthenticator, WampCraUsers } from './wampcra.js';

export function authenticatorsFor(auth: AuthConfig | undefined, deps: AuthDeps, guard?: AuthGuard): Map<string, AuthenticatorFactory> {
  const map = new Map<string, AuthenticatorFactory>();
  const add = (method: string, factory: AuthenticatorFactory) => map.set(method, guard ? guard.wrap(factory) : factory);

  const anonymous = auth === undefined ? { type: 'static' as const, role: 'anonymous' } : auth.anonymous;
  if (anonymous) add('anonymous', () => new AnonymousAuthenticator(anonymous, deps, auth === undefined));

  const ticket = auth?.ticket;
  if (ticket?.type === 'static') add('ticket', () => new StaticTicketAuthenticator(ticket.principals));
  else if (ticket?.type === 'dynamic') add('ticket', () => new DynamicTicketAuthenticator(ticket, deps));
  else if (ticket?.type === 'jwt') {
    const verifier = new JwtVerifier(ticket);
    add('ticket', () => new JwtTicketAuthenticator(verifier, deps.log));
  }

  const cra = auth?.wampcra;
  if (cra?.type === 'static') {
    const users = new WampCraUsers(cra.users);
    add('wampcra', () => new StaticWampCraAuthenticator(users));
  } else if (cra?.type === 'dynamic') add('wampcra', () => new DynamicWampCraAuthenticator(cra, deps));

  const cs = auth?.cryptosign;
  if (cs?.type === 'static') add('cryptosign', () => new StaticCryptosignAuthenticator(cs.principals));
  else if (cs?.type === 'dynamic') add('cryptosign', () => new DynamicCryptosignAuthenticator(cs, deps));

  const scram = auth?.scram;
  if (scram?.type === 'static') add('scram', () => new StaticScramAuthenticator(scram.principals));
  else if (scram?.type === 'dynamic') add('scram', () => new DynamicScramAuthenticator(scram, deps));

  if (auth?.cookie) add('cookie', () => new CookieAuthenticator());

  const tls = auth?.tls;
  if (tls) {
    const authenticator = new TlsCertificateAuthenticator(tls, deps);
    add('tls', () => authenticator);
  }
  return map;
}
