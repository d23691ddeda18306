/**
 * The workers of one node, in this process: a real backplane hub on a Unix socket and N routers
 * over it (HubBackplane), as `xbar start --workers N` runs them in N processes.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { BackplaneHub } from '../../src/backplane/hub/hub.js';
import { HubBackplane } from '../../src/backplane/hub/hub-backplane.js';
import { XbarNode } from '../../src/node.js';
import { testConfig, type TestNodeOptions } from './node.js';

export interface TestWorkers {
  hub: BackplaneHub;
  nodes: XbarNode[];
  stop(): Promise<void>;
}

let hubs = 0;

export async function startWorkers(size = 2, o: TestNodeOptions = {}): Promise<TestWorkers> {
  const log = pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' });
  const hub = new BackplaneHub(join(tmpdir(), `xbar-test-hub-${process.pid}-${++hubs}.sock`), log);
  await hub.start();
  const nodes: XbarNode[] = [];
  for (let i = 0; i < size; i++) {
    const node = new XbarNode(testConfig(o), { logger: log, backplane: new HubBackplane({ path: hub.path, name: `w${i + 1}` }, log) });
    await node.start();
    nodes.push(node);
  }
  return {
    hub,
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
      await hub.stop();
    },
  };
}
