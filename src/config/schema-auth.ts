/**
 * Zod schemas of transport authentication (`auth`), endpoint TLS (`endpoint.tls`) and xbar's
 * per-IP defences (top-level `limits`). Key names follow crossbario/crossbar
 * `src/crossbar/common/checkconfig.py` (`check_transport_auth_*`, `check_listening_endpoint_tls`)
 * and `src/crossbar/router/auth/*.py`:
 *
 *   auth:
 *     anonymous:  {type: static, role?, authid?, realm?} | dynamic
 *     ticket:     {type: static, principals: {<authid>: {ticket, role, realm?}}} | dynamic | jwt
 *     wampcra:    {type: static, users: {<authid>: {secret, role, realm?, salt?, iterations?, keylen?}}} | dynamic
 *     cryptosign: {type: static, principals: {<authid>: {authorized_keys: [<hex>], role, realm?}}} | dynamic
 *     tls:        {type: static, principals: {<authid>: {certificate-sha1, role, realm?}}} | dynamic
 *   dynamic = {type: dynamic, authenticator: <uri>, authenticator-realm?, authenticator-role?}
 *
 * `ticket.type: jwt` is xbar's extension (a JWT checked locally; see `jwtTicket`). Secrets and
 * tickets may be written `${VAR}` to read them from the environment, as in Crossbar.io.
 */
import { z } from 'zod';
import { bool, byType, expect, int, nonEmpty, oneOf, strict, strings, tag } from './schema-kit.js';

/** A loose WAMP URI with non-empty components (realm names). */
const LOOSE_URI = /^([^\s.#]+\.)*([^\s.#]+)$/;
/** Crossbar.io checks authenticator URIs as strict, non-empty (`check_or_raise_uri`). */
const STRICT_URI = /^([0-9a-z_]+\.)*([0-9a-z_]+)$/;

const realmName = () => z.string(expect('realm name')).regex(LOOSE_URI, expect('realm name (a WAMP URI)'));
const procedureUri = () =>
  z.string(expect('procedure URI')).regex(STRICT_URI, expect('procedure URI (strict: lowercase letters, digits, "_" and ".")'));

/** Keys a static principal may carry besides its credential. */
const principal = { role: nonEmpty(), realm: realmName().optional() };

/** A map from authid to principal, with at least one entry. */
function principals<T extends z.core.$ZodType>(item: T, what: string) {
  return z
    .record(nonEmpty(), item, expect(`object mapping authids to ${what}`))
    .refine((m) => Object.keys(m).length > 0, { message: `expected at least one ${what.replace(/s$/, '')}` });
}

function dynamicAuth(method: string) {
  return strict({
    type: tag('dynamic', `${method} authentication type`),
    authenticator: procedureUri(),
    'authenticator-realm': realmName().optional(),
    'authenticator-role': nonEmpty().optional(),
  });
}

// ---- methods ------------------------------------------------------------------------------------

const anonymousStatic = strict({
  type: tag('static', 'anonymous authentication type'),
  role: nonEmpty().optional(),
  authid: nonEmpty().optional(),
  realm: realmName().optional(),
});

/** `type: "function"`: Crossbar.io imports a Python callable into its router process. */
const NO_FUNCTION = {
  function:
    'xbar runs no Python function inside its router; register the function as a WAMP procedure in a router component ' +
    '("components" of the router worker, which xbar runs under the system Python) and use {"type": "dynamic", "authenticator": "<that procedure>"}',
};

const anonymousAuth = byType('anonymous authentication type', ['static', 'dynamic'], NO_FUNCTION, [
  anonymousStatic,
  dynamicAuth('anonymous'),
]);

const ticketStatic = strict({
  type: tag('static', 'ticket authentication type'),
  principals: principals(strict({ ticket: nonEmpty(), ...principal }), 'principals'),
});

const oneOrMany = (what: string) =>
  z.union([nonEmpty(), z.array(nonEmpty(), expect(`${what} or list of ${what}s`)).min(1)], expect(`${what} or list of ${what}s`));

/** Claim names may be dotted paths into nested objects ("realm_access.role"). */
const claimName = () => nonEmpty();

/**
 * xbar's JWT ticket: the client sends a JWT as its WAMP ticket; the router checks the signature
 * with exactly one of `secret` (HS256/384/512), `public_key_file` (PEM public key or
 * certificate) or `jwks_file` (a JSON Web Key Set), then `aud` (required), `exp` (required),
 * `nbf` and `iss`, and maps claims to the session's authid, role and authextra.
 */
export const jwtTicket = strict({
  type: tag('jwt', 'ticket authentication type'),
  secret: nonEmpty().optional(),
  public_key_file: nonEmpty().optional(),
  jwks_file: nonEmpty().optional(),
  audience: oneOrMany('audience string'),
  issuer: oneOrMany('issuer string').optional(),
  algorithms: z.array(oneOf(JWT_ALGORITHMS(), 'JWS algorithm'), expect('list of JWS algorithms')).min(1).optional(),
  /** Allowed clock skew for exp and nbf, seconds. */
  clock_tolerance: int(0, 3600, 'seconds').optional(),
  claims: strict({ authid: claimName().optional(), authrole: claimName().optional(), authextra: strings().optional() }).optional(),
  /** Role for tokens without a role claim; absent = such tokens are refused. */
  role: nonEmpty().optional(),
}).check((ctx) => {
  const sources = (['secret', 'public_key_file', 'jwks_file'] as const).filter((k) => ctx.value[k] !== undefined);
  if (sources.length !== 1) {
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      message:
        sources.length === 0
          ? 'missing key: set one of "secret" (HMAC), "public_key_file" (PEM) or "jwks_file" (JWKS)'
          : `set only one of ${sources.map((s) => `"${s}"`).join(', ')}`,
    });
  }
});

