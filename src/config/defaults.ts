/**
 * The embedded default node, used when no configuration file is given: realm `realm1` where the
 * role `anonymous` may do everything, WAMP-over-WebSocket on 127.0.0.1:8080/ws and RawSocket on
 * 127.0.0.1:8081, both with every serializer and anonymous authentication, and beside /ws the
 * statistics page (/stats, /stats.json), Prometheus metrics (/metrics) and health (/health,
 * /health/ready). It binds loopback
 * only, and its WebSocket accepts only pages from loopback origins, since it lets anyone do anything. It exists twice, as the Crossbar.io document and as
 * the normalized config; a unit test proves that parsing the first yields the second.
 */
import type { NodeConfigDocument } from './schema.js';
import { DEFAULTS } from './normalize.js';
import { limitsConfig } from './normalize-auth.js';
import type { NodeConfig, Permission, SessionTransportOptions } from './types.js';

/**
 * Any web page a local user opens could otherwise drive realm1, where anonymous may do everything:
 * only pages served from loopback (any port) may open the WebSocket, and clients that send no
 * Origin (not browsers). Crossbar.io's patterns ("*" anything, "." literal, the rest a regular
 * expression), so the same list works there: localhost, 127.0.0.0/8, [::1], http and https.
 */
export const LOOPBACK_ORIGINS: readonly string[] = [
  'https?://localhost:*',
  'https?://127[.][0-9]+[.][0-9]+[.][0-9]+:*',
  'https?://::1:*',
];

/** Crossbar.io `crossbar init` pings every 10 s and waits 5 s for the pong; so do we. */
const PING_INTERVAL_MS = 10_000;
const PING_TIMEOUT_MS = 5_000;

/** The default config in Crossbar.io format (a fresh object each call). */
export function defaultConfigDocument(): NodeConfigDocument {
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [
          {
            name: 'realm1',
            roles: [
              {
                name: 'anonymous',
                permissions: [
                  {
                    uri: '',
                    match: 'prefix',
                    allow: { call: true, register: true, publish: true, subscribe: true },
                    disclose: { caller: false, publisher: false },
                    cache: true,
                  },
                ],
              },
            ],
          },
        ],
        transports: [
          {
            type: 'web',
            endpoint: { type: 'tcp', interface: '127.0.0.1', port: 8080 },
            paths: {
              ws: {
                type: 'websocket',
                serializers: ['json', 'msgpack', 'cbor'],
                options: {
                  auto_ping_interval: PING_INTERVAL_MS,
                  auto_ping_timeout: PING_TIMEOUT_MS,
                  allowed_origins: [...LOOPBACK_ORIGINS],
                  allow_null_origin: false,
                },
                auth: { anonymous: { type: 'static', role: 'anonymous' } },
              },
              stats: { type: 'stats' },
              metrics: { type: 'metrics' },
              health: { type: 'health' },
            },
          },
          {
            type: 'rawsocket',
            endpoint: { type: 'tcp', interface: '127.0.0.1', port: 8081 },
            serializers: ['json', 'msgpack', 'cbor'],
            auth: { anonymous: { type: 'static', role: 'anonymous' } },
          },
        ],
      },
    ],
  };
}

const allowEverything = (): Permission => ({
  uri: '',
  match: 'prefix',
  allow: { call: true, register: true, publish: true, subscribe: true },
  disclose: { caller: false, publisher: false },
  cache: true,
});

function anonymousSession(): SessionTransportOptions {
  return {
    serializers: ['json', 'msgpack', 'cbor'],
    maxMessageSize: DEFAULTS.maxMessageSize,
    maxOutBuffer: DEFAULTS.maxOutBuffer,
    slowConsumer: DEFAULTS.slowConsumer,
    slowConsumerTimeout: DEFAULTS.slowConsumerTimeout,
    maxHandshakeOutBuffer: DEFAULTS.maxHandshakeOutBuffer,
    readTimeout: DEFAULTS.readTimeout,
    helloTimeout: DEFAULTS.helloTimeout,
    auth: { anonymous: { type: 'static', role: 'anonymous' } },
  };
}

/** The default config, normalized (a fresh object each call). */
export function defaultConfig(): NodeConfig {
  return {
    realms: [{ name: 'realm1', uriCheck: 'loose', roles: [{ name: 'anonymous', permissions: [allowEverything()] }] }],
    transports: [
      {
        type: 'web',
        id: 'transport001',
        endpoint: { type: 'tcp', interface: '127.0.0.1', port: 8080 },
        paths: new Map([
          [
            'ws',
            {
              type: 'websocket',
              ...anonymousSession(),
              autoPingInterval: PING_INTERVAL_MS,
              autoPingTimeout: PING_TIMEOUT_MS,
              allowedOrigins: [...LOOPBACK_ORIGINS],
              allowNullOrigin: false,
            },
          ],
          ['stats', { type: 'stats' }],
          ['metrics', { type: 'metrics' }],
          ['health', { type: 'health' }],
        ]),
      },
      {
        type: 'rawsocket',
        id: 'transport002',
        endpoint: { type: 'tcp', interface: '127.0.0.1', port: 8081 },
        ...anonymousSession(),
      },
    ],
    limits: limitsConfig(undefined),
  };
}
