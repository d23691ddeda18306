/**
 * The normalized authentication, TLS and defence settings (`types.ts` re-exports them). Secrets
 * and key files are already resolved here: `${VAR}` references are read from the environment and
 * files are read at load time, so a node never fails later for a missing file.
 */

/**
 * Crossbar.io's dynamic authenticator: a WAMP procedure, registered by some component, that the
 * router calls with `(realm, authid, details)` and that returns a role, a principal object, or
 * raises.
 */
export interface DynamicAuthConfig {
  readonly type: 'dynamic';
  /** URI of the authenticator procedure. */
  readonly authenticator: string;
  /** Realm the procedure is registered on; undefined = the realm the client asked for. */
  readonly authenticatorRealm?: string;
  /** Role the router's calling session joins with; undefined = the built-in "trusted". */
  readonly authenticatorRole?: string;
  /** Crossbar.io's `type: function`: `authenticator` is a Python callable, not a procedure. */
  readonly function?: FunctionAuthenticatorConfig;
}

/** A Python `create(config, controller)` that returns `authenticate(realm, authid, details)`. */
export interface FunctionAuthenticatorConfig {
  /** "module.function". */
  readonly create: string;
  readonly config: unknown;
  /** The node directory, where it runs; first on sys.path after `pythonpath`. */
  readonly cbdir: string;
  /** The router worker's `options.pythonpath`, absolute. */
  readonly pythonpath: readonly string[];
  readonly python?: string;
}

/** Who an accepted principal becomes, when the config fixes it. */
export interface PrincipalConfig {
  readonly role: string;
  /** Crossbar.io lets a principal's realm override the one the client asked for. */
  readonly realm?: string;
}

export type AnonymousAuthConfig =
  | {
      readonly type: 'static';
      readonly role: string;
      /** Fixed authid; undefined = a random one per session, as Crossbar.io does. */
      readonly authid?: string;
      readonly realm?: string;
    }
  | DynamicAuthConfig;

export interface TicketPrincipal extends PrincipalConfig {
  readonly ticket: string;
}

/** Where JWT claims go: authid, authrole and a list of claims copied into WELCOME's authextra. */
export interface JwtClaimsMapping {
  /** Claim name or dotted path of the authid (default "sub"). */
  readonly authid: string;
  /** Claim name or dotted path of the role (default "role"). */
  readonly authrole: string;
  readonly authextra: readonly string[];
}

/** The key a JWT must be signed with. */
export type JwtKey =
  | { readonly kind: 'secret'; readonly secret: string }
  | { readonly kind: 'public_key'; readonly pem: string; readonly file: string }
  | { readonly kind: 'jwks'; readonly jwks: { readonly keys: readonly Record<string, unknown>[] }; readonly file: string };

/** xbar's extension: a WAMP ticket that is a JWT, checked locally. */
export interface JwtAuthConfig {
  readonly type: 'jwt';
  readonly key: JwtKey;
  /** Accepted `aud` values; a token must name one of them. */
  readonly audience: readonly string[];
  /** Accepted `iss` values; undefined = any issuer. */
  readonly issuer?: readonly string[];
  /** Accepted `alg` values; undefined = those the key type allows. */
  readonly algorithms?: readonly string[];
  /** Allowed clock skew for `exp` and `nbf`, seconds. */
  readonly clockTolerance: number;
  readonly claims: JwtClaimsMapping;
  /** Role when the token has no role claim; undefined = such tokens are refused. */
  readonly defaultRole?: string;
}

export type TicketAuthConfig =
  | { readonly type: 'static'; readonly principals: ReadonlyMap<string, TicketPrincipal> }
  | DynamicAuthConfig
  | JwtAuthConfig;

export interface WampCraUser extends PrincipalConfig {
  /** The HMAC key: the password, or for a salted user the key derived from it (as in Crossbar.io 22.6). */
  readonly secret: string;
  /** PBKDF2 parameters the secret was derived with, told to the client (all three set, or none). */
  readonly salt?: string;
  readonly iterations?: number;
  readonly keylen?: number;
}

