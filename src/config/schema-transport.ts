/**
 * Zod schemas for the listening side of a Crossbar.io router worker: endpoints, transports, Web
 * paths, WebSocket and RawSocket options and transport auth. Key names and ranges follow
 * crossbario/crossbar `src/crossbar/common/checkconfig.py`; keys Crossbar.io defines that only tune
 * its own implementation (Twisted, Autobahn|Python) are accepted and ignored, keys whose absence
 * would change behaviour a user relies on are rejected with a hint. Our extensions (`max_out_buffer`, `slow_consumer`, `hello_timeout`) sit
 * beside Crossbar.io's keys in the WebSocket and RawSocket `options`; the `relay` path service is
 * ours (`schema-relay.ts`).
 */
import { z } from 'zod';
import {
  bool, byType, expect, int, listOf, nonEmpty, oneOf, only, str, strict, strings, tag, uniqueList,
} from './schema-kit.js';
import { networks, originPatterns } from './schema-network.js';
import { relayPath } from './schema-relay.js';
import { healthPath, metricsPath, rendezvousPath, statsPath } from './schema-stats.js';
import { endpointTls, transportAuth } from './schema-auth.js';
import {
  REFUSED_PATH_SERVICES, archivePath, cgiPath, jsonPath, nodeinfoPath, redirectPath, reverseproxyPath, staticPath,
  uploadPath, wapPath, websocketReverseproxyPath as websocketProxy, publisherPath, callerPath, webhookPath, ssePath, wsgiPath, resourcePath,
} from './schema-web.js';
import { mqttOptions, mqttPath, mqttTransport } from './schema-mqtt.js';
import { longpollPath } from './schema-longpoll.js';

const MiB = 1024 * 1024;
const ONE_HOUR_MS = 3_600_000;

/** Crossbar.io's configuration item id (`check_id`), e.g. a transport id. */
export const configId = z
  .string(expect('string'))
  .regex(/^[a-z][a-z0-9_]{2,63}$/, expect('id of 3-64 characters a-z, 0-9 or "_", starting with a letter'));

// ---- endpoints -------------------------------------------------------------------------------

const backlog = int(1, 65535);

const tcpEndpoint = strict(
  {
    type: tag('tcp', 'endpoint type'),
    port: int(1, 65535),
    interface: nonEmpty().optional(),
    version: z.union([z.literal(4), z.literal(6)], expect('4 or 6')).optional(),
    backlog: backlog.optional(),
    /** SO_REUSEPORT across Crossbar.io worker processes; one xbar process has no use for it. */
    shared: bool().optional(),
    tls: endpointTls.optional(),
    // xbar's, behind a load balancer (schema-network.ts): each connection starts with a PROXY
    // protocol header (HAProxy's send-proxy / send-proxy-v2), within proxy_protocol_timeout ms;
    // trusted_proxies: who may send one, and whose X-Forwarded-For a web transport believes.
    proxy_protocol: bool().optional(),
    proxy_protocol_timeout: int(100, 60_000, 'milliseconds').optional(),
    trusted_proxies: networks().optional(),
  },
).check((ctx) => {
  if (ctx.value.proxy_protocol_timeout !== undefined && ctx.value.proxy_protocol !== true) {
    ctx.issues.push({ code: 'custom', path: ['proxy_protocol_timeout'], input: ctx.value.proxy_protocol_timeout, message: 'proxy_protocol_timeout needs "proxy_protocol": true' });
  }
});

const unixEndpoint = strict({ type: tag('unix', 'endpoint type'), path: nonEmpty(), backlog: backlog.optional() });

export const endpoint = byType('endpoint type', ['tcp', 'unix'], ['twisted', 'onion'], [tcpEndpoint, unixEndpoint]);

// ---- auth and serializers --------------------------------------------------------------------

// Transport `auth` lives in schema-auth.ts.
export { transportAuth } from './schema-auth.js';

/**
 * A transport's serializers. Crossbar.io's `ubjson` and `flatbuffers` may be listed beside ours
 * (the examples list them) and are not offered: a client that speaks only them is refused naming
 * the ones xbar speaks; a list of nothing but them is an error.
 */
