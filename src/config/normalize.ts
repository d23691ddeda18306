/**
 * A validated Crossbar.io document → the `NodeConfig` the node runs. Every default lives here,
 * in `DEFAULTS`, with the reason for its value. All router workers of the document are merged:
 * xbar runs one process, where Crossbar.io would run one process per worker.
 */
import type { ClusterDocument } from './schema-cluster.js';
import type { SerializerId } from '../serializers/serializer.js';
import type { KeyPath } from './issues.js';
import { LoadContext } from './load-context.js';
import { authConfig, endpointTlsConfig, limitsConfig } from './normalize-auth.js';
import { accessConfig, loadBalancer, origins } from './normalize-network.js';
import { relayPath } from './normalize-relay.js';
import { workersConfig } from './normalize-workers.js';
import { outboundConfig } from './normalize-outbound.js';
import { flattenPaths } from './normalize-web.js';
import { mqttOptions } from './normalize-mqtt.js';
import { longpollPath } from './normalize-longpoll.js';
import { realmStoreConfig, sessionStatsConfig, statsConfig } from './normalize-stats.js';
import type { RLinkDocument } from './schema-rlinks.js';
import type { RLinkConfig, RLinkTlsConfig, RLinkTransportConfig } from './types-rlinks.js';
import type { ValidDocument, PermissionDocument, RouterWorkerDocument } from './schema.js';
import type {
  ClusterConfig, DeflateConfig, PlacementConfig,
  AuthConfig, CookieConfig, Endpoint, MatchPolicy, NodeConfig, PathService, Permission, RawSocketTransportConfig, RealmConfig,
  SessionTransportOptions, TransportConfig, UniversalTransportConfig, WebSocketPathConfig, WebTransportConfig,
} from './types.js';

const MiB = 1024 * 1024;

export const DEFAULTS = {
  /** Largest incoming message. RawSocket cannot announce more than 16 MiB; WebSocket uses the same. */
  maxMessageSize: 16 * MiB,
  /**
   * Outgoing bytes queued per connection before the slow-consumer policy applies: NATS's
   * `max_pending`, large enough for a burst to a subscriber that reads (100 × 1 MiB at once).
   */
  maxOutBuffer: 64 * MiB,
  /** Drop events for a slow subscriber rather than cut it off; results and errors still disconnect. */
  slowConsumer: 'drop',
  /** A queue that has not drained what it held this long ago belongs to the slow one (NATS: 10 s). */
  slowConsumerTimeout: 10_000,
  /** Before WELCOME: the handshake's answers (a few KiB) and a few frames, not a session's budget. */
  maxHandshakeOutBuffer: 256 * 1024,
  /** A frame that has started arriving must be whole within this (16 MiB at 2 Mbit/s: ~64 s). */
  readTimeout: 60_000,
  /** Time from connect to WELCOME: long enough for a slow TLS/auth round trip, short for idle sockets. */
  helloTimeout: 10_000,
  /** WebSocket pings are off unless configured, as in Crossbar.io (Autobahn's default). */
  autoPingInterval: 0,
  /** When pings are on and no timeout is set: Crossbar.io's `crossbar init` template value. */
  autoPingTimeout: 5_000,
  /** "All available", as Crossbar.io defaults. */
  serializers: ['json', 'msgpack', 'cbor'] as readonly SerializerId[],
  /** Crossbar.io's router factory default (`RouterOptions(uri_check=URI_CHECK_LOOSE)`). */
  uriCheck: 'loose',
  /** Crossbar.io's default for `auth.anonymous.role`. */
  anonymousRole: 'anonymous',
  /** Crossbar.io's cookie defaults (`CookieStore.__init__`): `cbtid`, 24 characters, one week. */
  cookieName: 'cbtid',
  cookieLength: 24,
  cookieMaxAge: 7 * 86_400,
  /** xbar's: a store of 100,000 cookies is ~30 MiB; each cookieless connection makes one. */
  maxCookies: 100_000,
} as const;

