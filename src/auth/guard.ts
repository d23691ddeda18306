/**
 * Defences around every authenticator of a node: a client address with too many failed
 * authentications is refused for a while — at HELLO, before its credentials are even looked at,
 * and again at AUTHENTICATE, so CHALLENGEs collected in parallel before the block cannot be
 * answered after it; an address may have only so many authentications in progress at once (each
 * parallel HELLO would otherwise be one more guess that escapes the block); and an authid may be
 * limited to a number of concurrent sessions. Each refusal is logged: the first of a throttling
 * episode and every 100th after it, so a brute-force loop cannot flood the log; and counted.
 */
import type { Logger } from 'pino';
import type { PeerInfo } from '../connection/peer.js';
import type { RefusalSink } from '../stats/refusals.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Dict, Hello } from '../wamp/messages.js';
import type { AuthOutcome, Authenticator, AuthenticatorFactory } from './authenticator.js';
import { FAILED, abort, helloAuthid } from './principal.js';
import { clientKey, type FailureLimiter } from './rate-limit.js';

export interface GuardOptions {
  readonly failures?: FailureLimiter | undefined;
  /** Authentications in progress (HELLO answered, outcome not yet) per client address; undefined = unlimited. */
  readonly maxPendingPerAddress?: number | undefined;
  readonly maxSessionsPerAuthid?: number | undefined;
  /** Sessions currently joined under `authid`, in any realm. */
  readonly sessionsOf: (authid: string) => number;
  readonly refused?: RefusalSink | undefined;
  readonly log: Logger;
}

export class AuthGuard {
  /** Authentications in progress, by client key; an entry exists only while its count is above 0. */
  private readonly pending = new Map<string, number>();

  constructor(readonly options: GuardOptions) {}

  wrap(factory: AuthenticatorFactory): AuthenticatorFactory {
    return () => new GuardedAuthenticator(factory(), this.options, this);
  }

  /** Takes a slot for an authentication from `client`; false when the address has no slot left. */
  enter(client: string): boolean {
    const max = this.options.maxPendingPerAddress;
    const n = this.pending.get(client) ?? 0;
    if (max !== undefined && n >= max) return false;
    this.pending.set(client, n + 1);
    return true;
  }

  leave(client: string): void {
    const n = (this.pending.get(client) ?? 1) - 1;
    if (n > 0) this.pending.set(client, n);
    else this.pending.delete(client);
  }

  /** Refusals for too many authentications in progress: the 1st and every 100th are logged. */
  private refusedPending = 0;

  /** Whether this refusal for too many authentications in progress is one to log. */
  logPendingRefusal(): boolean {
    this.refusedPending++;
    return this.refusedPending === 1 || this.refusedPending % 100 === 0;
  }

  /** Authentications in progress from `client` (tests, statistics). */
  pendingOf(client: string): number {
    return this.pending.get(client) ?? 0;
  }
}

class GuardedAuthenticator implements Authenticator {
  readonly method: string;
  private peer: PeerInfo | undefined;
  private authid: string | undefined;
  /** The client key whose pending slot this authentication holds, until its outcome. */
  private holding: string | undefined;

  constructor(private readonly inner: Authenticator, private readonly o: GuardOptions, private readonly guard: AuthGuard) {
    this.method = inner.method;
  }

  /** Anonymous access guesses no secret, so it is neither counted nor throttled. */
  private get guarded(): boolean {
    return this.method !== 'anonymous';
  }

  begin(hello: Hello, peer: PeerInfo): AuthOutcome | Promise<AuthOutcome> {
    this.peer = peer;
    this.authid = helloAuthid(hello);
    if (this.guarded) {
      const blocked = this.blocked();
      if (blocked) return blocked;
      const client = clientKey(peer.remoteAddress);
      if (!this.guard.enter(client)) {
        const max = this.o.maxPendingPerAddress!;
        this.o.refused?.('max_pending_authentications_per_address');
        if (this.guard.logPendingRefusal()) {
          this.o.log.warn({ client, authmethod: this.method, max }, 'authentication refused: too many authentications in progress from this address');
        }
        return abort(ErrorUri.authenticationFailed,
          `too many authentications in progress from this address (at most ${max}, limits.max_pending_authentications_per_address); try again when one has finished`);
      }
      this.holding = client;
    }
    return this.settle(() => this.inner.begin(hello, peer));
  }

