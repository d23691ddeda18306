/**
 * Crossbar.io's `cookie` method: a connection whose tracking cookie authenticated a session
 * before (by another method) joins as that principal, in its realm, without a challenge. WELCOME
 * names the method the cookie first authenticated with and the provider "cookie", as Crossbar.io's
 * does (its example logs "authenticated using method 'wampcra' and provider 'cookie'"). The session
 * offers it only when the cookie authenticates someone (router/session.ts `pickMethod`).
 */
import type { PeerInfo } from '../connection/peer.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Hello } from '../wamp/messages.js';
import type { AuthOutcome, Authenticator } from './authenticator.js';
import { abort } from './principal.js';

export class CookieAuthenticator implements Authenticator {
  readonly method = 'cookie';

  begin(_hello: Hello, peer: PeerInfo): AuthOutcome {
    const p = peer.cookie?.principal();
    // Logged out (on another connection) between the HELLO and now.
    if (p === undefined) return abort(ErrorUri.noAuthMethod, 'the connection\'s cookie authenticates no one');
    return {
      kind: 'welcome',
      identity: {
        authid: p.authid,
        authrole: p.authrole,
        authmethod: p.authmethod,
        authprovider: 'cookie',
        realm: p.authrealm,
        ...(p.authextra ? { authextra: p.authextra } : {}),
      },
    };
  }
}