/** Crossbar.io binds every interface when `interface` is absent (Twisted's default). */
export function defaultInterface(version: 4 | 6 | undefined): string {
  return version === 6 ? '::' : '0.0.0.0';
}

/**
 * The URI and match policy a permission applies to. Without `match`, Crossbar.io reads "starred
 * URIs" (autobahn `convert_starred_uri`): no "*" → exact; one trailing "*" → prefix on the rest;
 * any other "*" → wildcard with each "*" removed ("com.*.x" → "com..x").
 */
export function effectiveUri(p: Pick<PermissionDocument, 'uri' | 'match'>): { uri: string; match: MatchPolicy } {
  if (p.match !== undefined) return { uri: p.uri, match: p.match };
  const stars = p.uri.split('*').length - 1;
  if (stars === 0) return { uri: p.uri, match: 'exact' };
  if (stars === 1 && p.uri.endsWith('*')) return { uri: p.uri.slice(0, -1), match: 'prefix' };
  return { uri: p.uri.replaceAll('*', ''), match: 'wildcard' };
}

/**
 * Crossbar.io's key for a permission (`RouterRoleStaticAuth`: by URI, wildcard URIs by the part
 * before the first ".."): `lastPerUri` keeps the last of each key.
 */
export function permissionKey(p: Pick<PermissionDocument, 'uri' | 'match'>): string {
  const { uri } = effectiveUri(p);
  const wild = uri.indexOf('..');
  return wild >= 0 ? `wildcard ${uri.slice(0, wild)}` : `uri ${uri}`;
}

function permission(p: PermissionDocument): Permission {
  return {
    ...effectiveUri(p),
    allow: {
      call: p.allow?.call ?? false,
      register: p.allow?.register ?? false,
      publish: p.allow?.publish ?? false,
      subscribe: p.allow?.subscribe ?? false,
    },
    disclose: { caller: p.disclose?.caller ?? false, publisher: p.disclose?.publisher ?? false },
    // Crossbar.io's `RouterPermissions.from_dict` defaults `cache` to false.
    cache: p.cache ?? false,
  };
}

/**
 * A role's permissions as Crossbar.io's `RouterRoleStaticAuth` keeps them: in a trie keyed by URI,
 * so a later permission for the same URI replaces the earlier one, whatever their `match`
 * (wildcard URIs by their part before the first "..": `permissionKey`; config/warnings.ts warns).
 */
function lastPerUri(permissions: readonly Permission[]): Permission[] {
  const key = (p: Permission) => permissionKey(p);
  const last = new Map<string, number>();
  permissions.forEach((p, i) => last.set(key(p), i));
  return permissions.filter((p, i) => last.get(key(p)) === i);
}

type RealmDocument = NonNullable<RouterWorkerDocument['realms']>[number];
type RoleDocument = NonNullable<RealmDocument['roles']>[number];

/** Every action on every URI: Crossbar.io's `allow-by-default` role. */
const ALLOW_ALL: Permission = {
  uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true },
  disclose: { caller: false, publisher: false }, cache: true,
};

/**
 * A role's permissions (`lastPerUri`). A role with neither permissions nor an authorizer is
 * Crossbar.io's `RouterRole`: everything is allowed with `allow-by-default: true`, nothing otherwise.
 */
function rolePermissions(role: RoleDocument): Permission[] {
  if (role.permissions === undefined && role.authorizer === undefined) return role['allow-by-default'] === true ? [ALLOW_ALL] : [];
  return lastPerUri((role.permissions ?? []).map(permission));
}