/** A WAMP-SCRAM principal: the KDF parameters and the keys derived from the password (hex). */
export interface ScramPrincipal extends PrincipalConfig {
  readonly kdf: 'argon2id-13' | 'pbkdf2';
  readonly iterations: number;
  /** argon2id memory cost, KiB. */
  readonly memory?: number;
  readonly salt: string;
  readonly storedKey: string;
  readonly serverKey: string;
}

export type ScramAuthConfig =
  | { readonly type: 'static'; readonly principals: ReadonlyMap<string, ScramPrincipal> }
  | DynamicAuthConfig;

export type WampCraAuthConfig =
  | { readonly type: 'static'; readonly users: ReadonlyMap<string, WampCraUser> }
  | DynamicAuthConfig;

export interface CryptosignPrincipal extends PrincipalConfig {
  /** Ed25519 public keys, 64 lowercase hex characters each. */
  readonly authorizedKeys: readonly string[];
}

export type CryptosignAuthConfig =
  | { readonly type: 'static'; readonly principals: ReadonlyMap<string, CryptosignPrincipal> }
  | DynamicAuthConfig;

export interface TlsPrincipal extends PrincipalConfig {
  /** SHA-1 fingerprint of the client certificate: 40 uppercase hex digits, no colons. */
  readonly certificateSha1: string;
}

export type TlsAuthConfig =
  | { readonly type: 'static'; readonly principals: ReadonlyMap<string, TlsPrincipal> }
  | DynamicAuthConfig;

/** Per-transport authentication methods, by WAMP authmethod name. */
export interface AuthConfig {
  readonly anonymous?: AnonymousAuthConfig;
  readonly ticket?: TicketAuthConfig;
  readonly wampcra?: WampCraAuthConfig;
  readonly cryptosign?: CryptosignAuthConfig;
  readonly tls?: TlsAuthConfig;
  readonly scram?: ScramAuthConfig;
  /** Crossbar.io's `cookie` method: a cookie-tracked connection whose cookie authenticated joins without credentials. */
  readonly cookie?: true;
}

/** TLS of a listening TCP endpoint: PEM text read from the configured files. */
export interface TlsEndpointConfig {
  readonly key: string;
  readonly certificate: string;
  /** Intermediate certificates sent with ours. */
  readonly chainCertificates: readonly string[];
  /** When set, clients must present a certificate signed by one of these (as in Crossbar.io). */
  readonly caCertificates?: readonly string[];
  readonly dhparam?: string;
  /** OpenSSL cipher list; undefined = Node's defaults. */
  readonly ciphers?: string;
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** xbar's defences, per client IP address; an absent limit is off. */
export interface LimitsConfig {
  /** New connections: a token bucket of `burst` refilled at `rate` per second. */
  readonly connections?: { readonly rate: number; readonly burst: number };
  /** After `max` failed authentications within `window` ms, refuse authentication for `block` ms. */
  readonly failedAuth?: { readonly max: number; readonly window: number; readonly block: number };
  /** Concurrent sessions per authid across all realms; undefined = unlimited. */
  readonly maxSessionsPerAuthid?: number;
  /** Authentications in progress per client address (HELLO answered, outcome not yet). */
  readonly maxPendingAuthenticationsPerAddress?: number;
  /** Sessions (connections in any state) per client address. */
  readonly maxSessionsPerAddress?: number;
  readonly maxSubscriptionsPerSession?: number;
  readonly maxRegistrationsPerSession?: number;
  /** Calls a session may have in flight as caller. */
  readonly maxCallsPerSession?: number;
  /** Bytes of retained events per realm (sum of their payload sizes). */
  readonly maxRetainedBytesPerRealm?: number;
  /** Bytes of testaments per session (sum of their payload sizes). */
  readonly maxTestamentBytesPerSession?: number;
  /** Bytes queued in the out-buffers of all connections together. */
  readonly maxOutBufferTotal?: number;
}
