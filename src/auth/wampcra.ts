/**
 * `wampcra` (wamp-proto advanced/authentication_cra.md): HELLO → CHALLENGE("wampcra",
 * {challenge, salt?, iterations?, keylen?}) → AUTHENTICATE(signature), where
 * signature = base64(HMAC-SHA256(key, challenge)) and key is the secret, or for a salted secret
 * base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)) used as text, exactly as
 * Autobahn's `derive_key` and wampy-cra's `deriveKey` compute it. The challenge is the JSON
 * object Crossbar.io sends (`router/auth/wampcra.py`). An unknown authid gets a challenge of the
 * same shape (with a salt derived from the authid when salted users exist) and fails at
 * AUTHENTICATE, so the exchange never tells which authids exist.
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

/** Autobahn's derive_key: base64 of PBKDF2-HMAC-SHA256; the text (not the bytes) is the HMAC key. */
export async function deriveKey(secret: string, s: Salting): Promise<string> {
  const key = await pbkdf2Async(Buffer.from(secret, 'utf8'), Buffer.from(s.salt, 'utf8'), s.iterations, s.keylen, 'sha256');
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
  return u.salt === undefined ? undefined : { salt: u.salt, iterations: u.iterations ?? 1000, keylen: u.keylen ?? 32 };
}

/** The static users of one transport, with derived keys computed once per user. */
export class WampCraUsers {
  private readonly keys = new Map<string, Promise<string>>();
  /** Makes unknown authids look like known ones. */
  private readonly decoy = randomBytes(32);
  private readonly decoySalting: Omit<Salting, 'salt'> | undefined;
  private readonly decoyRole: string;

  constructor(readonly users: ReadonlyMap<string, WampCraUser>) {
    const salted = [...users.values()].map(saltingOf).find((s) => s !== undefined);
    this.decoySalting = salted === undefined ? undefined : { iterations: salted.iterations, keylen: salted.keylen };
    this.decoyRole = users.values().next().value?.role ?? 'user';
  }

  /** The HMAC key of a known user. */
  key(authid: string): Promise<string> | undefined {
    const u = this.users.get(authid);
    if (u === undefined) return undefined;
    let k = this.keys.get(authid);
    if (k === undefined) {
      const s = saltingOf(u);
      k = s === undefined ? Promise.resolve(u.secret) : deriveKey(u.secret, s);
      // Awaited in finish(); a client that never answers must not leave a rejection unhandled.
      k.catch(() => undefined);
      this.keys.set(authid, k);
    }
    return k;
  }

  /** The salting an unknown authid is shown: stable per authid, like a real user's. */
  decoyFor(authid: string): { role: string; salting: Salting | undefined } {
    const salting = this.decoySalting === undefined
      ? undefined
      : { salt: createHmac('sha256', this.decoy).update(authid).digest('base64').slice(0, 22), ...this.decoySalting };
    return { role: this.decoyRole, salting };
  }
}

function challengeExtra(challenge: string, s: Salting | undefined): Dict {
  return s === undefined ? { challenge } : { challenge, salt: s.salt, iterations: s.iterations, keylen: s.keylen };
}

/** A pending exchange: what AUTHENTICATE must carry, and who it admits. */
interface Pending {
  readonly challenge: string;
  readonly key: Promise<string> | undefined;
  readonly principal: Principal | undefined;
  readonly authprovider: string;
}

abstract class WampCraBase implements Authenticator {
  readonly method = 'wampcra';
  protected hello: Hello | undefined;
  protected pending: Pending | undefined;

  abstract begin(hello: Hello, peer: PeerInfo): AuthOutcome | Promise<AuthOutcome>;

  async finish(signature: string): Promise<AuthOutcome> {
    const p = this.pending!;
    // A decoy exchange still computes and compares a signature, so it costs what a real one does.
    const key = p.key === undefined ? randomBytes(32).toString('base64') : await p.key;
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
    const user = this.users.users.get(authid);
    if (user === undefined) {
      const decoy = this.users.decoyFor(authid);
      const challenge = challengeText(authid, decoy.role, 'static');
      this.pending = { challenge, key: undefined, principal: undefined, authprovider: 'static' };
      return { kind: 'challenge', method: 'wampcra', extra: challengeExtra(challenge, decoy.salting) };
    }
    const challenge = challengeText(authid, user.role, 'static');
    this.pending = { challenge, key: this.users.key(authid), principal: { ...user, authid }, authprovider: 'static' };
    return { kind: 'challenge', method: 'wampcra', extra: challengeExtra(challenge, saltingOf(user)) };
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
    const salting = typeof salt === 'string' ? saltingOf({ salt, iterations: iterations ?? undefined, keylen: keylen ?? undefined }) : undefined;
    const challenge = challengeText(authid, p.role ?? '', 'dynamic');
    const key = salting === undefined ? Promise.resolve(secret) : deriveKey(secret, salting);
    key.catch(() => undefined);
    this.pending = { challenge, key, principal: { ...p, authid }, authprovider: 'dynamic' };
    return { kind: 'challenge', method: 'wampcra', extra: challengeExtra(challenge, salting) };
  }
}
