/** Starts a real xbar node on free loopback ports for a test, and stops it after. */
import pino from 'pino';
import type {
  NodeConfig, Permission, PlacementConfig, RealmConfig, SessionTransportOptions, TransportConfig, WebSocketPathConfig,
} from '../../src/config/types.js';
import { DEFAULTS } from '../../src/config/normalize.js';
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
  maxOutBuffer: DEFAULTS.maxOutBuffer,
  slowConsumer: 'drop',
  slowConsumerTimeout: DEFAULTS.slowConsumerTimeout,
  maxHandshakeOutBuffer: DEFAULTS.maxHandshakeOutBuffer,
  readTimeout: DEFAULTS.readTimeout,
  helloTimeout: 10_000,
};

export interface TestNodeOptions {
  realms?: RealmConfig[];
  session?: Partial<SessionTransportOptions>;
  websocket?: Partial<WebSocketPathConfig>;
  extraTransports?: TransportConfig[];
  /** `cluster.advertise` and the session balancing (`cluster.max_sessions`, …). */
  placement?: PlacementConfig;
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
    ...(o.placement ? { placement: o.placement } : {}),
  };
}

export interface TestNode {
  node: XbarNode;
  /** Every node: one, or the whole cluster under XBAR_TEST_CLUSTER. */
  nodes: XbarNode[];
  wsUrl: string;
  rawPort: number;
  stop(): Promise<void>;
}

/**
 * Starts one node — or, with XBAR_TEST_CLUSTER=N in the environment, N nodes over a real NATS
 * server behind a round-robin proxy, so the same test runs with its clients spread over a cluster
 * (`node` is then the first node); with XBAR_TEST_WORKERS=N, the N workers of one node (routers
 * over the in-node backplane's hub, as `xbar start --workers N` runs them) behind that proxy.
 */
export async function startNode(o: TestNodeOptions = {}): Promise<TestNode> {
  const clusterSize = Number(process.env.XBAR_TEST_CLUSTER ?? 0);
  if (clusterSize > 1) return startSpreadCluster(clusterSize, o);
  const workers = Number(process.env.XBAR_TEST_WORKERS ?? 0);
  if (workers > 1) return startSpreadWorkers(workers, o);
  const node = new XbarNode(testConfig(o), { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
  await node.start();
  return {
    node,
    nodes: [node],
    wsUrl: `ws://127.0.0.1:${node.port('web')}/ws`,
    rawPort: node.port('rawsocket'),
    stop: () => node.stop(),
  };
}

async function startSpreadCluster(size: number, o: TestNodeOptions): Promise<TestNode> {
  const { startCluster } = await import('./cluster.js');
  const { spreadProxy } = await import('./spread-proxy.js');
  const c = await startCluster(size, o);
  const web = await spreadProxy(c.nodes.map((n) => n.port('web')));
  const raw = await spreadProxy(c.nodes.map((n) => n.port('rawsocket')));
  return {
    node: c.nodes[0]!,
    nodes: c.nodes,
    wsUrl: `ws://127.0.0.1:${web.port}/ws`,
    rawPort: raw.port,
    stop: async () => {
      // Nodes first, so their GOODBYEs pass the proxy before it closes.
      await c.stop();
      await Promise.all([web.close(), raw.close()]);
    },
  };
}

async function startSpreadWorkers(size: number, o: TestNodeOptions): Promise<TestNode> {
  const { startWorkers } = await import('./workers.js');
  const { spreadProxy } = await import('./spread-proxy.js');
  const w = await startWorkers(size, o);
  const web = await spreadProxy(w.nodes.map((n) => n.port('web')));
  const raw = await spreadProxy(w.nodes.map((n) => n.port('rawsocket')));
  return {
    node: w.nodes[0]!,
    nodes: w.nodes,
    wsUrl: `ws://127.0.0.1:${web.port}/ws`,
    rawPort: raw.port,
    stop: async () => {
      await w.stop();
      await Promise.all([web.close(), raw.close()]);
    },
  };
}

/** Pending-call tables summed over every node of the test (one, or the cluster). */
export function pendingState(t: TestNode, realmName = 'realm1'): Record<'invocations' | 'callers' | 'callees' | 'queued' | 'remote', number> {
  const sum = { invocations: 0, callers: 0, callees: 0, queued: 0, remote: 0 };
  for (const n of t.nodes) {
    const s = n.router.realm(realmName)!.dealer.pendingState();
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += s[k];
  }
  return sum;
}
