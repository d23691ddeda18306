/**
 * JWT as a WAMP ticket (xbar's extension, `ticket.type: jwt`): the client sends a JWT as its
 * ticket; the router checks it locally with `jose`, against a shared secret (HS*), a PEM public
 * key or certificate, or a JWK Set file, and requires `aud` (one of the configured audiences)
 * and `exp`; `nbf` and `iss` are checked when present or configured. The claims named in the
 * config become authid, authrole and authextra. Why a token failed goes to the log, never to
 * the client.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { JwtAuthConfig } from '../config/types.js';
import type { PeerInfo } from '../connection/peer.js';
import type { Dict, Hello } from '../wamp/messages.js';
import type { AuthOutcome, Authenticator } from './authenticator.js';
import { FAILED, helloAuthid, welcome } from './principal.js';

const HMAC = ['HS256', 'HS384', 'HS512'];

/** Algorithms a key type can verify; a public key never verifies an HMAC (algorithm confusion). */
function algorithmsFor(key: KeyObject | undefined): string[] {
  switch (key?.asymmetricKeyType) {
    case 'rsa': return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss': return ['PS256', 'PS384', 'PS512'];
    case 'ec': return ['ES256', 'ES384', 'ES512'];
    case 'ed25519': return ['EdDSA', 'Ed25519'];
    default: return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
  }
}

/** The key material of one config, prepared once and shared by every session. */
export class JwtVerifier {
  private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(readonly config: JwtAuthConfig) {
    const k = config.key;
    switch (k.kind) {
      case 'secret':
        this.key = new TextEncoder().encode(k.secret);
        this.algorithms = HMAC;
        break;
      case 'public_key': {
        const key = createPublicKey(k.pem);
        this.key = key;
        this.algorithms = algorithmsFor(key);
        break;
      }
      case 'jwks':
        this.key = createLocalJWKSet({ keys: k.jwks.keys.map((x) => ({ ...x })) });
        this.algorithms = algorithmsFor(undefined);
        break;
    }
    if (config.algorithms !== undefined) this.algorithms = this.algorithms.filter((a) => config.algorithms!.includes(a));
  }

  /** The verified claims, or why the token is refused. */
  async verify(token: string): Promise<JWTPayload | { error: string }> {
    const c = this.config;
    try {
      const options = {
        audience: [...c.audience],
        ...(c.issuer === undefined ? {} : { issuer: [...c.issuer] }),
        algorithms: this.algorithms,
        clockTolerance: c.clockTolerance,
        requiredClaims: ['exp'],
      };
      const result = typeof this.key === 'function'
        ? await jwtVerify(token, this.key, options)
        : await jwtVerify(token, this.key, options);
      return result.payload;
    } catch (e) {
      const err = e as { code?: string; message?: string };
      return { error: `${err.code ?? 'ERR_JWT_INVALID'}: ${err.message ?? String(e)}` };
    }
  }
}

/** A claim by name; a dotted name reaches into nested objects ("realm_access.role"). */
export function claim(payload: JWTPayload, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name];
  let v: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, part)) return undefined;
    v = (v as Dict)[part];
  }
  return v;
}

export class JwtTicketAuthenticator implements Authenticator {
  readonly method = 'ticket';
  private hello: Hello | undefined;
  private peer: PeerInfo | undefined;

  constructor(private readonly verifier: JwtVerifier, private readonly log: Logger) {}

  begin(hello: Hello, peer: PeerInfo): AuthOutcome {
    this.hello = hello;
    this.peer = peer;
    return { kind: 'challenge', method: 'ticket', extra: {} };
  }

  async finish(signature: string): Promise<AuthOutcome> {
    const hello = this.hello!;
    const c = this.verifier.config;
    const log = this.log.child({ authmethod: 'ticket', authprovider: 'jwt', remote: this.peer?.remoteAddress });
    const payload = await this.verifier.verify(signature);
    if ('error' in payload && typeof payload.error === 'string') {
      log.info({ reason: payload.error }, 'JWT refused');
      return FAILED;
    }
    const authid = claim(payload, c.claims.authid);
    if (typeof authid !== 'string' || authid === '') {
      log.info({ claim: c.claims.authid }, 'JWT refused: no authid claim');
      return FAILED;
    }
    const asked = helloAuthid(hello);
    if (asked !== undefined && asked !== authid) {
      log.info({ authid, asked }, 'JWT refused: HELLO.authid differs from the token');
      return FAILED;
    }
    const roleClaim = claim(payload, c.claims.authrole);
    const role = typeof roleClaim === 'string' && roleClaim !== '' ? roleClaim : c.defaultRole;
    if (role === undefined) {
      log.info({ authid, claim: c.claims.authrole }, 'JWT refused: no role claim and no default role');
      return FAILED;
    }
    const extra: Dict = {};
    for (const name of c.claims.authextra) {
      const v = claim(payload, name);
      if (v !== undefined) extra[name] = v;
    }
    return welcome(hello, { role, authid, ...(c.claims.authextra.length > 0 ? { extra } : {}) }, { authmethod: 'ticket', authprovider: 'jwt' });
  }
}
