/**
 * The validated, normalized node configuration that `node.ts` consumes. `load.ts` turns a
 * Crossbar.io-format document (version 2) into this, filling defaults; nothing downstream ever
 * sees raw config keys.
 */
import type { SerializerId } from '../serializers/serializer.js';

import type { MatchPolicy, UriCheck } from '../wamp/uri.js';

export type { MatchPolicy, UriCheck } from '../wamp/uri.js';
export type Action = 'call' | 'register' | 'publish' | 'subscribe';

export interface Permission {
  readonly uri: string;
  readonly match: MatchPolicy;
  readonly allow: Readonly<Record<Action, boolean>>;
  readonly disclose: { readonly caller: boolean; readonly publisher: boolean };
  readonly cache: boolean;
}

export interface RoleConfig {
  readonly name: string;
  readonly permissions: readonly Permission[];
  /** Dynamic authorization: URI of a procedure called with (session, uri, action, options). */
  readonly authorizer?: string;
}

/** Event history of one topic or pattern (Crossbar.io's `store.event-history` item). */
export interface EventHistoryConfig {
  readonly uri: string;
  readonly match: MatchPolicy;
  /** Publications kept. */
  readonly limit: number;
  /** ms; older publications are dropped. undefined = kept until `limit` pushes them out. */
  readonly maxAge?: number;
}

/** A realm's event store (Crossbar.io's realm `store`, type memory). */
export interface RealmStoreConfig {
  readonly type: 'memory';
  readonly eventHistory: readonly EventHistoryConfig[];
  /** Topics whose last `retain: true` publication is kept; 0 = no retention. */
  readonly maxRetained: number;
}

export interface RealmConfig {
  readonly name: string;
  readonly uriCheck: UriCheck;
  readonly roles: readonly RoleConfig[];
  /** Event history and retention limits; undefined = no history, default retention. */
  readonly store?: RealmStoreConfig;
  /** Router-to-router links (`src/rlinks/`). */
  readonly rlinks?: readonly RLinkConfig[];
  /** Crossbar.io's session statistics (`wamp.session.on_stats`); undefined = none published. */
  readonly sessionStats?: SessionStatsConfig;
}

/** A realm's `stats` (Crossbar.io's names in the comments). */
export interface SessionStatsConfig {
  /** `rated_message_size`: a message counts ceil(bytes / this) rated messages. */
  readonly ratedMessageSize: number;
  /** `trigger_after_rated_messages`; 0 = off. */
  readonly afterRatedMessages: number;
  /** `trigger_after_duration` (seconds in the config), ms; 0 = off. */
  readonly afterDurationMs: number;
  /** `trigger_on_join`. */
  readonly onJoin: boolean;
  /** `trigger_on_leave`. */
  readonly onLeave: boolean;
}

export type {
  AnonymousAuthConfig, AuthConfig, CryptosignAuthConfig, CryptosignPrincipal, DynamicAuthConfig, JwtAuthConfig,
  JwtClaimsMapping, JwtKey, LimitsConfig, PrincipalConfig, ScramAuthConfig, ScramPrincipal, TicketAuthConfig, TicketPrincipal, TlsAuthConfig,
  TlsEndpointConfig, TlsPrincipal, WampCraAuthConfig, WampCraUser,
} from './types-auth.js';
import type { AuthConfig, LimitsConfig, TlsEndpointConfig } from './types-auth.js';
import type { WorkersConfig } from './types-workers.js';
import type { RLinkConfig } from './types-rlinks.js';
export type { RLinkConfig, RLinkTransportConfig } from './types-rlinks.js';

export type SlowConsumerPolicy = 'drop' | 'disconnect';

