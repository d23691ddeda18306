/**
 * Validated `auth`, `endpoint.tls` and `limits` documents → their normalized form, with every
 * default and its reason. Files are read and `${VAR}` secrets resolved here, each failure
 * reported with its key path through the `LoadContext`.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyPath } from './issues.js';
import type { LoadContext } from './load-context.js';
import type { EndpointTlsDocument, LimitsDocument, TransportAuthDocument } from './schema-auth.js';
import type {
  AnonymousAuthConfig, AuthConfig, CryptosignAuthConfig, DynamicAuthConfig, JwtAuthConfig, JwtKey, LimitsConfig,
  TicketAuthConfig, TlsAuthConfig, TlsEndpointConfig, WampCraAuthConfig, ScramAuthConfig,
} from './types-auth.js';

export const AUTH_DEFAULTS = {
  /** Crossbar.io's default for `auth.anonymous.role`. */
  anonymousRole: 'anonymous',
  /** The registered JWT claim for the subject. */
  jwtAuthidClaim: 'sub',
  jwtRoleClaim: 'role',
  /** Enough for hosts whose clocks are NTP-synchronized. */
  jwtClockTolerance: 30,
} as const;

/**
 * Per-IP defences, on unless the config turns them off. Generous: a browser tab opens one
 * connection, and a whole office behind one NAT address rarely opens 100 a second; an honest user
 * does not mistype a password 20 times a minute. Behind a reverse proxy every client shares the
 * proxy's address: raise or turn off `connections` there.
 */
export const LIMIT_DEFAULTS = {
  connections: { rate: 100, burst: 1000 },
  failedAuth: { max: 20, window: 60_000, block: 60_000 },
  /** A login takes one round trip; 100 at once from one address is a crowd behind one NAT, or an attack. */
  maxPendingAuthenticationsPerAddress: 100,
  /** A whole office behind one NAT address; each session costs a few KiB before it sends anything. */
  maxSessionsPerAddress: 10_000,
  /** Far beyond a dashboard's or gateway's needs; each costs about half a KiB. */
  maxSubscriptionsPerSession: 10_000,
  maxRegistrationsPerSession: 10_000,
  maxCallsPerSession: 10_000,
  /** Retained events are one per topic, usually small: 64 MiB is 10,000 topics of 6 KiB. */
  maxRetainedBytesPerRealm: 64 * 1024 * 1024,
  /** A testament is an "I am gone" event: 1 MiB is 100 of 10 KiB. */
  maxTestamentBytesPerSession: 1024 * 1024,
  /** All out-buffers together: 16 connections at their full 64 MiB, or thousands of slow ones at less. */
  maxOutBufferTotal: 1024 * 1024 * 1024,
} as const;

/** The `limits` keys that are a plain count or size (or `false`), with their normalized names. */
const COUNT_LIMITS = [
  ['max_pending_authentications_per_address', 'maxPendingAuthenticationsPerAddress'],
  ['max_sessions_per_address', 'maxSessionsPerAddress'],
  ['max_subscriptions_per_session', 'maxSubscriptionsPerSession'],
  ['max_registrations_per_session', 'maxRegistrationsPerSession'],
  ['max_calls_per_session', 'maxCallsPerSession'],
  ['max_retained_bytes_per_realm', 'maxRetainedBytesPerRealm'],
  ['max_testament_bytes_per_session', 'maxTestamentBytesPerSession'],
  ['max_out_buffer_total', 'maxOutBufferTotal'],
] as const;

type Dyn = { type: 'dynamic'; authenticator: string; 'authenticator-realm'?: string | undefined; 'authenticator-role'?: string | undefined };

function dynamic(d: Dyn): DynamicAuthConfig {
  return {
    type: 'dynamic',
    authenticator: d.authenticator,
    ...(d['authenticator-realm'] === undefined ? {} : { authenticatorRealm: d['authenticator-realm'] }),
    ...(d['authenticator-role'] === undefined ? {} : { authenticatorRole: d['authenticator-role'] }),
  };
}

type Fn = { type: 'function'; create: string; config?: unknown };

function fn(d: Fn, ctx: LoadContext): DynamicAuthConfig {
  const { pythonpath, python } = ctx.routerPython;
  return {
    type: 'dynamic',
    authenticator: d.create,
    function: { create: d.create, config: d.config ?? {}, cbdir: ctx.baseDir, pythonpath, ...(python === undefined ? {} : { python }) },
  };
}

const realmOf = (realm: string | undefined) => (realm === undefined ? {} : { realm });

function anonymous(d: NonNullable<TransportAuthDocument['anonymous']>): AnonymousAuthConfig {
  if (d.type === 'dynamic') return dynamic(d);
  return {
    type: 'static',
    role: d.role ?? AUTH_DEFAULTS.anonymousRole,
    ...(d.authid === undefined ? {} : { authid: d.authid }),
    ...realmOf(d.realm),
  };
}