function rlinkTls(t: NonNullable<Extract<RLinkDocument['transport']['endpoint'], { type: 'tcp' }>['tls']>, at: KeyPath, ctx: LoadContext): RLinkTlsConfig {
  const pem = (key: string, f: string, kind: 'certificate' | 'private key') => ctx.readPem([...at, key], f, kind) ?? '';
  return {
    hostname: t.hostname,
    ...(t.ca_certificates === undefined ? {} : { caCertificates: t.ca_certificates.map((f, i) => ctx.readPem([...at, 'ca_certificates', i], f, 'certificate') ?? '') }),
    ...(t.certificate === undefined ? {} : { certificate: pem('certificate', t.certificate, 'certificate') }),
    ...(t.key === undefined ? {} : { key: pem('key', t.key, 'private key') }),
  };
}

function rlinkConfig(l: RLinkDocument, fallbackId: string, at: KeyPath, ctx: LoadContext): RLinkConfig {
  const t = l.transport;
  const e = t.endpoint;
  const timeoutMs = (e.timeout ?? 10) * 1000;
  const tls = e.type === 'tcp' && e.tls !== undefined ? { tls: rlinkTls(e.tls, [...at, 'transport', 'endpoint', 'tls'], ctx) } : {};
  const transport: RLinkTransportConfig = t.type === 'websocket'
    ? { type: 'websocket', url: t.url, serializer: t.serializers?.[0] ?? 'json', timeoutMs, ...(e.type === 'unix' ? { unixPath: e.path } : {}), ...tls }
    : { type: 'rawsocket', serializer: t.serializer, timeoutMs, target: e.type === 'unix' ? { path: e.path } : { host: e.host, port: e.port }, ...tls };
  return {
    id: l.id ?? fallbackId,
    realm: l.realm,
    transport,
    ...(l.authid === undefined ? {} : { authid: l.authid }),
    // Crossbar.io's node key, in the node directory (where the config file is).
    nodeKeyFile: ctx.path('key.priv'),
    excludeAuthid: l.exclude_authid ?? [],
    // Crossbar.io's defaults (RLinkConfig.parse): everything forwarded.
    forwardLocalEvents: l.forward_local_events ?? true,
    forwardRemoteEvents: l.forward_remote_events ?? true,
    forwardLocalInvocations: l.forward_local_invocations ?? true,
    forwardRemoteInvocations: l.forward_remote_invocations ?? true,
  };
}

function realm(r: RealmDocument, at: KeyPath, ctx: LoadContext): RealmConfig {
  return {
    name: r.name,
    uriCheck: r.options?.uri_check ?? DEFAULTS.uriCheck,
    roles: (r.roles ?? []).map((role) => ({
      name: role.name,
      permissions: rolePermissions(role),
      ...(role.authorizer === undefined ? {} : { authorizer: role.authorizer }),
    })),
    ...(r.store === undefined ? {} : { store: realmStoreConfig(r.store) }),
    ...(r.stats === undefined ? {} : { sessionStats: sessionStatsConfig(r.stats) }),
    ...(r.rlinks === undefined || r.rlinks.length === 0 ? {} : { rlinks: r.rlinks.map((l, i) => rlinkConfig(l, `${r.name}_rlink${i + 1}`, [...at, 'rlinks', i], ctx)) }),
  };
}

type TransportDocument = NonNullable<RouterWorkerDocument['transports']>[number];
type EndpointDocument = TransportDocument['endpoint'];
type AuthDocument = NonNullable<Extract<TransportDocument, { type: 'rawsocket' }>['auth']>;

export function endpoint(e: EndpointDocument): Endpoint {
  const backlog = e.backlog === undefined ? {} : { backlog: e.backlog };
  if (e.type === 'unix') return { type: 'unix', path: e.path, ...backlog };
  return {
    type: 'tcp',
    interface: e.interface ?? defaultInterface(e.version),
    port: e.port,
    ...(e.version === undefined ? {} : { version: e.version }),
    ...backlog,
    ...loadBalancer(e),
  };
}

function auth(a: AuthDocument | undefined, at: KeyPath, ctx: LoadContext): { auth?: AuthConfig } {
  const config = authConfig(a, at, ctx);
  return config === undefined ? {} : { auth: config };
}