/** Options shared by WebSocket paths and RawSocket transports. */
export interface SessionTransportOptions {
  readonly serializers: readonly SerializerId[];
  /** Largest incoming message, bytes. */
  readonly maxMessageSize: number;
  /** High-water mark of each connection's outgoing buffer, bytes. */
  readonly maxOutBuffer: number;
  readonly slowConsumer: SlowConsumerPolicy;
  /** ms an outgoing buffer may go without draining before `slowConsumer` applies; 0 = never. */
  readonly slowConsumerTimeout: number;
  /** High-water mark of the outgoing buffer before WELCOME, bytes. */
  readonly maxHandshakeOutBuffer: number;
  /** ms a frame that has started arriving may take to arrive whole; 0 = no limit. */
  readonly readTimeout: number;
  /** Close a connection that has not completed the WAMP opening handshake (HELLO…WELCOME) in time, ms. */
  readonly helloTimeout: number;
  /** Authentication; undefined = anonymous with role `anonymous`… only when the realm has that role. */
  readonly auth?: AuthConfig;
}

/** Crossbar.io's `options.compression.deflate`, as `ws`'s server options (transports/websocket.ts). */
export interface DeflateConfig {
  /** Ask clients not to keep their compression context between messages. */
  readonly clientNoContextTakeover: boolean;
  /** Ask clients for this window (needs their offer of client_max_window_bits); 0: don't ask. */
  readonly clientMaxWindowBits: number;
  readonly serverNoContextTakeover: boolean;
  readonly serverMaxWindowBits?: number;
  readonly memoryLevel?: number;
}

export interface WebSocketPathConfig extends SessionTransportOptions {
  readonly type: 'websocket';
  /** permessage-deflate offered by clients is accepted (undefined: refused, as Crossbar.io without `compression`). */
  readonly deflate?: DeflateConfig;
  /** Send a WebSocket ping every so often, ms; 0 = off. */
  readonly autoPingInterval: number;
  /** Close if no pong arrives in time, ms. */
  readonly autoPingTimeout: number;
  /** Crossbar.io's `allowed_origins` patterns; undefined = ["*"]. */
  readonly allowedOrigins?: readonly string[];
  /** Crossbar.io's `allow_null_origin`; undefined = true. */
  readonly allowNullOrigin?: boolean;
  /** Cookie tracking (Crossbar.io's `cookie`); undefined = off. */
  readonly cookie?: CookieConfig;
}

/** Crossbar.io's WebSocket `cookie` (crossbar/router/cookiestore.py), defaults filled in. */
export interface CookieConfig {
  /** The cookie's name (`cbtid`). */
  readonly name: string;
  /** Characters of a new cookie's random value (24). */
  readonly length: number;
  /** Seconds a cookie lives, from when it was set (7 days). */
  readonly maxAge: number;
  readonly secure: boolean;
  /** Crossbar.io's `http_strict`: HttpOnly. */
  readonly httpStrict: boolean;
  readonly sameSite?: 'Strict' | 'Lax' | 'None';
  /** `memory`, or `file` with the absolute path of its cookie file. */
  readonly store: { readonly type: 'memory' } | { readonly type: 'file'; readonly file: string };
  /** xbar's cap on the cookies one store keeps (the oldest unauthenticated go first). */
  readonly maxCookies: number;
}

/** JWT access control of a relay path: tokens signed with one key. */
export interface RelayTokenConfig {
  /** HS256 shared secret; exactly one of `secret` and `publicKeyFile` is set. */
  readonly secret?: string;
  /** PEM (SPKI) file of an Ed25519 or RSA public key. */
  readonly publicKeyFile?: string;
  /** Required `aud` claim; undefined = any. */
  readonly audience?: string;
  /** false: connections without a token or code get read and write access. */
  readonly required: boolean;
}

/** Relay topic `a/b` ↔ WAMP topic `<prefix>.a.b` in `realm`. */
export interface RelayBridgeConfig {
  readonly realm: string;
  readonly prefix: string;
}

export type RelayStatsAccess = 'public' | 'admin' | 'off';

