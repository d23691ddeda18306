/** Separate xbar routers for rlink tests, each on its own loopback ports, linked by realm `rlinks`. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfigFile } from '../../../src/config/load.js';
import type { RLinkConfig, TransportConfig } from '../../../src/config/types.js';
import { XbarNode } from '../../../src/node.js';
import { captureLog } from '../auth/support.js';
import type autobahn from 'autobahn';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { eventually } from '../../helpers/eventually.js';
import { realm, testConfig, type TestNodeOptions } from '../../helpers/node.js';

export interface LinkTarget {
  readonly id: string;
  readonly port: number;
  readonly rawsocket?: boolean;
  readonly serializer?: 'json' | 'msgpack' | 'cbor';
  readonly flags?: Partial<Pick<RLinkConfig, 'forwardLocalEvents' | 'forwardRemoteEvents' | 'forwardLocalInvocations' | 'forwardRemoteInvocations'>>;
}

export function link(t: LinkTarget): RLinkConfig {
  const serializer = t.serializer ?? 'json';
  return {
    id: t.id,
    realm: 'realm1',
    transport: t.rawsocket
      ? { type: 'rawsocket', target: { host: '127.0.0.1', port: t.port }, serializer, timeoutMs: 5000 }
      : { type: 'websocket', url: `ws://127.0.0.1:${t.port}/ws`, serializer, timeoutMs: 5000 },
    excludeAuthid: [],
    forwardLocalEvents: true, forwardRemoteEvents: true, forwardLocalInvocations: true, forwardRemoteInvocations: true,
    ...t.flags,
  };
}

/** A node with fixed ports (so it can be restarted where its links expect it). */
export async function startRouter(ports: { ws: number; raw: number }, links: RLinkConfig[] = [], o: Omit<TestNodeOptions, 'realms'> = {}): Promise<XbarNode> {
  const base = testConfig({ ...o, realms: [{ ...realm(), rlinks: links }] });
  const transports = base.transports.map((t): TransportConfig =>
    t.endpoint.type === 'tcp' ? { ...t, endpoint: { ...t.endpoint, port: t.type === 'web' ? ports.ws : ports.raw } } as TransportConfig : t);
  const node = new XbarNode({ ...base, transports }, { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
  await node.start();
  return node;
}

export async function linksUp(node: XbarNode): Promise<void> {
  await Promise.all(node.rlinks.map((l) => l.whenConnected()));
}

export const client = (port: number): Promise<AutobahnClient> => connectAutobahn(`ws://127.0.0.1:${port}/ws`);

/** Waits until `topic` has `n` subscribers on the router `s` is joined to (mirrors included). */
export async function subscribers(s: autobahn.Session, topic: string, n: number): Promise<void> {
  await eventually(async () => {
    const id = (await s.call('wamp.subscription.lookup', [topic])) as number | null;
    if (id === null) return false;
    return ((await s.call('wamp.subscription.count_subscribers', [id])) as number) >= n;
  }, `${n} subscribers of ${topic}`, 10_000, 20);
}

/** Waits until `procedure` is registered on the router `s` is joined to. */
export async function registered(s: autobahn.Session, procedure: string): Promise<void> {
  await eventually(async () => (await s.call('wamp.registration.lookup', [procedure])) !== null, `${procedure} registered`, 10_000, 20);
}

export interface FileNode {
  node: XbarNode;
  /** The node directory's `.crossbar` folder (the config's and the node key's). */
  cbdir: string;
  logs: Record<string, unknown>[];
  /** Port of the first listener of `kind`. */
  port(kind: 'web' | 'rawsocket'): number;
  stop(): Promise<void>;
}

/**
 * Starts a node from a Crossbar.io config file written to `<root>/.crossbar/config.json` (plus
 * `files`, e.g. a key.priv), every listener moved to 127.0.0.1 on a free port; logs are captured.
 */
export async function startFileNode(doc: unknown, files: Record<string, string | Buffer> = {}): Promise<FileNode> {
  const root = mkdtempSync(join(tmpdir(), 'xbar-rlink-node-'));
  const cbdir = join(root, '.crossbar');
  mkdirSync(cbdir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(cbdir, name), content);
  const file = join(cbdir, 'config.json');
  writeFileSync(file, JSON.stringify(doc, null, 2));
  const config = await loadConfigFile(file);
  const transports = config.transports.map((t): TransportConfig =>
    t.endpoint.type === 'tcp' ? { ...t, endpoint: { ...t.endpoint, interface: '127.0.0.1', port: 0 } } as TransportConfig : t);
  const { logger, lines: logs } = captureLog('debug');
  const node = new XbarNode({ ...config, transports }, { logger });
  try {
    await node.start();
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return {
    node, cbdir, logs,
    port: (kind) => node.addresses.find((a) => a.kind === kind)!.port!,
    stop: async () => {
      await node.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A version 2 config of one router worker with `realms` and `transports`. */
export function routerDoc(realms: unknown[], transports: unknown[]): Record<string, unknown> {
  return { version: 2, workers: [{ type: 'router', realms, transports }] };
}