/** The endpoint with its TLS settings (files read), for a listener; `endpoint()` alone serves clash checks. */
function listening(e: EndpointDocument, at: KeyPath, ctx: LoadContext): Endpoint {
  const base = endpoint(e);
  // As Crossbar.io's create_listening_endpoint_from_config: a Unix socket path is relative to the node directory.
  if (base.type === 'unix') return { ...base, path: ctx.path(base.path) };
  if (e.type !== 'tcp' || e.tls === undefined || base.type !== 'tcp') return base;
  return { ...base, tls: endpointTlsConfig(e.tls, [...at, 'tls'], ctx) };
}

interface SessionDocument {
  readonly serializers?: readonly SerializerId[] | undefined;
  readonly auth?: AuthDocument | undefined;
  readonly options?:
    | {
      max_out_buffer?: number | undefined; slow_consumer?: 'drop' | 'disconnect' | undefined; slow_consumer_timeout?: number | undefined;
      max_handshake_out_buffer?: number | undefined; read_timeout?: number | undefined; hello_timeout?: number | undefined;
    }
    | undefined;
}

function session(d: SessionDocument, maxMessageSize: number | undefined, at: KeyPath, ctx: LoadContext): SessionTransportOptions {
  return {
    serializers: [...(d.serializers ?? DEFAULTS.serializers)],
    maxMessageSize: maxMessageSize ?? DEFAULTS.maxMessageSize,
    maxOutBuffer: d.options?.max_out_buffer ?? DEFAULTS.maxOutBuffer,
    slowConsumer: d.options?.slow_consumer ?? DEFAULTS.slowConsumer,
    slowConsumerTimeout: d.options?.slow_consumer_timeout ?? DEFAULTS.slowConsumerTimeout,
    maxHandshakeOutBuffer: d.options?.max_handshake_out_buffer ?? DEFAULTS.maxHandshakeOutBuffer,
    readTimeout: d.options?.read_timeout ?? DEFAULTS.readTimeout,
    helloTimeout: d.options?.hello_timeout ?? DEFAULTS.helloTimeout,
    ...auth(d.auth, [...at, 'auth'], ctx),
  };
}

type WebSocketPathDocument = Extract<Extract<TransportDocument, { type: 'web' }>['paths'][string], { type: 'websocket' }>;

function websocketPath(d: Omit<WebSocketPathDocument, 'type'>, at: KeyPath, ctx: LoadContext): WebSocketPathConfig {
  return {
    type: 'websocket',
    ...session(d, d.options?.max_message_size, at, ctx),
    autoPingInterval: d.options?.auto_ping_interval ?? DEFAULTS.autoPingInterval,
    autoPingTimeout: d.options?.auto_ping_timeout ?? DEFAULTS.autoPingTimeout,
    ...origins(d.options),
    ...deflate(d.options?.compression?.deflate),
    ...(d.cookie === undefined ? {} : { cookie: cookieConfig(d.cookie, ctx) }),
  };
}

/**
 * Crossbar.io's cookie defaults (`CookieStore.__init__`). Crossbar.io fails at start without a
 * `store`; xbar takes a memory store then. `purge_on_startup` is what xbar's file store always
 * does: expired cookies are dropped when the file is read.
 */
function cookieConfig(d: NonNullable<WebSocketPathDocument['cookie']>, ctx: LoadContext): CookieConfig {
  const store = d.store?.type === 'file' ? { type: 'file' as const, file: ctx.path(d.store.filename) } : { type: 'memory' as const };
  return {
    name: d.name ?? DEFAULTS.cookieName,
    length: d.length ?? DEFAULTS.cookieLength,
    maxAge: d.max_age ?? DEFAULTS.cookieMaxAge,
    secure: d.secure ?? false,
    httpStrict: d.http_strict ?? false,
    ...(d.same_site === undefined ? {} : { sameSite: d.same_site }),
    store,
    maxCookies: d.max_cookies ?? DEFAULTS.maxCookies,
  };
}