/** A WebSocket stream relay (practable crossbar compatible) mounted on a path of a web transport. */
export interface RelayPathConfig {
  readonly type: 'relay';
  readonly tokens?: RelayTokenConfig;
  /** Bearer token for the deny-list API (and the stats when `stats` is 'admin'). */
  readonly adminToken?: string;
  /** Lifetime of a single-use access code, ms. */
  readonly codeTtl: number;
  /** Accepted, not enforced (a count of messages trips on bursts): the bound is `queueBytes`. */
  readonly queueMessages: number;
  /** Per-receiver queue bound in bytes; over it, whole messages are dropped for that receiver. */
  readonly queueBytes: number;
  /** ms a receiver's queue may go without draining before messages are dropped for it; 0 = never. */
  readonly slowConsumerTimeout: number;
  /** Largest incoming message, bytes. */
  readonly maxMessageSize: number;
  readonly maxConnectionsPerTopic: number;
  readonly stats: RelayStatsAccess;
  /** How often the stats channel pushes a report, ms. */
  readonly statsInterval: number;
  readonly bridge?: RelayBridgeConfig;
  /** As a WebSocket path's; undefined = every origin. */
  readonly allowedOrigins?: readonly string[];
  readonly allowNullOrigin?: boolean;
}

/** Who may use a path service; undefined keys do not restrict. */
export interface AccessConfig {
  /** Required as `Authorization: Bearer` or `?token=`. */
  readonly token?: string;
  /** Client networks (CIDR or addresses) allowed; checked against the real client address. */
  readonly networks?: readonly string[];
}

/** The statistics page at the path, its JSON at `<path>.json`. */
export interface StatsPathConfig {
  readonly type: 'stats';
  readonly access?: AccessConfig;
  /** false: the busiest-topics lists are left out (empty); undefined = shown. */
  readonly topicNames?: boolean;
}

/** Prometheus text exposition. */
export interface MetricsPathConfig {
  readonly type: 'metrics';
  readonly access?: AccessConfig;
  /** false: no per-topic series; undefined = exported. */
  readonly topicNames?: boolean;
}

/** "Where should I connect?": the least loaded nodes' URLs (web/rendezvous.ts). */
export interface RendezvousPathConfig {
  readonly type: 'rendezvous';
  readonly access?: AccessConfig;
}

/** Liveness at the path, readiness at `<path>/ready`. */
export interface HealthPathConfig {
  readonly type: 'health';
  readonly access?: AccessConfig;
}

/** A payload format of an MQTT transport's `payload_mapping` (mqtt/payload-mapping.ts). */
export type MqttPayloadFormat =
  | { readonly type: 'passthrough' }
  | { readonly type: 'native'; readonly serializer: 'json' | 'cbor' | 'msgpack' }
  | { readonly type: 'dynamic'; readonly realm?: string; readonly encoder: string; readonly decoder: string };

/** MQTT clients as sessions of one realm (Crossbar.io's `mqtt` transport options, and xbar's limits). */
export interface MqttOptions {
  readonly realm: string;
  /** Role of anonymous clients when `auth` is absent (default "anonymous"). */
  readonly role: string;
  /** WAMP URI prefix → payload format. */
  readonly payloadMapping: ReadonlyMap<string, MqttPayloadFormat>;
  readonly auth?: AuthConfig;
  /** Largest packet accepted, bytes. */
  readonly maxPacketSize: number;
  readonly maxOutBuffer: number;
  readonly slowConsumer: SlowConsumerPolicy;
  /** ms an outgoing buffer may go without draining before `slowConsumer` applies; 0 = never. */
  readonly slowConsumerTimeout: number;
  /** ms to complete CONNECT … CONNACK. */
  readonly connectTimeout: number;
  /** Bytes of QoS 1 messages a session keeps queued (offline, or beyond its in-flight window). */
  readonly maxQueuedBytes: number;
  /** Bytes of QoS 1 messages all sessions of the transport hold together, queued or in flight. */
  readonly maxQueuedBytesTotal: number;
  /** Offline persistent sessions kept; past it the one offline longest ends. */
  readonly maxOfflineSessions: number;
  /** QoS 1 packets in flight per session. */
  readonly maxInflight: number;
  /** Seconds an offline persistent session is kept (MQTT 3.1.1), and the cap on MQTT 5's Session Expiry Interval. */
  readonly sessionExpiry: number;
}

/**
 * WAMP over HTTP long-poll on a path of a web transport (Crossbar.io's `longpoll` service). No
 * `auth` in Crossbar.io's config: sessions join as anonymous, as there.
 */
