/** A real node with a relay path on free loopback ports, and raw `ws` relay clients. */
import pino from 'pino';
import WebSocket from 'ws';
import { relayDefaults } from '../../../src/config/normalize-relay.js';
import type { NodeConfig, PathService, RelayPathConfig, WebSocketPathConfig } from '../../../src/config/types.js';
import { XbarNode } from '../../../src/node.js';
import type { RelayService } from '../../../src/relay/relay.js';
import { realm, SESSION_DEFAULTS } from '../../helpers/node.js';

export interface RelayNode {
  node: XbarNode;
  relay: RelayService;
  /** http://127.0.0.1:<port> */
  http: string;
  /** ws://127.0.0.1:<port>/<mount> with no trailing slash. */
  base: string;
  /** The WAMP endpoint on the same port (ws://…/ws). */
  wampUrl: string;
  stop(): Promise<void>;
}

export async function startRelay(overrides: Partial<RelayPathConfig> = {}, mount = 'relay'): Promise<RelayNode> {
  const ws: WebSocketPathConfig = { type: 'websocket', ...SESSION_DEFAULTS, autoPingInterval: 0, autoPingTimeout: 10_000 };
  const paths = new Map<string, PathService>([[mount, relayDefaults(overrides)]]);
  if (mount !== 'ws') paths.set('ws', ws);
  const config: NodeConfig = {
    realms: [realm()],
    transports: [{ type: 'web', id: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 }, paths }],
  };
  const node = new XbarNode(config, { logger: pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' }) });
  await node.start();
  const port = node.port('web');
  const http = `http://127.0.0.1:${port}`;
  return {
    node,
    relay: node.relays[0]!,
    http,
    base: `ws://127.0.0.1:${port}${mount === '' ? '' : `/${mount}`}`,
    wampUrl: `ws://127.0.0.1:${port}/ws`,
    stop: () => node.stop(),
  };
}

export interface Received {
  data: Buffer;
  binary: boolean;
}

/** A relay client that records every message and how it closed. */
export class Client {
  readonly messages: Received[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      this.messages.push({ data, binary });
      this.waiters = this.waiters.filter((w) => (this.messages.length >= w.n ? (w.resolve(), false) : true));
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  }

  static open(url: string, options: WebSocket.ClientOptions = {}): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const c = new Client(ws);
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => reject(new Refused(res.statusCode ?? 0, body.trim())));
      });
      ws.once('error', reject);
    });
  }

  /** Resolves when `n` messages in all have arrived; rejects after `ms`. */
  waitFor(n: number, ms = 5000): Promise<Received[]> {
    if (this.messages.length >= n) return Promise.resolve(this.messages);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out with ${this.messages.length} of ${n} messages`)), ms);
      this.waiters.push({ n, resolve: () => (clearTimeout(timer), resolve(this.messages)) });
    });
  }

  texts(): string[] {
    return this.messages.map((m) => m.data.toString());
  }

  send(data: string | Buffer, binary?: boolean): Promise<void> {
    return new Promise((resolve, reject) =>
      this.ws.send(data, binary === undefined ? {} : { binary }, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}

/** An upgrade the relay refused with an HTTP status. */
export class Refused extends Error {
  constructor(readonly status: number, readonly body: string) {
    super(`HTTP ${status}: ${body}`);
  }
}

/** The refusal of an upgrade to `url` (fails if the upgrade succeeds). */
export async function refusal(url: string, options: WebSocket.ClientOptions = {}): Promise<Refused> {
  try {
    const c = await Client.open(url, options);
    await c.close();
  } catch (e) {
    if (e instanceof Refused) return e;
    throw e;
  }
  throw new Error(`upgrade to ${url} was accepted`);
}

/**
 * Lets the relay pass on what it has: one message round trip through `probe` clients on a
 * separate topic (the relay handles sockets in order, so earlier messages were processed).
 */
export async function settle(base: string): Promise<void> {
  const a = await Client.open(`${base}/settle-probe`);
  const b = await Client.open(`${base}/settle-probe`);
  await a.send('x');
  await b.waitFor(1);
  await a.close();
  await b.close();
}

export function report(relay: RelayService, topic: string) {
  return relay.reports().filter((r) => r.topic === topic);
}
