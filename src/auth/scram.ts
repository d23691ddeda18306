/**
 * `scram` (WAMP-SCRAM) as Crossbar.io's `router/auth/scram.py`: HELLO with authextra
 * `{nonce}` (base64) → CHALLENGE("scram", {nonce: client nonce + 16 random bytes, kdf, salt,
 * iterations, memory}) → AUTHENTICATE(ClientProof), checked against the principal's
 * `stored-key`: ClientSignature = HMAC-SHA256(StoredKey, AuthMessage), ClientKey = ClientProof
 * XOR ClientSignature, SHA-256(ClientKey) must be StoredKey. WELCOME's authextra carries
 * `scram_server_signature` = HMAC-SHA256(ServerKey, AuthMessage), so the client can check the
 * router. The router never sees the password, nor runs the KDF (argon2id-13 or pbkdf2): the
 * client does, with the parameters of the CHALLENGE.
 *
 * An unknown authid is challenged like a known one (parameters of one of the principals, a
 * random stored key) and fails the same way, so the exchange never tells which authids exist
 * (Crossbar.io answers "no principal with authid … exists").
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DynamicAuthConfig, ScramPrincipal } from '../config/types.js';
import type { PeerInfo } from '../connection/peer.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Dict, Hello } from '../wamp/messages.js';
import type { AuthOutcome, Authenticator } from './authenticator.js';
import { askAuthenticator, type AuthDeps } from './dynamic.js';
import { FAILED, abort, helloAuthextra, helloAuthid, welcome, type Principal } from './principal.js';

/** The principal's SCRAM parameters and keys, decoded. */
interface Credential {
  readonly kdf: string;
  readonly iterations: number;
  readonly memory?: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

function credentialOf(p: ScramPrincipal): Credential {
  return {
    kdf: p.kdf, iterations: p.iterations, ...(p.memory === undefined ? {} : { memory: p.memory }),
    salt: Buffer.from(p.salt, 'hex'), storedKey: Buffer.from(p.storedKey, 'hex'), serverKey: Buffer.from(p.serverKey, 'hex'),
  };
}

/** A principal a dynamic authenticator returned, with Crossbar.io's key names; a string says what is wrong. */
function dynamicCredential(p: Principal & Dict): Credential | string {
  const hex = (k: string) => (typeof p[k] === 'string' && /^([0-9a-fA-F]{2})+$/.test(p[k] as string) ? Buffer.from(p[k] as string, 'hex') : undefined);
  const salt = hex('salt');
  const storedKey = hex('stored-key');
  const serverKey = hex('server-key');
  if (salt === undefined || storedKey === undefined || serverKey === undefined) return 'returned no hex "salt", "stored-key" and "server-key"';
  if (p.kdf !== 'argon2id-13' && p.kdf !== 'pbkdf2') return 'returned a "kdf" other than "argon2id-13" or "pbkdf2"';
  if (typeof p.iterations !== 'number') return 'returned no "iterations"';
  return { kdf: p.kdf, iterations: p.iterations, ...(typeof p.memory === 'number' ? { memory: p.memory } : {}), salt, storedKey, serverKey };
}

/**
 * SASLprep of the authid as Autobahn|Python (passlib's saslprep) does it for the ASCII and
 * Unicode-normalized names that occur: NFKC. (Full SASLprep also maps and refuses some characters.)
 */
function prepared(authid: string): string {
  return authid.normalize('NFKC');
}

/** Crossbar.io's AuthMessage: client-first-bare, server-first, client-final-without-proof (no channel binding). */
export function authMessage(authid: string, clientNonce: string, serverNonce: string, salt: Buffer, iterations: number): string {
  const s = salt.toString('base64');
  return `n=${prepared(authid)},r=${clientNonce},r=${serverNonce},s=${s},i=${iterations},c=,r=${serverNonce}`;
}

/** Checks a ClientProof; the server signature for WELCOME when it is right. */
export function verifyProof(c: Credential, message: string, proof: Buffer): string | undefined {
  const clientSignature = createHmac('sha256', c.storedKey).update(message, 'ascii').digest();
  if (proof.length !== clientSignature.length) return undefined;
  const clientKey = Buffer.alloc(proof.length);
  for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
  const stored = createHash('sha256').update(clientKey).digest();
  if (stored.length !== c.storedKey.length || !timingSafeEqual(stored, c.storedKey)) return undefined;
  return createHmac('sha256', c.serverKey).update(message, 'ascii').digest('base64');
}

/** The client nonce of HELLO (base64, as Crossbar.io requires), or why not. */
function clientNonceOf(hello: Hello): string | AuthOutcome {
  const nonce = helloAuthextra(hello).nonce;
  if (typeof nonce !== 'string') return abort(ErrorUri.authenticationFailed, 'client must send a nonce');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(nonce) || nonce.length % 4 !== 0 || nonce.length === 0) {
    return abort(ErrorUri.authenticationFailed, 'client nonce must be base64');
  }
  return nonce;
}