  finish(signature: string, extra: Dict): Promise<AuthOutcome> {
    // The address may have been blocked since its CHALLENGE went out: the answer is not looked at.
    const blocked = this.guarded ? this.blocked() : undefined;
    if (blocked) {
      this.release();
      return Promise.resolve(blocked);
    }
    return Promise.resolve(this.settle(() => this.inner.finish!(signature, extra)));
  }

  /** The session ended before its authentication did (client gone, handshake timeout). */
  cancel(): void {
    this.release();
    this.inner.cancel?.();
  }

  private release(): void {
    if (this.holding === undefined) return;
    this.guard.leave(this.holding);
    this.holding = undefined;
  }

  /** The ABORT for an address under a failure block, or undefined. */
  private blocked(): AuthOutcome | undefined {
    const failures = this.o.failures;
    if (failures === undefined) return undefined;
    const { ms, refused } = failures.blocked(this.peer!.remoteAddress);
    if (ms <= 0) return undefined;
    this.o.refused?.('failed_authentications');
    if (refused === 1 || refused % 100 === 0) {
      this.o.log.warn({ client: clientKey(this.peer!.remoteAddress), refused, blockedForMs: ms }, 'authentication refused: too many failures from this address');
    }
    return abort(ErrorUri.authenticationFailed, `too many failed authentications from this address; try again in ${Math.ceil(ms / 1000)} s`);
  }

  /** `step`'s outcome, guarded; synchronous when `step` is (anonymous logins). */
  private settle(step: () => Promise<AuthOutcome> | AuthOutcome): AuthOutcome | Promise<AuthOutcome> {
    let r: AuthOutcome | Promise<AuthOutcome>;
    try {
      r = step();
    } catch (e) {
      return this.decided(this.crashed(e));
    }
    return r instanceof Promise ? r.then((o) => this.decided(o), (e: unknown) => this.decided(this.crashed(e))) : this.decided(r);
  }

  private crashed(e: unknown): AuthOutcome {
    this.o.log.error({ err: e, authmethod: this.method }, 'authenticator failed');
    return FAILED;
  }

  private decided(outcome: AuthOutcome): AuthOutcome {
    // A CHALLENGE keeps the slot until AUTHENTICATE is decided; any outcome frees it.
    if (outcome.kind !== 'challenge') this.release();
    if (outcome.kind === 'abort') this.failed(outcome);
    else if (outcome.kind === 'welcome') return this.admit(outcome);
    return outcome;
  }

  private failed(outcome: { reason: string; message: string }): void {
    const remote = this.peer?.remoteAddress ?? '';
    this.o.log.info({ authmethod: this.method, authid: this.authid, remote, reason: outcome.reason }, 'authentication failed');
    if (this.guarded && this.o.failures?.fail(remote)) {
      this.o.log.warn({ client: clientKey(remote), authmethod: this.method }, 'address blocked after too many failed authentications');
    }
  }

  private admit(outcome: Extract<AuthOutcome, { kind: 'welcome' }>): AuthOutcome {
    const max = this.o.maxSessionsPerAuthid;
    if (max === undefined) return outcome;
    const authid = outcome.identity.authid;
    const count = this.o.sessionsOf(authid);
    if (count < max) return outcome;
    this.o.refused?.('max_sessions_per_authid');
    this.o.log.warn({ authid, sessions: count, max, remote: this.peer?.remoteAddress }, 'session refused: authid has the maximum number of sessions');
    return abort(ErrorUri.notAuthorized, `authid "${authid}" already has ${count} sessions, the maximum on this router`);
  }
}
