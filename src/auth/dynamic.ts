/**
 * Calling a dynamic authenticator, Crossbar.io's contract (`docs/Dynamic-Authenticators.rst`,
 * `router/auth/pending.py`): the procedure gets `(realm, authid, details)` and returns a role
 * name or a principal object, or raises. An error the authenticator raised on purpose is
 * forwarded as ABORT with its URI and first argument, as Crossbar.io does; any other failure
 * (no such procedure, timeout, a crash reported as runtime_error) becomes a plain
 * authentication_failed and the cause goes to the log only.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { DynamicAuthConfig } from '../config/types.js';
import type { FunctionAuthenticatorConfig } from '../config/types-auth.js';
import type { PeerInfo } from '../connection/peer.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Dict, Hello } from '../wamp/messages.js';
import type { AuthOutcome } from './authenticator.js';
import { FAILED, abort, helloAuthextra, helloAuthid, principalFrom, type Principal } from './principal.js';
import { TRUSTED_ROLE } from './authorizer.js';
import { isCallFailure, type ProcedureCaller } from './procedure-caller.js';

/** What every authenticator of a node shares. */
export interface AuthDeps {
  /** Reaches dynamic authenticators; undefined = none configured can be called. */
  readonly caller?: ProcedureCaller | undefined;
  readonly log: Logger;
  /** How long a dynamic authenticator may take, ms. */
  readonly callTimeout: number;
  /** Reaches a `function` authenticator (a Python callable, called like a procedure). */
  readonly functions?: ((f: FunctionAuthenticatorConfig) => ProcedureCaller) | undefined;
}

/** Errors the router itself reports for a call that never reached a decision. */
const NOT_A_DECISION: ReadonlySet<string> = new Set([
  ErrorUri.noSuchProcedure,
  ErrorUri.noEligibleCallee,
  ErrorUri.noAvailableCallee,
  ErrorUri.canceled,
  ErrorUri.timeout,
  ErrorUri.runtimeError,
  ErrorUri.invalidArgument,
  ErrorUri.protocolViolation,
  ErrorUri.maxConcurrencyReached,
]);

/** Crossbar.io's TransportDetails.marshal(), as far as xbar knows the transport. */
export function transportDetails(peer: PeerInfo): Dict {
  const family = peer.remoteAddress.includes(':') ? 'tcp6' : 'tcp4';
  const native = peer.transport === 'native';
  const address = native ? peer.remoteAddress : peer.remotePort === undefined ? 'unix' : `${family}:${peer.remoteAddress}:${peer.remotePort}`;
  const d: Dict = {
    // An in-process peer is Crossbar.io's "function" channel (router-embedded sessions).
    channel_type: native ? 'function' : peer.tls ? 'tls' : 'tcp',
    channel_framing: peer.transport,
    peer: address,
    is_server: true,
    is_secure: peer.secure,
  };
  if (peer.tls?.tlsUnique) d.channel_id = { 'tls-unique': channelId(peer.tls.tlsUnique).toString('hex') };
  if (peer.tls?.peerCertificate) {
    const c = peer.tls.peerCertificate;
    d.peer_cert = { sha1: c.sha1, sha256: c.sha256, subject: c.subject, issuer: c.issuer, authorized: c.authorized };
  }
  if (peer.userAgent !== undefined) d.http_headers_received = { 'user-agent': peer.userAgent };
  if (peer.cookie) d.http_cbtid = peer.cookie.id;
  return d;
}

/** Autobahn's channel id: SHA-256 of the tls-unique bytes (32 bytes, the size of a challenge). */
export function channelId(tlsUnique: Buffer): Buffer {
  return createHash('sha256').update(tlsUnique).digest();
}

/**
 * Asks the authenticator about this HELLO. `extra` adds method-specific details (the ticket).
 * Returns the principal, or the ABORT to send.
 */
export async function askAuthenticator(
  deps: AuthDeps,
  config: DynamicAuthConfig,
  hello: Hello,
  peer: PeerInfo,
  authmethod: string,
  extra: Dict = {},
): Promise<Asked> {
  // A function authenticator is called with HELLO's realm (None when there is none), as Crossbar.io calls it.
  const realm = config.function ? hello.realm ?? '' : config.authenticatorRealm ?? hello.realm;
  const authid = helloAuthid(hello);
  if (realm === undefined) {
    // As Crossbar.io: without a realm in HELLO, the authenticator can only be called on a configured one.
    return { outcome: abort(ErrorUri.noSuchRealm, 'no realm requested, and the dynamic authenticator has no "authenticator-realm" to be called on') };
  }
  const details: Dict = {
    transport: transportDetails(peer),
    authmethod,
    authid: authid ?? null,
    authrole: typeof hello.details.authrole === 'string' ? hello.details.authrole : null,
    authextra: helloAuthextra(hello),
    ...extra,
  };
  const log = deps.log.child({ authenticator: config.authenticator, authmethod, remote: peer.remoteAddress });
  const caller = config.function ? deps.functions?.(config.function) : deps.caller;
  if (caller === undefined) {
    log.error('dynamic authenticator configured, but the node cannot call procedures');
    return { outcome: FAILED };
  }
  let result: unknown;
  try {
    result = await caller.call(realm, config.authenticatorRole ?? TRUSTED_ROLE, config.authenticator, [hello.realm ?? null, authid ?? null, details], deps.callTimeout);
  } catch (e) {
    if (isCallFailure(e) && !NOT_A_DECISION.has(e.uri)) {
      const first = e.args?.[0];
      log.info({ authid, reason: e.uri }, 'dynamic authenticator denied');
      return { outcome: abort(e.uri, first === undefined ? 'authentication failed' : String(first)) };
    }
    log.warn({ authid, err: isCallFailure(e) ? { uri: e.uri, args: e.args } : (e as Error).message }, 'dynamic authenticator failed');
    return { outcome: FAILED };
  }
  const principal = principalFrom(result);
  if (typeof principal === 'string') {
    log.warn({ authid }, `dynamic authenticator ${principal}`);
    return { outcome: FAILED };
  }
  return { principal };
}

/** The authenticator's principal, or the ABORT to send instead. */
export type Asked = { readonly principal: Principal & Dict; readonly outcome?: undefined } | { readonly outcome: AuthOutcome };
