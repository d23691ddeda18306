/** A cluster of real xbar nodes (in-process) over real nats-server processes, on free loopback ports. */
import pino from 'pino';
import type { ClusterConfig, LimitsConfig, NodeConfig } from '../../src/config/types.js';
import { XbarNode } from '../../src/node.js';
import { startNats, stopNats, type NatsServer } from './nats.js';
import { testConfig, type TestNodeOptions } from './node.js';

export interface TestCluster {
  nats: NatsServer[];
  nodes: XbarNode[];
  urls: string[];
  stop(): Promise<void>;
}

let clusters = 0;

export function clusterConfig(nats: readonly NatsServer[], name: string, o: Partial<ClusterConfig> = {}): ClusterConfig {
  return { servers: nats.map((s) => s.url), name, heartbeatInterval: 200, deadAfter: 1000, ...o };
}

export interface StartClusterOptions extends TestNodeOptions {
  natsServers?: number;
  cluster?: Partial<ClusterConfig>;
  /** Every node's `limits`. */
  limits?: LimitsConfig;
  /** The NATS servers node `i` is given (default: all of them). */
  serversOf?: (i: number, nats: readonly NatsServer[]) => readonly NatsServer[];
  /** The logger of node `i` (default: silent, or XBAR_TEST_LOG's level). */
  loggerOf?: (i: number) => pino.Logger;
}

export async function startCluster(size = 3, o: StartClusterOptions = {}): Promise<TestCluster> {
  const nats = await startNats(o.natsServers ?? 1);
  const name = `t${process.pid}x${++clusters}`;
  const nodes: XbarNode[] = [];
  for (let i = 0; i < size; i++) {
    const config: NodeConfig = { ...testConfig(o), ...(o.limits ? { limits: o.limits } : {}), cluster: clusterConfig(o.serversOf?.(i, nats) ?? nats, name, { node: `x${i + 1}`, ...o.cluster }) };
    const node = new XbarNode(config, { logger: o.loggerOf?.(i) ?? pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
    await node.start();
    nodes.push(node);
  }
  return {
    nats,
    nodes,
    urls: nodes.map((n) => `ws://127.0.0.1:${n.port('web')}/ws`),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
      await stopNats(nats);
    },
  };
}