/** One SCRAM exchange: the CHALLENGE it sent and what AUTHENTICATE must match. */
class Exchange {
  readonly serverNonce: string;

  constructor(readonly hello: Hello, readonly authid: string, readonly clientNonce: string, readonly credential: Credential) {
    this.serverNonce = Buffer.concat([Buffer.from(clientNonce, 'base64'), randomBytes(16)]).toString('base64');
  }

  challenge(): AuthOutcome {
    const c = this.credential;
    return {
      kind: 'challenge',
      method: 'scram',
      extra: {
        nonce: this.serverNonce, kdf: c.kdf, salt: c.salt.toString('base64'), iterations: c.iterations,
        ...(c.memory === undefined ? {} : { memory: c.memory }),
      },
    };
  }

  /** The server signature when `signature` is the right ClientProof. */
  check(signature: string): string | undefined {
    const c = this.credential;
    return verifyProof(c, authMessage(this.authid, this.clientNonce, this.serverNonce, c.salt, c.iterations), Buffer.from(signature, 'base64'));
  }
}

export class StaticScramAuthenticator implements Authenticator {
  readonly method = 'scram';
  private exchange: Exchange | undefined;
  private principal: ScramPrincipal | undefined;

  constructor(private readonly principals: ReadonlyMap<string, ScramPrincipal>) {}

  begin(hello: Hello): AuthOutcome {
    const nonce = clientNonceOf(hello);
    if (typeof nonce !== 'string') return nonce;
    const authid = helloAuthid(hello);
    if (authid === undefined) return abort(ErrorUri.authenticationFailed, 'cannot identify client: no authid requested');
    this.principal = this.principals.get(authid);
    // An unknown authid sees the parameters of a real principal and can never match a random key.
    const shape = this.principal ?? [...this.principals.values()][0];
    const credential = shape === undefined
      ? { kdf: 'argon2id-13', iterations: 4096, memory: 512, salt: randomBytes(16), storedKey: randomBytes(32), serverKey: randomBytes(32) }
      : { ...credentialOf(shape), ...(this.principal === undefined ? { storedKey: randomBytes(32) } : {}) };
    this.exchange = new Exchange(hello, authid, nonce, credential);
    return this.exchange.challenge();
  }

  finish(signature: string): AuthOutcome {
    const e = this.exchange!;
    const serverSignature = e.check(signature);
    if (serverSignature === undefined || this.principal === undefined) return FAILED;
    const p = this.principal;
    return welcome(e.hello, { role: p.role, ...(p.realm === undefined ? {} : { realm: p.realm }), extra: { scram_server_signature: serverSignature } }, {
      authmethod: 'scram', authprovider: 'static', authid: e.authid,
    });
  }
}

export class DynamicScramAuthenticator implements Authenticator {
  readonly method = 'scram';
  private exchange: Exchange | undefined;
  private principal: Principal | undefined;

  constructor(private readonly config: DynamicAuthConfig, private readonly deps: AuthDeps) {}

  async begin(hello: Hello, peer: PeerInfo): Promise<AuthOutcome> {
    const nonce = clientNonceOf(hello);
    if (typeof nonce !== 'string') return nonce;
    const authid = helloAuthid(hello);
    if (authid === undefined) return abort(ErrorUri.authenticationFailed, 'cannot identify client: no authid requested');
    const asked = await askAuthenticator(this.deps, this.config, hello, peer, 'scram', {});
    if (asked.outcome) return asked.outcome;
    const credential = dynamicCredential(asked.principal as Principal & Dict);
    if (typeof credential === 'string') return abort(ErrorUri.authenticationFailed, `the dynamic authenticator ${credential}`);
    this.principal = asked.principal;
    this.exchange = new Exchange(hello, authid, nonce, credential);
    return this.exchange.challenge();
  }

  finish(signature: string): AuthOutcome {
    const e = this.exchange!;
    const serverSignature = e.check(signature);
    if (serverSignature === undefined) return FAILED;
    const p = this.principal!;
    return welcome(e.hello, { ...p, extra: { ...(p.extra ?? {}), scram_server_signature: serverSignature } }, { authmethod: 'scram', authprovider: 'dynamic', authid: e.authid });
  }
}
