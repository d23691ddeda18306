/**
 * Defences around every authenticator of a node: a client address with too many failed
 * authentications is refused for a while (before its credentials are even looked at), and an
 * authid may be limited to a number of concurrent sessions. Each refusal is logged: the first
 * of a throttling episode and every 100th after it, so a brute-force loop cannot flood the log.
 */
import type { Logger } from 'pino';
import type { PeerInfo } from '../connection/peer.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Dict, Hello } from '../wamp/messages.js';
import type { AuthOutcome, Authenticator, AuthenticatorFactory } from './authenticator.js';
import { FAILED, abort, helloAuthid } from './principal.js';
import { clientKey, type FailureLimiter } from './rate-limit.js';

export interface GuardOptions {
  readonly failures?: FailureLimiter | undefined;
  readonly maxSessionsPerAuthid?: number | undefined;
  /** Sessions currently joined under `authid`, in any realm. */
  readonly sessionsOf: (authid: string) => number;
  readonly log: Logger;
}

export class AuthGuard {
  constructor(readonly options: GuardOptions) {}

  wrap(factory: AuthenticatorFactory): AuthenticatorFactory {
    return () => new GuardedAuthenticator(factory(), this.options);
  }
}

class GuardedAuthenticator implements Authenticator {
  readonly method: string;
  private peer: PeerInfo | undefined;
  private authid: string | undefined;

  constructor(private readonly inner: Authenticator, private readonly o: GuardOptions) {
    this.method = inner.method;
  }

  /** Anonymous access guesses no secret, so it is neither counted nor throttled. */
  private get guarded(): boolean {
    return this.method !== 'anonymous' && this.o.failures !== undefined;
  }

  async begin(hello: Hello, peer: PeerInfo): Promise<AuthOutcome> {
    this.peer = peer;
    this.authid = helloAuthid(hello);
    if (this.guarded) {
      const { ms, refused } = this.o.failures!.blocked(peer.remoteAddress);
      if (ms > 0) {
        if (refused === 1 || refused % 100 === 0) {
          this.o.log.warn({ client: clientKey(peer.remoteAddress), refused, blockedForMs: ms }, 'authentication refused: too many failures from this address');
        }
        return abort(ErrorUri.authenticationFailed, `too many failed authentications from this address; try again in ${Math.ceil(ms / 1000)} s`);
      }
    }
    return this.settle(() => this.inner.begin(hello, peer));
  }

  finish(signature: string, extra: Dict): Promise<AuthOutcome> {
    return this.settle(() => this.inner.finish!(signature, extra));
  }

  private async settle(step: () => Promise<AuthOutcome> | AuthOutcome): Promise<AuthOutcome> {
    let outcome: AuthOutcome;
    try {
      outcome = await step();
    } catch (e) {
      this.o.log.error({ err: e, authmethod: this.method }, 'authenticator failed');
      outcome = FAILED;
    }
    if (outcome.kind === 'abort') this.failed(outcome);
    else if (outcome.kind === 'welcome') return this.admit(outcome);
    return outcome;
  }

  private failed(outcome: { reason: string; message: string }): void {
    const remote = this.peer?.remoteAddress ?? '';
    this.o.log.info({ authmethod: this.method, authid: this.authid, remote, reason: outcome.reason }, 'authentication failed');
    if (this.guarded && this.o.failures!.fail(remote)) {
      this.o.log.warn({ client: clientKey(remote), authmethod: this.method }, 'address blocked after too many failed authentications');
    }
  }

  private admit(outcome: Extract<AuthOutcome, { kind: 'welcome' }>): AuthOutcome {
    const max = this.o.maxSessionsPerAuthid;
    if (max === undefined) return outcome;
    const authid = outcome.identity.authid;
    const count = this.o.sessionsOf(authid);
    if (count < max) return outcome;
    this.o.log.warn({ authid, sessions: count, max, remote: this.peer?.remoteAddress }, 'session refused: authid has the maximum number of sessions');
    return abort(ErrorUri.notAuthorized, `authid "${authid}" already has ${count} sessions, the maximum on this router`);
  }
}