export interface LongPollPathConfig {
  readonly type: 'longpoll';
  readonly serializers: readonly SerializerId[];
  /** Largest request body (one send batch), bytes. */
  readonly maxMessageSize: number;
  readonly helloTimeout: number;
  /** ms a poll waits for a message before it is answered empty; 0 = forever. */
  readonly requestTimeout: number;
  /** ms without a send or poll after which the transport is closed; 0 = never. */
  readonly sessionTimeout: number;
  /** Bounds of the queue waiting for the next poll (bytes always; messages unless 0). */
  readonly queueLimitBytes: number;
  readonly queueLimitMessages: number;
  /** Every open gets this id. */
  readonly debugTransportId?: string;
}

/** MQTT over WebSocket on a path of a web transport. */
export interface MqttPathConfig extends MqttOptions {
  readonly type: 'mqtt';
}

export type * from './types-web.js';
import type { WebServicePathConfig } from './types-web.js';
import type { OutboundComponentConfig } from './normalize-outbound.js';

/** A path service of a `web` transport. */
export type PathService =
  | WebSocketPathConfig | RelayPathConfig | StatsPathConfig | MetricsPathConfig | HealthPathConfig | RendezvousPathConfig | WebServicePathConfig
  | MqttPathConfig | LongPollPathConfig;

/**
 * A listening endpoint. A TCP endpoint without `interface` in the config binds every interface, as
 * Crossbar.io does: "0.0.0.0", or "::" with `version: 6`. `backlog` is the listen queue length
 * (`server.listen({ backlog })`); undefined = Node's default.
 */
export type Endpoint =
  | {
      readonly type: 'tcp';
      readonly interface: string;
      readonly port: number;
      readonly version?: 4 | 6;
      readonly backlog?: number;
      readonly tls?: TlsEndpointConfig;
      /** Every connection starts with a PROXY protocol header (v1 or v2), within `timeout` ms. */
      readonly proxyProtocol?: { readonly timeout: number };
      /** Peers that may send a PROXY header, and whose X-Forwarded-For is believed (CIDR or addresses). */
      readonly trustedProxies?: readonly string[];
    }
  | { readonly type: 'unix'; readonly path: string; readonly backlog?: number };

export interface WebTransportConfig {
  readonly type: 'web';
  readonly id: string;
  readonly endpoint: Endpoint;
  /** Keyed by path without slashes at either end ('' is the root, 'ws', 'a/b'). */
  readonly paths: ReadonlyMap<string, PathService>;
}

export interface RawSocketTransportConfig extends SessionTransportOptions {
  readonly type: 'rawsocket';
  readonly id: string;
  readonly endpoint: Endpoint;
}

export interface MqttTransportConfig extends MqttOptions {
  readonly type: 'mqtt';
  readonly id: string;
  readonly endpoint: Endpoint;
}

/**
 * One port for several protocols, told apart by the first bytes as Crossbar.io does: 0x7F →
 * RawSocket, 0x10 (MQTT CONNECT) → MQTT, anything else → HTTP, where `paths` (the `web` paths,
 * with the `websocket` entries mounted over them) apply. A protocol without its part is refused
 * by closing the connection.
 */
export interface UniversalTransportConfig {
  readonly type: 'universal';
  readonly id: string;
  readonly endpoint: Endpoint;
  /** Empty when the transport has neither `web` nor `websocket`. */
  readonly paths: ReadonlyMap<string, PathService>;
  readonly rawsocket?: SessionTransportOptions;
  readonly mqtt?: MqttOptions;
}

/** Crossbar.io's `flashpolicy` pseudo transport: the Flash socket policy file for one request per connection. */
export interface FlashPolicyTransportConfig {
  readonly type: 'flashpolicy';
  readonly id: string;
  readonly endpoint: Endpoint;
  /** `allow-access-from domain`: "*" unless configured. */
  readonly allowedDomain: string;
  /** `to-ports`: the configured ports joined by ",", or "*". */
  readonly allowedPorts: string;
}

