/**
 * Access tokens, as the practable relay issues them (`internal/permission/models.go`): a JWT whose
 * claims name the topic (`topic`, optionally under a `prefix` such as "session"), the `scopes`
 * ("read", "write"), a `booking_id` for the deny-list, and the standard `aud`, `nbf` and `exp`.
 * Signed with HS256 (shared secret) or with the private half of an Ed25519, RSA or EC key whose
 * public half the relay holds.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { RelayTokenConfig } from '../config/types.js';
import { RelayRefusal } from './errors.js';

/** What a verified token grants. */
export interface Grant {
  /** The relay path the token is for: `prefix/topic`, or `topic` without a prefix. */
  readonly path: string;
  readonly read: boolean;
  readonly write: boolean;
  readonly scopes: readonly string[];
  readonly bookingId?: string;
  /** ms since the epoch; undefined = no expiry. */
  readonly expiresAt?: number;
  /** ms since the epoch; undefined = valid at once. */
  readonly notBefore?: number;
}

/** Algorithms a public key may verify, by key type. */
const ALGORITHMS: Readonly<Record<string, readonly string[]>> = {
  ed25519: ['EdDSA', 'Ed25519'],
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'rsa-pss': ['PS256', 'PS384', 'PS512'],
  ec: ['ES256', 'ES384', 'ES512'],
};

export class TokenVerifier {
  private constructor(
    private readonly key: Uint8Array | KeyObject,
    private readonly algorithms: readonly string[],
    private readonly audience: string | undefined,
  ) {}

  /** Loads the key; a missing or unusable key file is a start-up error naming the file. */
  static async create(config: RelayTokenConfig): Promise<TokenVerifier> {
    if (config.secret !== undefined) return new TokenVerifier(new TextEncoder().encode(config.secret), ['HS256'], config.audience);
    const file = config.publicKeyFile!;
    let key: KeyObject;
    try {
      key = createPublicKey(await readFile(file, 'utf8'));
    } catch (e) {
      throw new Error(`relay tokens.public_key_file ${file}: ${(e as Error).message}`);
    }
    const algorithms = ALGORITHMS[key.asymmetricKeyType ?? ''];
    if (!algorithms) {
      throw new Error(`relay tokens.public_key_file ${file}: unsupported key type ${key.asymmetricKeyType}; use Ed25519, RSA or EC`);
    }
    return new TokenVerifier(key, algorithms, config.audience);
  }

  /** Verifies signature, audience, nbf and exp, and reads the relay claims; throws RelayRefusal. */
  async verify(token: string): Promise<Grant> {
    return grantOf(await this.payload(token));
  }

  /** True for a valid token with scope "relay:admin" (practable's admin tokens); throws RelayRefusal. */
  async verifyAdmin(token: string): Promise<boolean> {
    const p = await this.payload(token);
    const scopes = p['scopes'];
    return Array.isArray(scopes) && scopes.includes('relay:admin');
  }

  private async payload(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [...this.algorithms],
        ...(this.audience === undefined ? {} : { audience: this.audience }),
      });
      return payload;
    } catch (e) {
      throw refusal(e);
    }
  }
}

function refusal(e: unknown): RelayRefusal {
  if (e instanceof errors.JWTExpired) return new RelayRefusal(401, 'token expired');
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return new RelayRefusal(401, 'token audience does not match this relay');
    if (e.claim === 'nbf') return new RelayRefusal(401, 'token not valid yet (nbf)');
    return new RelayRefusal(401, `token claim "${e.claim}" invalid: ${e.message}`);
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return new RelayRefusal(401, 'token signature invalid');
  if (e instanceof errors.JOSEAlgNotAllowed) return new RelayRefusal(401, 'token signed with an algorithm this relay does not accept');
  if (e instanceof errors.JOSEError) return new RelayRefusal(401, `malformed token: ${e.message}`);
  return new RelayRefusal(401, `malformed token: ${(e as Error).message}`);
}

/** The relay's claims from a verified payload. */
export function grantOf(p: JWTPayload): Grant {
  const topic = p['topic'];
  if (typeof topic !== 'string' || topic === '') throw new RelayRefusal(401, 'token has no "topic" claim');
  const prefix = p['prefix'];
  if (prefix !== undefined && typeof prefix !== 'string') throw new RelayRefusal(401, 'token claim "prefix" must be a string');
  const scopes = scopesOf(p);
  const read = scopes.includes('read');
  const write = scopes.includes('write');
  if (!read && !write) throw new RelayRefusal(403, 'token grants neither "read" nor "write" scope');
  const booking = p['booking_id'];
  if (booking !== undefined && typeof booking !== 'string') throw new RelayRefusal(401, 'token claim "booking_id" must be a string');
  const path = (prefix ? `${prefix}/${topic}` : topic).replace(/^\/+|\/+$/g, '');
  return {
    path,
    read,
    write,
    scopes,
    ...(booking ? { bookingId: booking } : {}),
    ...(p.exp === undefined ? {} : { expiresAt: p.exp * 1000 }),
    ...(p.nbf === undefined ? {} : { notBefore: p.nbf * 1000 }),
  };
}

/** `scopes: ["read", "write"]` (practable), or OAuth's `scope: "read write"`. */
function scopesOf(p: JWTPayload): string[] {
  const list = p['scopes'];
  if (Array.isArray(list) && list.every((s) => typeof s === 'string')) return list as string[];
  if (list !== undefined) throw new RelayRefusal(401, 'token claim "scopes" must be a list of strings');
  const scope = p['scope'];
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  throw new RelayRefusal(403, 'token has no "scopes" claim');
}

/** A grant that still holds at `now` for `path` (checked again when a code is used). */
export function checkGrant(grant: Grant, path: string, now: number): void {
  if (grant.expiresAt !== undefined && now >= grant.expiresAt) throw new RelayRefusal(401, 'token expired');
  if (grant.notBefore !== undefined && now < grant.notBefore) throw new RelayRefusal(401, 'token not valid yet (nbf)');
  if (grant.path !== path) throw new RelayRefusal(403, `token is for topic "${grant.path}", not "${path}"`);
}