export const serializers = uniqueList(oneOf(['json', 'msgpack', 'cbor', 'ubjson', 'flatbuffers'], 'serializer'), 'serializers')
  .check((ctx) => {
    if (ctx.value.length > 0 && ctx.value.every((v) => v === 'ubjson' || v === 'flatbuffers')) {
      ctx.issues.push({ code: 'custom', input: ctx.value, message: 'ubjson and flatbuffers are Crossbar.io serializers xbar does not speak; list "json", "msgpack" or "cbor" too' });
    }
  })
  .transform((list) => list.filter((v): v is 'json' | 'msgpack' | 'cbor' => v !== 'ubjson' && v !== 'flatbuffers'));

// ---- session options (ours) -------------------------------------------------------------------

/** xbar's extensions, valid in WebSocket and RawSocket options. */
const sessionOptions = {
  max_out_buffer: int(1024, 1024 * MiB, 'bytes').optional(),
  slow_consumer: oneOf(['drop', 'disconnect'], 'slow consumer policy').optional(),
  /** ms an outgoing buffer may go without draining before slow_consumer applies; 0 = never. */
  slow_consumer_timeout: int(0, ONE_HOUR_MS, 'milliseconds').optional(),
  /** Outgoing bytes a connection may queue before its session is joined. */
  max_handshake_out_buffer: int(1024, 1024 * MiB, 'bytes').optional(),
  /** ms a frame that has started arriving may take to arrive whole; 0 = no limit. */
  read_timeout: int(0, ONE_HOUR_MS, 'milliseconds').optional(),
  hello_timeout: int(1, ONE_HOUR_MS, 'milliseconds').optional(),
};

// ---- WebSocket options -----------------------------------------------------------------------

/** Crossbar.io's timeouts are integer milliseconds. */
const ms = () => int(0, ONE_HOUR_MS, 'milliseconds');

export const websocketOptions = strict(
  {
    max_message_size: int(1, 64 * MiB, 'bytes').optional(),
    auto_ping_interval: ms().optional(),
    auto_ping_timeout: int(1, ONE_HOUR_MS, 'milliseconds').optional(),
    ...sessionOptions,
    // Accepted for Crossbar.io compatibility and ignored: they tune Autobahn|Python's WebSocket
    // implementation, and leaving them out changes no behaviour a client can rely on.
    open_handshake_timeout: ms().optional(),
    close_handshake_timeout: ms().optional(),
    auto_ping_size: int(0, 125, 'bytes').optional(),
    auto_ping_restart_on_any_traffic: bool().optional(),
    max_frame_size: int(0, 64 * MiB, 'bytes').optional(),
    auto_fragment_size: int(0, 64 * MiB, 'bytes').optional(),
    fail_by_drop: bool().optional(),
    echo_close_codereason: bool().optional(),
    tcp_nodelay: bool().optional(),
    validate_utf8: bool().optional(),
    mask_server_frames: bool().optional(),
    require_masked_client_frames: bool().optional(),
    apply_mask: bool().optional(),
    enable_hybi10: bool().optional(),
    enable_rfc6455: bool().optional(),
    enable_webstatus: bool().optional(),
    enable_flash_policy: bool().optional(),
    flash_policy: z.unknown().optional(),
    external_port: int(1, 65535).optional(),
    require_websocket_subprotocol: bool().optional(),
    show_server_version: bool().optional(),
    /** Crossbar.io's permessage-deflate (`crossbar/router/protocol.py`), negotiated by `ws`. */
    compression: strict({
      deflate: strict({
        request_no_context_takeover: bool().optional(),
        request_max_window_bits: z.union([z.literal(0), int(8, 15)], expect('0 or an integer 8-15')).optional(),
        no_context_takeover: bool().optional(),
        max_window_bits: int(8, 15).optional(),
        memory_level: int(1, 9).optional(),
      }).optional(),
    }).optional(),
    /** Crossbar.io's Origin check (web/origin-check.ts): wildcard patterns; default ["*"]. */
    allowed_origins: originPatterns().optional(),
    /** Crossbar.io: allow the "null" origin (file: pages, sandboxed frames); default true. */
    allow_null_origin: bool().optional(),
  },
);

// ---- RawSocket ---------------------------------------------------------------------------------

/** RawSocket announces its limit as 2^(9..24) bytes, so 512 B-16 MiB is all it can express. */
const rawsocketMaxMessageSize = () => int(512, 16 * MiB, 'bytes');

export const rawsocketOptions = strict({ max_message_size: rawsocketMaxMessageSize().optional(), ...sessionOptions });