/** Crossbar.io's defaults (`crossbar/router/protocol.py`): no requests of the client, zlib's own window and memory. */
function deflate(d: NonNullable<NonNullable<WebSocketPathDocument['options']>['compression']>['deflate']): { deflate?: DeflateConfig } {
  if (d === undefined) return {};
  return {
    deflate: {
      clientNoContextTakeover: d.request_no_context_takeover ?? false,
      clientMaxWindowBits: d.request_max_window_bits ?? 0,
      serverNoContextTakeover: d.no_context_takeover ?? false,
      ...(d.max_window_bits === undefined ? {} : { serverMaxWindowBits: d.max_window_bits }),
      ...(d.memory_level === undefined ? {} : { memoryLevel: d.memory_level }),
    },
  };
}

type InfoPathDocument = Extract<Extract<TransportDocument, { type: 'web' }>['paths'][string], { type: 'stats' | 'metrics' | 'health' | 'rendezvous' }>;

/** A stats, metrics, health or rendezvous service with its access control (schema-network.ts). */
function infoPath(d: InfoPathDocument): PathService {
  const access = d.access && accessConfig(d.access);
  const topics = (d.type === 'stats' || d.type === 'metrics') && d.topic_names !== undefined ? { topicNames: d.topic_names } : {};
  return { type: d.type, ...(access ? { access } : {}), ...topics };
}

/** Crossbar.io's path key → ours: "/" is the root (''), any other key is one segment. */
export const pathOf = (key: string): string => (key === '/' ? '' : key);

function transport(t: TransportDocument, id: string, at: KeyPath, ctx: LoadContext, realms: readonly RealmConfig[]): TransportConfig {
  const listen = listening(t.endpoint, [...at, 'endpoint'], ctx);
  switch (t.type) {
    case 'web': {
      const paths = webPaths(t.paths, at, ctx, realms);
      return { type: 'web', id, endpoint: listen, paths } satisfies WebTransportConfig;
    }
    case 'websocket':
      // A plain WebSocket transport is a Web transport that serves WAMP on its root path.
      return { type: 'web', id, endpoint: listen, paths: new Map([['', websocketPath(t, at, ctx)]]) };
    case 'rawsocket':
      return {
        type: 'rawsocket',
        id,
        endpoint: listen,
        ...session(
          t.serializer === undefined || t.serializers !== undefined ? t : { ...t, serializers: [t.serializer] },
          t.options?.max_message_size ?? t.max_message_size, at, ctx,
        ),
      } satisfies RawSocketTransportConfig;
    case 'mqtt':
      return { type: 'mqtt', id, endpoint: listen, ...mqttOptions(t.options, [...at, 'options'], ctx) };
    case 'flashpolicy':
      return {
        type: 'flashpolicy',
        id,
        endpoint: listen,
        allowedDomain: t.allowed_domain ?? '*',
        allowedPorts: t.allowed_ports !== undefined && t.allowed_ports.length > 0 ? t.allowed_ports.join(',') : '*',
      };
    case 'websocket.testee':
      return {
        type: 'websocket.testee',
        id,
        endpoint: listen,
        maxMessageSize: t.options?.max_message_size ?? DEFAULTS.maxMessageSize,
        autoPingInterval: t.options?.auto_ping_interval ?? DEFAULTS.autoPingInterval,
        autoPingTimeout: t.options?.auto_ping_timeout ?? DEFAULTS.autoPingTimeout,
        ...deflate(t.options?.compression?.deflate),
      };
    case 'stream.testee':
      return { type: 'stream.testee', id, endpoint: listen };
    case 'universal': {
      const paths = t.web === undefined ? new Map<string, PathService>() : webPaths(t.web.paths, [...at, 'web'], ctx, realms);
      // Crossbar.io tries the `websocket` entries before the Web site.
      for (const [key, ws] of Object.entries(t.websocket ?? {})) paths.set(pathOf(key), websocketPath(ws, [...at, 'websocket', key], ctx));
      const raw = t.rawsocket;
      return {
        type: 'universal',
        id,
        endpoint: listen,
        paths,
        ...(raw === undefined ? {} : { rawsocket: session(raw, raw.options?.max_message_size ?? raw.max_message_size, [...at, 'rawsocket'], ctx) }),
        ...(t.mqtt === undefined ? {} : { mqtt: mqttOptions(t.mqtt.options, [...at, 'mqtt', 'options'], ctx) }),
      } satisfies UniversalTransportConfig;
    }
  }
}

