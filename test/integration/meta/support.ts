/** A node with the meta API's optional parts configured (event history, fast statistics), and Autobahn|JS helpers. */
import { after, before } from 'node:test';
import autobahn from 'autobahn';
import pino from 'pino';
import type { Backplane } from '../../../src/backplane/backplane.js';
import type { NodeConfig, RealmConfig, RealmStoreConfig, SessionTransportOptions, StatsConfig, TransportConfig } from '../../../src/config/types.js';
import { XbarNode } from '../../../src/node.js';
import { connectAutobahn, type AutobahnClient } from '../../helpers/clients.js';
import { ALLOW_ALL, testConfig } from '../../helpers/node.js';

export const LIMIT = { timeout: 20_000 } as const;

export interface MetaNode {
  node: XbarNode;
  wsUrl: string;
  rawPort: number;
  http: string;
  stop(): Promise<void>;
}

export interface MetaNodeOptions {
  store?: RealmStoreConfig;
  stats?: Partial<StatsConfig>;
  roles?: RealmConfig['roles'];
  session?: Partial<SessionTransportOptions>;
  backplane?: Backplane;
}

/** One node: WebSocket at /ws plus /stats, /metrics and /health, RawSocket, realm1 with an optional store. */
export async function startMetaNode(o: MetaNodeOptions = {}): Promise<MetaNode> {
  const base = testConfig({ session: o.session, realms: [{ name: 'realm1', uriCheck: 'loose', roles: o.roles ?? [{ name: 'anonymous', permissions: [ALLOW_ALL] }], ...(o.store ? { store: o.store } : {}) }] });
  const [web, ...rest] = base.transports as [Extract<TransportConfig, { type: 'web' }>, ...TransportConfig[]];
  const paths = new Map(web.paths);
  paths.set('stats', { type: 'stats' });
  paths.set('metrics', { type: 'metrics' });
  paths.set('health', { type: 'health' });
  const config: NodeConfig = {
    ...base,
    transports: [{ ...web, paths }, ...rest],
    stats: { enabled: true, interval: 5000, topTopics: 10, maxTopics: 10_000, ...o.stats },
  };
  const node = new XbarNode(config, { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }), ...(o.backplane ? { backplane: o.backplane } : {}) });
  await node.start();
  const port = node.port('web');
  return { node, wsUrl: `ws://127.0.0.1:${port}/ws`, rawPort: node.port('rawsocket'), http: `http://127.0.0.1:${port}`, stop: () => node.stop() };
}

/** Opens Autobahn|JS sessions and closes them all at the end. */
export class Clients {
  private readonly open: AutobahnClient[] = [];
  constructor(private readonly url: string) {}

  async connect(o: Parameters<typeof connectAutobahn>[1] = {}): Promise<autobahn.Session> {
    const c = await connectAutobahn(this.url, o);
    this.open.push(c);
    return c.session;
  }

  /** Closes one session cleanly (GOODBYE). */
  async leave(session: autobahn.Session): Promise<void> {
    const c = this.open.find((x) => x.session === session);
    await c?.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.map((c) => c.close()));
    this.open.length = 0;
  }
}

/** The WAMP error a call was answered with: its URI and message. */
export async function callError(p: Promise<unknown>): Promise<{ error: string; message: unknown }> {
  try {
    await p;
  } catch (e) {
    const err = e as autobahn.Error;
    return { error: err.error, message: err.args?.[0] };
  }
  throw new Error('the call succeeded but should have failed');
}

/** Collects events of one topic; `next()` waits for the next one. */
export class Events {
  private readonly queue: { args: unknown[]; kwargs: Record<string, unknown>; details: autobahn.EventDetails }[] = [];
  private waiter: (() => void) | undefined;

  readonly handler: autobahn.Handler = (args, kwargs, details) => {
    this.queue.push({ args: args ?? [], kwargs: kwargs ?? {}, details });
    this.waiter?.();
  };

  async next(ms = 5000, what = 'event'): Promise<{ args: unknown[]; kwargs: Record<string, unknown>; details: autobahn.EventDetails }> {
    const deadline = Date.now() + ms;
    while (this.queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.queue.shift()!;
  }

  /** Waits for the next event whose args satisfy `pred`, skipping others. */
  async until(pred: (args: unknown[]) => boolean, ms = 5000, what = 'event'): Promise<{ args: unknown[]; kwargs: Record<string, unknown>; details: autobahn.EventDetails }> {
    const deadline = Date.now() + ms;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()), what);
      if (pred(e.args)) return e;
    }
  }

  get pending(): number {
    return this.queue.length;
  }
}

/** Autobahn|JS returns a lone positional result as itself, several as a Result. */
export function one(v: unknown): unknown {
  return v instanceof autobahn.Result ? v.args[0] : v;
}

/**
 * Starts a meta node before the enclosing describe's tests (`use` receives it and a client pool)
 * and closes every client and the node after them.
 */
export function metaSuite(use: (node: MetaNode, clients: Clients) => void, o: MetaNodeOptions = {}): void {
  let node: MetaNode | undefined;
  let clients: Clients | undefined;
  before(async () => {
    node = await startMetaNode(o);
    clients = new Clients(node.wsUrl);
    use(node, clients);
  });
  after(async () => {
    await clients?.closeAll();
    await node?.stop();
  });
}