export const rawsocketTransport = strict({
  type: tag('rawsocket', 'transport type'),
  id: configId.optional(),
  endpoint,
  serializers: serializers.optional(),
  /** Older Crossbar.io configs put the limit here rather than in `options`. */
  max_message_size: rawsocketMaxMessageSize().optional(),
  options: rawsocketOptions.optional(),
  auth: transportAuth.optional(),
  debug: bool().optional(),
  /**
   * A connecting RawSocket transport's key, which configs also put on a listening one (Crossbar.io
   * refuses it there): read as `serializers: [serializer]`.
   */
  serializer: oneOf(['json', 'msgpack', 'cbor'], 'serializer').optional(),
});

// ---- WebSocket and Web -------------------------------------------------------------------------

/**
 * Crossbar.io's WebSocket `cookie` (`check_transport_cookie`): name, length, max_age and the
 * store as there; `max_cookies` is xbar's cap on one store.
 */
const cookieStore = byType('cookie store type', ['memory', 'file'], { database: 'xbar keeps no LMDB database; use {"type": "file", "filename": …}' }, [
  strict({ type: tag('memory', 'cookie store type') }),
  strict({ type: tag('file', 'cookie store type'), filename: nonEmpty(), purge_on_startup: bool().optional() }),
]);

const cookie = strict({
  name: z.string(expect('cookie name')).regex(/^[a-z][a-z0-9_]+$/, expect('cookie name matching ^[a-z][a-z0-9_]+$')).optional(),
  length: int(6, 64, 'characters').optional(),
  max_age: int(1, 86400 * 360 * 10, 'seconds').optional(),
  store: cookieStore.optional(),
  secure: bool().optional(),
  http_strict: bool().optional(),
  same_site: oneOf(['Strict', 'Lax', 'None'], 'SameSite value').optional(),
  max_cookies: int(1, 10_000_000, 'cookies').optional(),
});

/** Keys shared by a `websocket` transport and a `websocket` path service. */
const websocketService = {
  id: configId.optional(),
  serializers: serializers.optional(),
  options: websocketOptions.optional(),
  auth: transportAuth.optional(),
  /** The public URL Crossbar.io announces; nothing in xbar depends on it. */
  url: str().optional(),
  debug: bool().optional(),
  cookie: cookie.optional(),
};

export const websocketTransport = strict({ type: tag('websocket', 'transport type'), endpoint, ...websocketService });

const websocketPath = strict({ type: tag('websocket', 'path service type'), ...websocketService });

const websocketReverseproxyPath = websocketProxy(websocketOptions);

const PATH_SERVICES = [
  'websocket', 'static', 'redirect', 'reverseproxy', 'json', 'nodeinfo', 'path', 'archive', 'upload', 'wap', 'cgi',
  'websocket-reverseproxy', 'relay', 'stats', 'metrics', 'health', 'rendezvous', 'mqtt', 'longpoll', 'publisher', 'caller', 'webhook', 'sse',
  'wsgi', 'resource',
];

/** Every path service but `path`, which contains a map of them. */
const leafServices = [
  websocketPath, staticPath, redirectPath, reverseproxyPath, jsonPath, nodeinfoPath, archivePath, uploadPath, wapPath,
  cgiPath, websocketReverseproxyPath, relayPath, statsPath, metricsPath, healthPath, rendezvousPath, mqttPath, longpollPath, publisherPath, callerPath,
  webhookPath, ssePath, wsgiPath, resourcePath,
] as const;
type LeafService = (typeof leafServices)[number];

/** A `path` service: a folder of path services (Crossbar.io's `RouterWebServiceNestedPath`). */
export interface NestedPathDocument {
  type: 'path';
  id?: string | undefined;
  paths: Record<string, PathServiceDocument>;
}
export type PathServiceDocument = z.output<LeafService> | NestedPathDocument;
interface NestedPathInput {
  type: 'path';
  id?: string | undefined;
  paths: Record<string, PathServiceInput>;
}
type PathServiceInput = z.input<LeafService> | NestedPathInput;

/** Crossbar.io's path keys: "/" (the root) or one segment (`_WEB_PATH_PAT_STR`). */
const pathKey = z
  .string()
  .regex(/^([a-zA-Z0-9_-]+|\/)$/, expect('"/" or one path segment of letters, digits, "_" or "-"'));

