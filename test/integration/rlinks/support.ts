/** Separate xbar routers for rlink tests, each on its own loopback ports, linked by realm `rlinks`. */
import pino from 'pino';
import type { RLinkConfig, TransportConfig } from '../../../src/config/types.js';
import { XbarNode } from '../../../src/node.js';
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
