/**
 * `ticket` (wamp-proto advanced/authentication_ticket.md): HELLO → CHALLENGE("ticket", {}) →
 * AUTHENTICATE(ticket). Static: the ticket of the principal named by HELLO.authid, compared in
 * constant time; an unknown authid is challenged like a known one and fails the same way, so
 * the answer never tells which authids exist. Dynamic: the authenticator gets the ticket in
 * `details.ticket` (Crossbar.io's contract) and returns the principal.
 */
import type { DynamicAuthConfig, TicketPrincipal } from '../config/types.js';
import type { PeerInfo } from '../connection/peer.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Dict, Hello } from '../wamp/messages.js';
import type { AuthOutcome, Authenticator } from './authenticator.js';
import { askAuthenticator, type AuthDeps } from './dynamic.js';
import { FAILED, abort, helloAuthid, welcome } from './principal.js';
import { secretsEqual } from './secrets.js';

const CHALLENGE: AuthOutcome = { kind: 'challenge', method: 'ticket', extra: {} };

/** Compared against when the authid is unknown, so both paths cost the same. */
const NO_TICKET = '\u0000no principal\u0000';

export class StaticTicketAuthenticator implements Authenticator {
  readonly method = 'ticket';
  private hello: Hello | undefined;

  constructor(private readonly principals: ReadonlyMap<string, TicketPrincipal>) {}

  begin(hello: Hello): AuthOutcome {
    if (helloAuthid(hello) === undefined) {
      return abort(ErrorUri.authenticationFailed, 'ticket authentication needs an authid in HELLO.Details');
    }
    this.hello = hello;
    return CHALLENGE;
  }

  finish(signature: string): AuthOutcome {
    const hello = this.hello!;
    const authid = helloAuthid(hello)!;
    const p = this.principals.get(authid);
    const ok = secretsEqual(signature, p?.ticket ?? NO_TICKET);
    if (!ok || p === undefined) return FAILED;
    return welcome(hello, p, { authmethod: 'ticket', authprovider: 'static', authid });
  }
}

export class DynamicTicketAuthenticator implements Authenticator {
  readonly method = 'ticket';
  private hello: Hello | undefined;
  private peer: PeerInfo | undefined;

  constructor(private readonly config: DynamicAuthConfig, private readonly deps: AuthDeps) {}

  begin(hello: Hello, peer: PeerInfo): AuthOutcome {
    this.hello = hello;
    this.peer = peer;
    return CHALLENGE;
  }

  async finish(signature: string, _extra: Dict): Promise<AuthOutcome> {
    const hello = this.hello!;
    const asked = await askAuthenticator(this.deps, this.config, hello, this.peer!, 'ticket', { ticket: signature });
    if (asked.outcome) return asked.outcome;
    return welcome(hello, asked.principal, { authmethod: 'ticket', authprovider: 'dynamic' });
  }
}