// The recursion is typed by hand (the interfaces above): TypeScript cannot infer a type that
// contains itself.
const nestedPath = z.strictObject(
  {
    type: tag('path', 'path service type'),
    id: configId.optional(),
    paths: z.lazy(() => pathMap),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? 'allowed: type, id, paths' : 'expected object') },
);

export const pathService = byType('path service type', PATH_SERVICES, REFUSED_PATH_SERVICES, [
  ...leafServices,
  nestedPath as never,
]) as unknown as z.ZodType<PathServiceDocument, PathServiceInput>;

const pathMap: z.ZodType<Record<string, PathServiceDocument>, Record<string, PathServiceInput>> = z
  .record(pathKey, pathService, expect('object mapping URL paths to services'))
  .refine((paths) => Object.keys(paths).length > 0, { message: 'a web transport needs at least one path' });

const webOptions = strict({
  // Accepted and ignored: HTTP access logging, tracebacks in error pages, HSTS (TLS only) and the
  // HTTP idle timeout belong to Crossbar.io's Twisted web server.
  access_log: bool().optional(),
  display_tracebacks: bool().optional(),
  hsts: bool().optional(),
  hsts_max_age: int(0, Number.MAX_SAFE_INTEGER, 'seconds').optional(),
  client_timeout: int(1, 86_400, 'seconds').nullable().optional(),
});

export const webTransport = strict({
  type: tag('web', 'transport type'),
  id: configId.optional(),
  endpoint,
  paths: pathMap,
  options: webOptions.optional(),
});

/**
 * A `universal` transport (Crossbar.io's `check_listening_transport_universal`): one endpoint,
 * and what each protocol it tells apart by the first bytes serves — each sub-item as the
 * transport of that type without its `endpoint`.
 */
export const universalTransport = strict({
  type: tag('universal', 'transport type'),
  id: configId.optional(),
  endpoint,
  rawsocket: strict({
    serializers: serializers.optional(),
    max_message_size: rawsocketMaxMessageSize().optional(),
    options: rawsocketOptions.optional(),
    auth: transportAuth.optional(),
    debug: bool().optional(),
  }).optional(),
  /** First URL component → a WebSocket service; these win over the `web` paths. */
  websocket: z
    .record(pathKey, strict({ type: tag('websocket', 'transport type').optional(), ...websocketService }), expect('object mapping URL paths to WebSocket transports'))
    .optional(),
  mqtt: strict({ type: tag('mqtt', 'transport type').optional(), id: configId.optional(), options: mqttOptions }).optional(),
  web: strict({ type: tag('web', 'transport type').optional(), id: configId.optional(), paths: pathMap, options: webOptions.optional() }).optional(),
});

// ---- pseudo transports (Crossbar.io's `check_listening_transport_flashpolicy`, `…_websocket_testee`, `…_stream_testee`)

/** Serves the Flash socket policy file (`crossbar/webservice/flashpolicy.py`). */
export const flashpolicyTransport = strict({
  type: tag('flashpolicy', 'transport type'),
  id: configId.optional(),
  endpoint,
  allowed_domain: str().optional(),
  allowed_ports: z.array(int(1, 65535), expect('list of ports')).optional(),
  debug: bool().optional(),
});

/** A WebSocket echo server for the Autobahn testsuite (`crossbar/worker/testee.py`); also a `websocket-testee` worker's `transport`. */
export const websocketTesteeTransport = strict({
  type: tag('websocket.testee', 'transport type'),
  id: configId.optional(),
  endpoint,
  url: str().optional(),
  debug: bool().optional(),
  options: websocketOptions.optional(),
});

/** A TCP echo server (`StreamTesteeServerFactory`). */
export const streamTesteeTransport = strict({
  type: tag('stream.testee', 'transport type'),
  id: configId.optional(),
  endpoint,
  debug: bool().optional(),
});

export const transport = byType(
  'transport type',
  ['web', 'websocket', 'rawsocket', 'mqtt', 'universal', 'flashpolicy', 'websocket.testee', 'stream.testee'],
  {},
  [
    webTransport, websocketTransport, rawsocketTransport, mqttTransport(endpoint), universalTransport,
    flashpolicyTransport, websocketTesteeTransport, streamTesteeTransport,
  ],
);

export const transports = listOf(transport, 'transports');