/** JWS algorithms jose verifies (no "none"). */
function JWT_ALGORITHMS(): [string, ...string[]] {
  return ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
}

/** Crossbar.io's `type: function`: a Python `create(config, controller)` run under the system Python. */
function functionAuth(method: string) {
  return strict({
    type: tag('function', `${method} authentication type`),
    create: z.string(expect('module.function')).regex(/^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$/, expect('module.function')),
    config: z.unknown().optional(),
    /** Crossbar.io passes its controller session; xbar passes None (see README). */
    expose_controller: bool().optional(),
  });
}

const ticketAuth = byType('ticket authentication type', ['static', 'dynamic', 'jwt', 'function'], [], [
  ticketStatic,
  dynamicAuth('ticket'),
  functionAuth('ticket'),
  jwtTicket,
]);

/**
 * A WAMP-CRA user. With `salt`, `secret` is the key derived from the password
 * (`xbar wampcra-key`), as Crossbar.io 22.6 documents it; the router signs with it as it is.
 */
const wampcraUser = strict({
  secret: nonEmpty(),
  ...principal,
  salt: nonEmpty().optional(),
  /** PBKDF2 iterations; default 1000, as the spec and Autobahn's derive_key. */
  iterations: int(1, 10_000_000).optional(),
  /** Derived key length in bytes; default 32. */
  keylen: int(1, 1024, 'bytes').optional(),
}).check((ctx) => {
  const { salt, iterations, keylen } = ctx.value;
  if (salt === undefined && (iterations !== undefined || keylen !== undefined)) {
    ctx.issues.push({ code: 'custom', path: ['salt'], input: ctx.value, message: 'missing; "iterations" and "keylen" apply to a salted secret only' });
  }
});

const wampcraStatic = strict({
  type: tag('static', 'wampcra authentication type'),
  users: principals(wampcraUser, 'users'),
});

const wampcraAuth = byType('wampcra authentication type', ['static', 'dynamic', 'function'], [], [
  wampcraStatic,
  dynamicAuth('wampcra'),
  functionAuth('wampcra'),
]);

const ed25519PublicKey = z
  .string(expect('Ed25519 public key (64 hex digits)'))
  .regex(/^[0-9a-fA-F]{64}$/, expect('Ed25519 public key (64 hex digits)'));

const cryptosignStatic = strict(
  {
    type: tag('static', 'cryptosign authentication type'),
    principals: principals(
      strict({ authorized_keys: z.array(ed25519PublicKey, expect('list of public keys')).min(1), ...principal }),
      'principals',
    ),
  },
  ['trustroots'],
  { trustroots: 'cryptosign trustroots (Ethereum certificates) are not supported by xbar; list "principals" instead' },
);

const cryptosignAuth = byType('cryptosign authentication type', ['static', 'dynamic', 'function'], [], [
  cryptosignStatic,
  dynamicAuth('cryptosign'),
  functionAuth('cryptosign'),
]);

const sha1Fingerprint = z
  .string(expect('SHA-1 fingerprint (40 hex digits, optionally colon-separated)'))
  .regex(/^([0-9a-fA-F]{2}:?){19}[0-9a-fA-F]{2}$/, expect('SHA-1 fingerprint (40 hex digits, optionally colon-separated)'));

const tlsStatic = strict({
  type: tag('static', 'tls authentication type'),
  principals: principals(strict({ 'certificate-sha1': sha1Fingerprint, ...principal }), 'principals'),
});

const tlsAuth = byType('tls authentication type', ['static', 'dynamic'], NO_FUNCTION, [tlsStatic, dynamicAuth('tls')]);

const hexKey = (what: string) => z.string(expect(`${what} (64 hex digits)`)).regex(/^[0-9a-fA-F]{64}$/, expect(`${what} (64 hex digits)`));