/** A WebSocket echo server for the Autobahn testsuite (`websocket.testee` transport, `websocket-testee` worker). */
export interface WebSocketTesteeTransportConfig {
  readonly type: 'websocket.testee';
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly maxMessageSize: number;
  readonly deflate?: DeflateConfig;
  readonly autoPingInterval: number;
  readonly autoPingTimeout: number;
}

/** A TCP echo server (`stream.testee`). */
export interface StreamTesteeTransportConfig {
  readonly type: 'stream.testee';
  readonly id: string;
  readonly endpoint: Endpoint;
}

export type TransportConfig =
  | WebTransportConfig | RawSocketTransportConfig | MqttTransportConfig | UniversalTransportConfig
  | FlashPolicyTransportConfig | WebSocketTesteeTransportConfig | StreamTesteeTransportConfig;

/** Scale-out over NATS; absent = the embedded single-node backplane. */
export interface ClusterConfig {
  readonly servers: readonly string[];
  readonly name: string;
  readonly node?: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** Path of a NATS credentials file. */
  readonly creds?: string;
  /** Paths of PEM files for TLS to NATS. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** ms between heartbeats. */
  readonly heartbeatInterval: number;
  /** ms of silence after which a node is taken for dead. */
  readonly deadAfter: number;
  /** ms a starting node keeps trying to reach NATS (default 60 s; 0: one attempt). */
  readonly connectTimeout?: number;
  /** ms a node keeps its publications for resending and replay after an outage (default 30 s). */
  readonly replayWindow?: number;
  /** Bytes of them it may keep (default 64 MiB). */
  readonly replayBuffer?: number;
  /** JetStream copies of each bucket and stream this node creates (default: one per NATS server, ≤ 3). */
  readonly replicas?: number;
}

/** This node in the cluster's node directory and its session balancing (`cluster` keys beside `nats`). */
export interface PlacementConfig {
  /** Client-facing URLs to advertise; undefined = the WAMP endpoints the node listens on. */
  readonly advertise?: readonly string[];
  /** Sessions at most (HELLO → ABORT, WebSocket upgrade → 503); undefined = no cap. */
  readonly maxSessions?: number;
  /** The soft mark: the node advertises `busy` from here. */
  readonly highWater?: number;
  /** Seconds of Retry-After on a refused upgrade (default 5). */
  readonly retryAfter?: number;
  /** Gradual shedding; undefined = none. */
  readonly shed?: ShedConfig;
}

export interface ShedConfig {
  /** Sessions closed per second at most (default 5). */
  readonly rate: number;
  /** Percent above the cluster's mean a node keeps without shedding (default 10). */
  readonly margin: number;
  /** ms a shed session counts at most as on its way elsewhere (default 5,000). */
  readonly settle: number;
}

/** Statistics (xbar's top-level `stats`). */
export interface StatsConfig {
  /** false: nothing is counted; the stats, metrics and health services still answer. */
  readonly enabled: boolean;
  /** ms between samples (rates) and `xbar.stats.on_update` events. */
  readonly interval: number;
  readonly topTopics: number;
  readonly maxTopics: number;
}

export interface NodeConfig {
  /** What the file says that runs but may not do what it seems (config/warnings.ts), one line each with its key path. */
  readonly warnings?: readonly string[];
  readonly realms: readonly RealmConfig[];
  /** undefined = the defaults (statistics on, sampled every 5 s). */
  readonly stats?: StatsConfig;
  readonly transports: readonly TransportConfig[];
  readonly cluster?: ClusterConfig;
  /** This node in the node directory (`cluster.advertise`); undefined = the defaults. */
  readonly placement?: PlacementConfig;
  /** Per-IP defences; undefined (a config built in code) = none. The loader always fills them. */
  readonly limits?: LimitsConfig;
  /** Guest, container and router-component processes (`types-workers.ts`); undefined = none. */
  readonly workers?: WorkersConfig;
  /** Crossbar.io's outbound HTTP bridge components, run natively (`normalize-outbound.ts`); undefined = none. */
  readonly outbound?: readonly OutboundComponentConfig[];
  /** `controller.options.title`: the process title (Crossbar.io's setproctitle); undefined = Node's. */
  readonly controller?: { readonly title?: string };
}
