/**
 * A realm's `rlinks` (router-to-router links) as Crossbar.io checks them: `RLinkConfig.parse` and
 * `check_connecting_transport` in crossbario/crossbar (`worker/rlink.py`, `common/checkconfig.py`).
 * The transport is a connecting one: WebSocket (`url`, `serializers`) or RawSocket (`serializer`),
 * to a TCP (with `tls`: hostname, ca_certificates, certificate, key) or Unix-socket endpoint. As in
 * Crossbar.io, `authid` is the only authentication key: the link authenticates with the node's key.
 */
import { z } from 'zod';
import { bool, byType, expect, int, listOf, nonEmpty, oneOf, strict, strings, tag } from './schema-kit.js';
import { configId, serializers } from './schema-transport.js';
import { connectingTls } from './schema-workers.js';

const LOOSE_URI = /^([^\s.#]+\.)*([^\s.#]+)$/;

const connectingTcp = strict({
  type: tag('tcp', 'endpoint type'),
  host: nonEmpty(),
  port: int(1, 65535),
  version: z.union([z.literal(4), z.literal(6)], expect('4 or 6')).optional(),
  /** Seconds, as Crossbar.io's connecting endpoints. */
  timeout: int(1, 3600, 'seconds').optional(),
  tls: connectingTls.optional(),
});

const connectingUnix = strict({
  type: tag('unix', 'endpoint type'),
  path: nonEmpty(),
  timeout: int(1, 3600, 'seconds').optional(),
});

const connectingEndpoint = byType('endpoint type', ['tcp', 'unix'], ['twisted'], [connectingTcp, connectingUnix]);

const websocket = strict({
  type: tag('websocket', 'transport type'),
  id: configId.optional(),
  endpoint: connectingEndpoint,
  url: z.string(expect('WebSocket URL')).regex(/^wss?:\/\//, expect('ws:// or wss:// URL')),
  serializers: serializers.optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});

const rawsocket = strict({
  type: tag('rawsocket', 'transport type'),
  id: configId.optional(),
  endpoint: connectingEndpoint,
  serializer: oneOf(['json', 'msgpack', 'cbor'], 'serializer', ['ubjson']),
  url: z.string(expect('string')).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  debug: bool().optional(),
});

export const rlinkTransport = byType('transport type', ['websocket', 'rawsocket'], [], [websocket, rawsocket]);

export const rlink = strict({
  id: configId.optional(),
  realm: z.string(expect('realm name')).regex(LOOSE_URI, expect('realm name (a WAMP URI)')),
  transport: rlinkTransport,
  authid: nonEmpty().optional(),
  exclude_authid: strings().optional(),
  forward_local_events: bool().optional(),
  forward_remote_events: bool().optional(),
  forward_local_invocations: bool().optional(),
  forward_remote_invocations: bool().optional(),
});

export const rlinks = listOf(rlink, 'router links');
export type RLinkDocument = z.output<typeof rlink>;
