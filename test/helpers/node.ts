/** Starts a real xbar node on free loopback ports for a test, and stops it after. */
import pino from 'pino';
import type {
  NodeConfig, Permission, RealmConfig, SessionTransportOptions, TransportConfig, WebSocketPathConfig,
} from '../../src/config/types.js';
import { XbarNode } from '../../src/node.js';

export const ALLOW_ALL: Permission = {
  uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true },
  disclose: { caller: false, publisher: false }, cache: true,
};

export function realm(name = 'realm1', roles: RealmConfig['roles'] = [{ name: 'anonymous', permissions: [ALLOW_ALL] }]): RealmConfig {
  return { name, uriCheck: 'loose', roles };
}

export const SESSION_DEFAULTS: SessionTransportOptions = {
  serializers: ['json', 'msgpack', 'cbor'],
  maxMessageSize: 16 * 1024 * 1024,
  maxOutBuffer: 4 * 1024 * 1024,
  slowConsumer: 'drop',
  helloTimeout: 10_000,
};

export interface TestNodeOptions {
  realms?: RealmConfig[];
  session?: Partial<SessionTransportOptions>;
  websocket?: Partial<WebSocketPathConfig>;
  extraTransports?: TransportConfig[];
}

export function testConfig(o: TestNodeOptions = {}): NodeConfig {
  const session = { ...SESSION_DEFAULTS, ...o.session };
  const ws: WebSocketPathConfig = { type: 'websocket', ...session, autoPingInterval: 0, autoPingTimeout: 10_000, ...o.websocket };
  return {
    realms: o.realms ?? [realm()],
    transports: [
      { type: 'web', id: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 }, paths: new Map([['ws', ws]]) },
      { type: 'rawsocket', id: 'raw', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 }, ...session },
      ...(o.extraTransports ?? []),
    ],
  };
}

export interface TestNode {
  node: XbarNode;
  wsUrl: string;
  rawPort: number;
  stop(): Promise<void>;
}

export async function startNode(o: TestNodeOptions = {}): Promise<TestNode> {
  const node = new XbarNode(testConfig(o), { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
  await node.start();
  return {
    node,
    wsUrl: `ws://127.0.0.1:${node.port('web')}/ws`,
    rawPort: node.port('rawsocket'),
    stop: () => node.stop(),
  };
}