/** WAMP-SCRAM principals as Crossbar.io's `scram.py` reads them (keys derived by the client's KDF). */
const scramStatic = strict({
  type: tag('static', 'scram authentication type'),
  principals: principals(
    strict({
      ...principal,
      kdf: oneOf(['argon2id-13', 'pbkdf2'], 'key derivation function'),
      iterations: int(1, 100_000_000),
      /** argon2id memory cost (KiB); needed for argon2id-13. */
      memory: int(8, 4 * 1024 * 1024, 'KiB').optional(),
      salt: z.string(expect('salt (hex)')).regex(/^([0-9a-fA-F]{2})+$/, expect('salt (hex)')),
      'stored-key': hexKey('stored key'),
      'server-key': hexKey('server key'),
    }).check((ctx) => {
      if (ctx.value.kdf === 'argon2id-13' && ctx.value.memory === undefined) {
        ctx.issues.push({ code: 'custom', path: ['memory'], input: ctx.value, message: 'missing; argon2id-13 needs its memory cost' });
      }
    }),
    'principals',
  ),
});

const scramAuth = byType('scram authentication type', ['static', 'dynamic'], ['function'], [scramStatic, dynamicAuth('scram')]);

export const transportAuth = strict(
  {
    anonymous: anonymousAuth.optional(),
    ticket: ticketAuth.optional(),
    wampcra: wampcraAuth.optional(),
    cryptosign: cryptosignAuth.optional(),
    tls: tlsAuth.optional(),
    scram: scramAuth.optional(),
    /** Crossbar.io's `check_transport_auth_cookie` takes no keys. */
    cookie: strict({}).optional(),
  },
  ['cryptosign-proxy', 'anonymous-proxy'],
);

// ---- endpoint TLS -------------------------------------------------------------------------------

const tlsVersion = () => oneOf(['TLSv1.2', 'TLSv1.3'], 'TLS version');

/**
 * `endpoint.tls` of a TCP endpoint. Files are read relative to the configuration file's
 * directory. With `ca_certificates`, every client must present a certificate signed by one of
 * them (Crossbar.io's behaviour). `min_version` and `max_version` are xbar's.
 */
export const endpointTls = strict({
  key: nonEmpty(),
  certificate: nonEmpty(),
  chain_certificates: z.array(nonEmpty(), expect('list of file names')).optional(),
  ca_certificates: z.array(nonEmpty(), expect('list of file names')).min(1).optional(),
  dhparam: nonEmpty().optional(),
  ciphers: nonEmpty().optional(),
  min_version: tlsVersion().optional(),
  max_version: tlsVersion().optional(),
});

// ---- defences (ours) ----------------------------------------------------------------------------

const off = z.literal(false, { error: () => 'expected false or an object' });

/** A positive count (or byte size), or `false` for no limit. */
const countOrOff = (unit: string, max = 100_000_000) =>
  z.union([z.literal(false), int(1, max, unit)], { error: () => `expected false or an integer 1-${max} (${unit})` }).optional();

/**
 * `limits` (top level): per client IP address, per session and per realm. Each limit may be
 * `false` to turn it off (`max_sessions_per_authid` is off unless set).
 *
 *   limits:
 *     connections: {rate: 100, burst: 1000}                   # new connections per second
 *     failed_authentications: {max: 20, window: 60, block: 60}  # seconds
 *     max_pending_authentications_per_address: 100            # HELLOs awaiting their outcome
 *     max_sessions_per_address: 10000
 *     max_sessions_per_authid: 10                              # absent = unlimited
 *     max_subscriptions_per_session: 10000
 *     max_registrations_per_session: 10000
 *     max_calls_per_session: 10000                             # calls in flight
 *     max_retained_bytes_per_realm: 67108864                   # retained events, bytes
 *     max_testament_bytes_per_session: 1048576
 *     max_out_buffer_total: 1073741824                        # bytes queued for all connections together
 */
export const limits = strict({
  connections: z
    .union([off, strict({ rate: int(1, 1_000_000, 'connections per second'), burst: int(1, 1_000_000, 'connections') })], {
      error: () => 'expected false or {rate, burst}',
    })
    .optional(),
  failed_authentications: z
    .union(
      [
        off,
        strict({
          max: int(1, 1_000_000, 'failures'),
          window: int(1, 86_400, 'seconds'),
          block: int(1, 86_400, 'seconds'),
        }),
      ],
      { error: () => 'expected false or {max, window, block}' },
    )
    .optional(),
  max_sessions_per_authid: int(1, 1_000_000).optional(),
  max_pending_authentications_per_address: countOrOff('authentications'),
  max_sessions_per_address: countOrOff('sessions'),
  max_subscriptions_per_session: countOrOff('subscriptions'),
  max_registrations_per_session: countOrOff('registrations'),
  max_calls_per_session: countOrOff('calls'),
  max_retained_bytes_per_realm: countOrOff('bytes', 2 ** 40),
  max_testament_bytes_per_session: countOrOff('bytes', 2 ** 40),
  max_out_buffer_total: countOrOff('bytes', 2 ** 50),
});

export type TransportAuthDocument = z.output<typeof transportAuth>;
export type EndpointTlsDocument = z.output<typeof endpointTls>;
export type LimitsDocument = z.output<typeof limits>;