type PathsDocument = Extract<TransportDocument, { type: 'web' }>['paths'];

function webPaths(doc: PathsDocument, at: KeyPath, ctx: LoadContext, realms: readonly RealmConfig[]): Map<string, PathService> {
  return flattenPaths(doc, at, ctx, realms, (service, here): PathService =>
    service.type === 'relay' ? relayPath(service)
      : service.type === 'stats' || service.type === 'metrics' || service.type === 'health' || service.type === 'rendezvous' ? infoPath(service)
        : service.type === 'mqtt' ? { type: 'mqtt', ...mqttOptions(service.options, [...here, 'options'], ctx) }
          : service.type === 'longpoll'
            ? longpollPath(service, { serializers: DEFAULTS.serializers, maxMessageSize: DEFAULTS.maxMessageSize, helloTimeout: DEFAULTS.helloTimeout })
            : websocketPath(service, here, ctx),
  );
}

/** Transport ids: explicit ones kept, the others numbered "transport001"… as Crossbar.io does. */
export function transportIds(all: readonly TransportDocument[]): string[] {
  const taken = new Set(all.flatMap((t) => (t.id === undefined ? [] : [t.id])));
  let next = 1;
  const generate = (): string => {
    for (;;) {
      const id = `transport${String(next++).padStart(3, '0')}`;
      if (!taken.has(id)) return id;
    }
  };
  return all.map((t) => t.id ?? generate());
}

/** A listening transport of the document and where it is. */
export interface ListeningItem {
  readonly t: TransportDocument;
  readonly at: KeyPath;
}

/**
 * Every listening transport of the document, in order: router workers' `transports` and each
 * `websocket-testee` worker's `transport` (a `websocket.testee` transport in xbar's one process).
 */
function listeningTransports(doc: ValidDocument): ListeningItem[] {
  return doc.workers.flatMap((w, wi): ListeningItem[] => {
    if (w.type === 'router') return (w.transports ?? []).map((t, ti) => ({ t, at: ['workers', wi, 'transports', ti] }));
    if (w.type !== 'websocket-testee') return [];
    const { id, endpoint: e, url, debug, options } = w.transport;
    const t: TransportDocument = {
      type: 'websocket.testee', endpoint: e,
      ...(id === undefined ? {} : { id }), ...(url === undefined ? {} : { url }),
      ...(debug === undefined ? {} : { debug }), ...(options === undefined ? {} : { options }),
    };
    return [{ t, at: ['workers', wi, 'transport'] }];
  });
}

/**
 * Crossbar.io's `shared: true` endpoint lets several worker processes listen on one port
 * (SO_REUSEPORT) and the kernel spread connections over them. xbar is one process, so a
 * transport identical to an earlier one whose endpoints both say `shared` is the same listener
 * again: it is served once.
 */
function repeatsShared(earlier: TransportDocument, later: TransportDocument): boolean {
  const shared = (t: TransportDocument) => t.endpoint.type === 'tcp' && t.endpoint.shared === true;
  return shared(earlier) && shared(later) && JSON.stringify(earlier) === JSON.stringify(later);
}

/** The listening transports without the repeats of shared ones (`repeatsShared`). */
export function distinctListening(doc: ValidDocument): ListeningItem[] {
  const kept: ListeningItem[] = [];
  for (const item of listeningTransports(doc)) {
    if (!kept.some((k) => repeatsShared(k.t, item.t))) kept.push(item);
  }
  return kept;
}