function jwt(d: Extract<NonNullable<TransportAuthDocument['ticket']>, { type: 'jwt' }>, at: KeyPath, ctx: LoadContext): JwtAuthConfig {
  let key: JwtKey = { kind: 'secret', secret: '' };
  if (d.secret !== undefined) {
    key = { kind: 'secret', secret: ctx.secret([...at, 'secret'], d.secret) };
  } else if (d.public_key_file !== undefined) {
    const pem = ctx.readPem([...at, 'public_key_file'], d.public_key_file, 'public key');
    key = { kind: 'public_key', pem: pem ?? '', file: ctx.path(d.public_key_file) };
  } else if (d.jwks_file !== undefined) {
    const keyAt = [...at, 'jwks_file'];
    const text = ctx.readText(keyAt, d.jwks_file);
    let jwks: { keys: Record<string, unknown>[] } = { keys: [] };
    if (text !== undefined) {
      const parsed = parseJwks(text);
      if (typeof parsed === 'string') ctx.problem(keyAt, `${JSON.stringify(ctx.path(d.jwks_file))} ${parsed}`);
      else jwks = parsed;
    }
    key = { kind: 'jwks', jwks, file: ctx.path(d.jwks_file) };
  }
  const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
  return {
    type: 'jwt',
    key,
    audience: list(d.audience),
    ...(d.issuer === undefined ? {} : { issuer: list(d.issuer) }),
    ...(d.algorithms === undefined ? {} : { algorithms: d.algorithms }),
    clockTolerance: d.clock_tolerance ?? AUTH_DEFAULTS.jwtClockTolerance,
    claims: {
      authid: d.claims?.authid ?? AUTH_DEFAULTS.jwtAuthidClaim,
      authrole: d.claims?.authrole ?? AUTH_DEFAULTS.jwtRoleClaim,
      authextra: d.claims?.authextra ?? [],
    },
    ...(d.role === undefined ? {} : { defaultRole: d.role }),
  };
}

/** A JWKS document, or what is wrong with it. */
function parseJwks(text: string): { keys: Record<string, unknown>[] } | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return 'is not a JWK Set (expected {"keys": [...]} with at least one key)';
  if (!keys.every((k) => typeof k === 'object' && k !== null && typeof (k as Record<string, unknown>).kty === 'string')) {
    return 'has a key without "kty"';
  }
  return { keys: keys as Record<string, unknown>[] };
}

function ticket(d: NonNullable<TransportAuthDocument['ticket']>, at: KeyPath, ctx: LoadContext): TicketAuthConfig {
  switch (d.type) {
    case 'dynamic':
      return dynamic(d);
    case 'function':
      return fn(d, ctx);
    case 'jwt':
      return jwt(d, at, ctx);
    case 'static':
      return {
        type: 'static',
        principals: new Map(
          Object.entries(d.principals).map(([authid, p]) => [
            authid,
            { ticket: ctx.secret([...at, 'principals', authid, 'ticket'], p.ticket), role: p.role, ...realmOf(p.realm) },
          ]),
        ),
      };
  }
}

/** Autobahn's derive_key defaults, which the spec's examples use. */
const PBKDF2_DEFAULTS = { iterations: 1000, keylen: 32 };

function scram(d: NonNullable<TransportAuthDocument['scram']>): ScramAuthConfig {
  if (d.type === 'dynamic') return dynamic(d);
  return {
    type: 'static',
    principals: new Map(
      Object.entries(d.principals).map(([authid, p]) => [
        authid,
        {
          role: p.role, ...realmOf(p.realm), kdf: p.kdf, iterations: p.iterations, ...(p.memory === undefined ? {} : { memory: p.memory }),
          salt: p.salt, storedKey: p['stored-key'], serverKey: p['server-key'],
        },
      ]),
    ),
  };
}

function wampcra(d: NonNullable<TransportAuthDocument['wampcra']>, at: KeyPath, ctx: LoadContext): WampCraAuthConfig {
  if (d.type === 'dynamic') return dynamic(d);
  if (d.type === 'function') return fn(d, ctx);
  return {
    type: 'static',
    users: new Map(
      Object.entries(d.users).map(([authid, u]) => [
        authid,
        {
          secret: ctx.secret([...at, 'users', authid, 'secret'], u.secret),
          role: u.role,
          ...realmOf(u.realm),
          ...(u.salt === undefined
            ? {}
            : { salt: u.salt, iterations: u.iterations ?? PBKDF2_DEFAULTS.iterations, keylen: u.keylen ?? PBKDF2_DEFAULTS.keylen }),
        },
      ]),
    ),
  };
}

