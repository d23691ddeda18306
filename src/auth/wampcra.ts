/**
 * `wampcra` (wamp-proto advanced/authentication_cra.md): HELLO → CHALLENGE("wampcra",
 * {challenge, salt?, iterations?, keylen?}) → AUTHENTICATE(signature), where
 * signature = base64(HMAC-SHA256(key, challenge)). The challenge is the JSON object Crossbar.io
 * sends (`router/auth/wampcra.py`).
 *
 * Salted users as in Crossbar.io 22.6 (and its docs and examples): the configured `secret` of a
 * user with a `salt` *is* the derived key, base64(PBKDF2-HMAC-SHA256(password, salt, iterations,
 * keylen)) used as text, and the router signs with it as it is; the CHALLENGE only tells the
 * client the salt and PBKDF2 parameters, so the client derives the same key from the password
 * (Autobahn's `derive_key`, wampy-cra's `deriveKey`). The router never sees the password.
 * `xbar wampcra-key` prints the key to configure. A dynamic authenticator's `secret` is read the
 * same way. (Crossbar.io 25.12 derives again from the configured secret; xbar does not.)
 *
 * An unknown authid is challenged like one of the configured users, picked by a keyed hash of the
 * authid (so the same authid always looks the same): that user's role, salt and PBKDF2 parameters.
 * It fails at AUTHENTICATE like a wrong password, so the exchange never tells which authids exist.
 */
import { createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { DynamicAuthConfig, WampCraUser } from '../config/types.js';
import type { PeerInfo } from '../connection/peer.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Dict, Hello } from '../wamp/messages.js';
import type { AuthOutcome, Authenticator } from './authenticator.js';
import { askAuthenticator, type AuthDeps } from './dynamic.js';
import { FAILED, abort, helloAuthid, welcome, type Principal } from './principal.js';
import { secretsEqual } from './secrets.js';

const pbkdf2Async = promisify(pbkdf2);

export interface Salting {
  readonly salt: string;
  readonly iterations: number;
  readonly keylen: number;
}

/** The PBKDF2 parameters a salted secret has when the config gives only `salt` (Crossbar.io 22.6, Autobahn). */
export const PBKDF2_DEFAULTS = { iterations: 1000, keylen: 32 } as const;

/**
 * Autobahn's derive_key: base64 of PBKDF2-HMAC-SHA256 of the password; this text (not the bytes)
 * is the HMAC key, and what a salted user's `secret` is configured as.
 */
export async function deriveKey(password: string, s: Salting): Promise<string> {
  const key = await pbkdf2Async(Buffer.from(password, 'utf8'), Buffer.from(s.salt, 'utf8'), s.iterations, s.keylen, 'sha256');
  return key.toString('base64');
}

/** Autobahn's compute_wcs: base64(HMAC-SHA256(key, challenge)). */
export function computeSignature(key: string, challenge: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(challenge, 'utf8').digest('base64');
}

function challengeText(authid: string, authrole: string, authprovider: string): string {
  return JSON.stringify({
    authid,
    authrole,
    authmethod: 'wampcra',
    authprovider,
    nonce: randomBytes(24).toString('base64'),
    timestamp: new Date().toISOString(),
  });
}

function saltingOf(u: { salt?: string | undefined; iterations?: number | undefined; keylen?: number | undefined }): Salting | undefined {
  return u.salt === undefined
    ? undefined
    : { salt: u.salt, iterations: u.iterations ?? PBKDF2_DEFAULTS.iterations, keylen: u.keylen ?? PBKDF2_DEFAULTS.keylen };
}

/** What a CHALLENGE shows of a user besides its authid. */
interface Shape {
  readonly role: string;
  readonly salting: Salting | undefined;
}

/** The static users of one transport, and the look-alikes of authids that are none of them. */
export class WampCraUsers {
  /** Keys the choice of look-alike; fresh per node, so an attacker cannot predict it. */
  private readonly decoyKey = randomBytes(32);
  private readonly shapes: readonly Shape[];

  constructor(readonly users: ReadonlyMap<string, WampCraUser>) {
    this.shapes = [...users.values()].map((u) => ({ role: u.role, salting: saltingOf(u) }));
  }

  /** A known user's HMAC key (its secret: a salted user's is configured as the derived key) and shape. */
  known(authid: string): (Shape & { readonly key: string; readonly user: WampCraUser }) | undefined {
    const user = this.users.get(authid);
    return user === undefined ? undefined : { key: user.secret, user, role: user.role, salting: saltingOf(user) };
  }

  /**
   * How an unknown authid is shown: as one of the configured users, the same one every time for
   * the same authid. Every shape a stranger can get is one a real user has (a salt too), so no
   * CHALLENGE tells a stranger from a user.
   */
  lookAlike(authid: string): Shape {
    const pick = createHmac('sha256', this.decoyKey).update(authid, 'utf8').digest().readUInt32BE(0);
    return this.shapes[pick % this.shapes.length]!;
  }
}

function challengeExtra(challenge: string, s: Salting | undefined): Dict {
  return s === undefined ? { challenge } : { challenge, salt: s.salt, iterations: s.iterations, keylen: s.keylen };
}

/** A pending exchange: what AUTHENTICATE must carry, and who it admits. */
interface Pending {
  readonly challenge: string;
  /** The HMAC key; undefined for an authid that is nobody. */
  readonly key: string | undefined;
  readonly principal: Principal | undefined;
  readonly authprovider: string;
}

abstract class WampCraBase implements Authenticator {
  readonly method = 'wampcra';
  protected hello: Hello | undefined;
  protected pending: Pending | undefined;

  abstract begin(hello: Hello, peer: PeerInfo): AuthOutcome | Promise<AuthOutcome>;

  finish(signature: string): AuthOutcome {
    const p = this.pending!;
    // A decoy exchange still computes and compares a signature, so it costs what a real one does.
    const key = p.key ?? randomBytes(32).toString('base64');
    const ok = secretsEqual(signature, computeSignature(key, p.challenge));
    if (!ok || p.principal === undefined) return FAILED;
    return welcome(this.hello!, p.principal, { authmethod: 'wampcra', authprovider: p.authprovider });
  }
}

export class StaticWampCraAuthenticator extends WampCraBase {
  constructor(private readonly users: WampCraUsers) {
    super();
  }

  begin(hello: Hello): AuthOutcome {
    const authid = helloAuthid(hello);
    if (authid === undefined) return abort(ErrorUri.authenticationFailed, 'wampcra authentication needs an authid in HELLO.Details');
    this.hello = hello;
    const user = this.users.known(authid);
    const shape = user ?? this.users.lookAlike(authid);
    const challenge = challengeText(authid, shape.role, 'static');
    this.pending = { challenge, key: user?.key, principal: user && { ...user.user, authid }, authprovider: 'static' };
    return { kind: 'challenge', method: 'wampcra', extra: challengeExtra(challenge, shape.salting) };
  }
}

const positiveInt = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max;

export class DynamicWampCraAuthenticator extends WampCraBase {
  constructor(private readonly config: DynamicAuthConfig, private readonly deps: AuthDeps) {
    super();
  }

  async begin(hello: Hello, peer: PeerInfo): Promise<AuthOutcome> {
    this.hello = hello;
    const asked = await askAuthenticator(this.deps, this.config, hello, peer, 'wampcra');
    if (asked.outcome) return asked.outcome;
    const p = asked.principal;
    const { secret, salt, iterations, keylen } = p;
    const bad = (what: string) => {
      this.deps.log.warn({ authenticator: this.config.authenticator }, `dynamic wampcra authenticator returned ${what}`);
      return FAILED;
    };
    if (typeof secret !== 'string' || secret === '') return bad('no "secret"');
    if (salt !== undefined && salt !== null && typeof salt !== 'string') return bad('a non-string "salt"');
    if (iterations !== undefined && iterations !== null && !positiveInt(iterations, 10_000_000)) return bad('an invalid "iterations"');
    if (keylen !== undefined && keylen !== null && !positiveInt(keylen, 1024)) return bad('an invalid "keylen"');
    const authid = p.authid ?? helloAuthid(hello);
    if (authid === undefined) return abort(ErrorUri.noSuchPrincipal, 'no authid assigned');
    // As for static users: with a salt, the secret returned is the derived key.
    const salting = typeof salt === 'string' ? saltingOf({ salt, iterations: iterations ?? undefined, keylen: keylen ?? undefined }) : undefined;
    const challenge = challengeText(authid, p.role ?? '', 'dynamic');
    this.pending = { challenge, key: secret, principal: { ...p, authid }, authprovider: 'dynamic' };
    return { kind: 'challenge', method: 'wampcra', extra: challengeExtra(challenge, salting) };
  }
}