/**
 * The node configuration; files named in the document are read through `ctx`, which collects
 * every problem (the caller throws them as one `ConfigError`).
 */
export function normalize(doc: ValidDocument, ctx: LoadContext = new LoadContext(process.cwd())): NodeConfig {
  const realms = doc.workers.flatMap((w, wi) =>
    (w.type === 'router' ? w.realms ?? [] : []).map((r, ri) => ({ r, at: ['workers', wi, 'realms', ri] })));
  const transports = distinctListening(doc);
  const ids = transportIds(transports.map((x) => x.t));
  const realmConfigs = realms.map(({ r, at }) => realm(r, at, ctx));
  // Function authenticators run with the router worker's Python settings (Crossbar.io runs them in its process).
  for (const w of doc.workers) {
    if (w.type !== 'router') continue;
    const python = w.options?.python;
    ctx.routerPython = {
      pythonpath: [...ctx.routerPython.pythonpath, ...(w.options?.pythonpath ?? []).map((p) => ctx.path(p))],
      ...(python === undefined ? {} : { python }),
    };
  }
  return {
    realms: realmConfigs,
    transports: transports.map(({ t, at }, i) => transport(t, ids[i] ?? '', at, ctx, realmConfigs)),
    limits: limitsConfig(doc.limits),
    ...workersConfig(doc, ctx),
    ...outboundConfig(doc, ctx),
    ...(doc.stats ? { stats: statsConfig(doc.stats) } : {}),
    ...(doc.cluster?.nats ? { cluster: clusterConfig(doc.cluster.nats, ctx, doc.controller?.id) } : {}),
    ...(doc.controller?.options?.title !== undefined ? { controller: { title: doc.controller.options.title } } : {}),
    ...(doc.cluster ? { placement: placementConfig(doc.cluster) } : {}),
  };
}

function placementConfig(c: ClusterDocument): PlacementConfig {
  return {
    ...(c.advertise ? { advertise: c.advertise } : {}),
    ...(c.max_sessions !== undefined ? { maxSessions: c.max_sessions } : {}),
    ...(c.high_water !== undefined ? { highWater: c.high_water } : {}),
    ...(c.retry_after !== undefined ? { retryAfter: c.retry_after } : {}),
    ...(c.shed ? { shed: { rate: c.shed.rate ?? 5, margin: c.shed.margin ?? 10, settle: c.shed.settle ?? 5000 } } : {}),
  };
}

/** `nodeId`: the controller's id, Crossbar.io's name for the node, which `nats.node` overrides. */
function clusterConfig(n: NonNullable<ClusterDocument['nats']>, ctx: LoadContext, nodeId: string | undefined): ClusterConfig {
  // Files are read at start-up, relative to the config file, so a wrong path is a config error.
  const file = (key: string, f: string | undefined) => {
    if (f === undefined) return undefined;
    ctx.readText(['cluster', 'nats', ...key.split('.')], f);
    return ctx.path(f);
  };
  const tls = n.tls && { ca: file('tls.ca', n.tls.ca), cert: file('tls.cert', n.tls.cert), key: file('tls.key', n.tls.key) };
  const creds = file('creds', n.creds);
  const heartbeatInterval = n.heartbeat_interval ?? 1000;
  return {
    servers: n.servers, name: n.name ?? 'xbar', node: n.node ?? nodeId, user: n.user, password: n.password, token: n.token,
    ...(creds ? { creds } : {}),
    ...(tls ? { tls } : {}),
    heartbeatInterval, deadAfter: n.dead_after ?? 3 * heartbeatInterval,
    ...(n.connect_timeout !== undefined ? { connectTimeout: n.connect_timeout } : {}),
    ...(n.replay_window !== undefined ? { replayWindow: n.replay_window } : {}),
    ...(n.replay_buffer !== undefined ? { replayBuffer: n.replay_buffer } : {}),
    ...(n.replicas !== undefined ? { replicas: n.replicas } : {}),
  };
}