function cryptosign(d: NonNullable<TransportAuthDocument['cryptosign']>, ctx: LoadContext): CryptosignAuthConfig {
  if (d.type === 'dynamic') return dynamic(d);
  if (d.type === 'function') return fn(d, ctx);
  return {
    type: 'static',
    principals: new Map(
      Object.entries(d.principals).map(([authid, p]) => [
        authid,
        { authorizedKeys: p.authorized_keys.map((k) => k.toLowerCase()), role: p.role, ...realmOf(p.realm) },
      ]),
    ),
  };
}

function tls(d: NonNullable<TransportAuthDocument['tls']>): TlsAuthConfig {
  if (d.type === 'dynamic') return dynamic(d);
  return {
    type: 'static',
    principals: new Map(
      Object.entries(d.principals).map(([authid, p]) => [
        authid,
        { certificateSha1: normalizeFingerprint(p['certificate-sha1']), role: p.role, ...realmOf(p.realm) },
      ]),
    ),
  };
}

/** "ab:cd:…" or "ABCD…" → "ABCD…", the form compared at connect time. */
export function normalizeFingerprint(f: string): string {
  return f.replaceAll(':', '').toUpperCase();
}

export function authConfig(d: TransportAuthDocument | undefined, at: KeyPath, ctx: LoadContext): AuthConfig | undefined {
  if (d === undefined) return undefined;
  return {
    ...(d.anonymous === undefined ? {} : { anonymous: anonymous(d.anonymous) }),
    ...(d.ticket === undefined ? {} : { ticket: ticket(d.ticket, [...at, 'ticket'], ctx) }),
    ...(d.wampcra === undefined ? {} : { wampcra: wampcra(d.wampcra, [...at, 'wampcra'], ctx) }),
    ...(d.cryptosign === undefined ? {} : { cryptosign: cryptosign(d.cryptosign, ctx) }),
    ...(d.tls === undefined ? {} : { tls: tls(d.tls) }),
    ...(d.scram === undefined ? {} : { scram: scram(d.scram) }),
    ...(d.cookie === undefined ? {} : { cookie: true as const }),
  };
}

export function endpointTlsConfig(d: EndpointTlsDocument, at: KeyPath, ctx: LoadContext): TlsEndpointConfig {
  const key = ctx.readPem([...at, 'key'], d.key, 'private key');
  const certificate = ctx.readPem([...at, 'certificate'], d.certificate, 'certificate');
  if (key !== undefined && certificate !== undefined && !new X509Certificate(certificate).checkPrivateKey(createPrivateKey(key))) {
    ctx.problem([...at, 'key'], `${JSON.stringify(ctx.path(d.key))} is not the key of the certificate ${JSON.stringify(ctx.path(d.certificate))}`);
  }
  const pems = (files: readonly string[] | undefined, name: string) =>
    (files ?? []).map((f, i) => ctx.readPem([...at, name, i], f, 'certificate') ?? '');
  const dhparam = d.dhparam === undefined ? undefined : ctx.readPem([...at, 'dhparam'], d.dhparam, 'DH parameters');
  if (d.min_version === 'TLSv1.3' && d.max_version === 'TLSv1.2') {
    ctx.problem([...at, 'max_version'], 'is lower than min_version "TLSv1.3"');
  }
  return {
    key: key ?? '',
    certificate: certificate ?? '',
    chainCertificates: pems(d.chain_certificates, 'chain_certificates'),
    ...(d.ca_certificates === undefined ? {} : { caCertificates: pems(d.ca_certificates, 'ca_certificates') }),
    ...(dhparam === undefined ? {} : { dhparam }),
    ...(d.ciphers === undefined ? {} : { ciphers: d.ciphers }),
    ...(d.min_version === undefined ? {} : { minVersion: d.min_version }),
    ...(d.max_version === undefined ? {} : { maxVersion: d.max_version }),
  };
}

export function limitsConfig(d: LimitsDocument | undefined): LimitsConfig {
  const connections = d?.connections === false ? undefined : (d?.connections ?? LIMIT_DEFAULTS.connections);
  const failed = d?.failed_authentications;
  const failedAuth =
    failed === false
      ? undefined
      : failed === undefined
        ? LIMIT_DEFAULTS.failedAuth
        : { max: failed.max, window: failed.window * 1000, block: failed.block * 1000 };
  const counts: Record<string, number> = {};
  for (const [key, name] of COUNT_LIMITS) {
    const v = d?.[key];
    if (v !== false) counts[name] = v ?? LIMIT_DEFAULTS[name];
  }
  return {
    ...(connections === undefined ? {} : { connections: { rate: connections.rate, burst: connections.burst } }),
    ...(failedAuth === undefined ? {} : { failedAuth: { ...failedAuth } }),
    ...(d?.max_sessions_per_authid === undefined ? {} : { maxSessionsPerAuthid: d.max_sessions_per_authid }),
    ...counts,
  };
}
