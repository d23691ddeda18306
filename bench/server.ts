/**
 * The server under test, run as a child process of bench/run.ts (pinned to its own CPU):
 *
 *   node dist/bench/server.js xbar   an XbarNode: one WebSocket transport on 127.0.0.1, port 0
 *   node dist/bench/server.js bare   the baseline: a bare `ws` server, no WAMP
 *   node dist/bench/server.js bare --cork   the same, coalescing each tick's writes per socket
 *   node dist/bench/server.js xbar --stats-off   the XbarNode with statistics switched off
 *   node dist/bench/server.js xbar --cluster nats://… --node n1   the XbarNode as a member of the
 *                  NATS cluster `bench` (`cluster` section of the config; bench/cluster.ts)
 *
 * It reports `{ ready, url }` over IPC, then answers `{ cmd: 'cpu' }` with its
 * `process.cpuUsage()` and `{ cmd: 'stop' }` by exiting (so `--cpu-prof` writes its profile).
 *
 * The bare server is the fastest reasonable router-shaped program: it routes by the connection
 * URL, not by WAMP, and forwards what it receives as it receives it, framed once per message
 * (`ws`'s Sender.frame, as xbar does) and written with one `socket.write` per receiver.
 *   ?pub=A&sub=B   channel relay: every message from this socket goes to every socket with sub=A
 *                  (fanout, pingpong: clients send the bytes an xbar EVENT would have)
 *   ?rpc=caller    [48,REQ,{},"proc",ARGS] → callee (round robin) as [68,INV,REG,{},ARGS]
 *   ?rpc=callee    [70,INV,{},ARGS]        → its caller as [50,REQ,{},ARGS]  (request-id map)
 *   ?hello=1       the first message (HELLO) is answered with a WELCOME-shaped frame and the socket
 *                  kept in a session map until it closes (the conns scenario)
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import pino from 'pino';
import * as wsModule from 'ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { NodeConfig, WebSocketPathConfig } from '../src/config/types.js';
import { DEFAULTS } from '../src/config/normalize.js';
import { XbarNode } from '../src/node.js';
import { nthComma, readInt, WAMP_JSON } from './wamp-peer.js';

// ws exports Sender at runtime; @types/ws does not declare it.
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
};

/** Registration id the bare server puts in INVOCATION (xbar's are random 53-bit ids, 16 digits). */
const BARE_REGISTRATION = 4503599627370497;

export type ServerKind = 'xbar' | 'bare';

export type ToServer = { cmd: 'cpu' } | { cmd: 'stop' } | { cmd: 'stats' } | { cmd: 'gc' } | { cmd: 'memory' };
export type FromServer =
  | { ready: true; url: string }
  | { cpu: NodeJS.CpuUsage; rss: number }
  | { stats: Record<string, number> }
  | { gc: boolean }
  | { memory: { rss: number; heap: number } };

function xbarConfig(): NodeConfig {
  const ws: WebSocketPathConfig = {
    type: 'websocket',
    serializers: ['json', 'msgpack', 'cbor'],
    maxMessageSize: 16 * 1024 * 1024,
    maxOutBuffer: DEFAULTS.maxOutBuffer,
    slowConsumer: 'drop',
    slowConsumerTimeout: DEFAULTS.slowConsumerTimeout,
    maxHandshakeOutBuffer: DEFAULTS.maxHandshakeOutBuffer,
    readTimeout: DEFAULTS.readTimeout,
    helloTimeout: 10_000,
    autoPingInterval: 0,
    autoPingTimeout: 10_000,
  };
  // `--realms R`: realm1 … realmR, all alike (the cluster-scale bench).
  const realmCount = Number(arg('--realms') ?? 1);
  return {
    realms: Array.from({ length: realmCount }, (_, i) => ({
      name: `realm${i + 1}`,
      uriCheck: 'loose' as const,
      roles: [{
        name: 'anonymous',
        permissions: [{
          uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true },
          disclose: { caller: false, publisher: false }, cache: true,
        }],
      }],
    })),
    transports: [
      { type: 'web', id: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 }, paths: new Map([['ws', ws]]) },
    ],
    // Statistics are on by default (sampled every 5 s); the stats scenario compares both.
    ...(process.argv.includes('--stats-off') ? { stats: { enabled: false, interval: 5000, topTopics: 10, maxTopics: 10_000 } } : {}),
    ...clusterConfig(),
  };
}

/** The value after `name` on the command line. */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** `--cluster URL --node NAME`: the `cluster` section (heartbeat 1 s, dead after 3 s, the defaults). */
function clusterConfig(): Pick<NodeConfig, 'cluster'> {
  const url = arg('--cluster');
  if (!url) return {};
  return { cluster: { servers: [url], name: 'bench', node: arg('--node'), heartbeatInterval: 1000, deadAfter: 3000 } };
}

async function startXbar(): Promise<{ url: string; stats: () => Record<string, number> }> {
  const node = new XbarNode(xbarConfig(), { logger: pino({ level: 'silent' }) });
  await node.start();
  return {
    url: `ws://127.0.0.1:${node.port('web')}/ws`,
    stats: () => {
      const realm = node.router.realm('realm1');
      return {
        sessions: realm?.sessions.size ?? 0,
        subscriptions: realm?.broker.subscriptionCount ?? 0,
        registrations: realm?.dealer.registrationCount ?? 0,
        pending_invocations: realm?.dealer.pendingState().invocations ?? 0,
        members: node.backplane.members().size,
      };
    },
  };
}

/** Above this, a frame is its header and the payload itself (no copy), as in xbar's websocket-frame.ts. */
const MERGE_LIMIT = 64 * 1024;

/** Frames once and writes the same bytes to each socket, as xbar's WebSocket transport does. */
function frame(data: Buffer, isBinary: boolean): Buffer | Buffer[] {
  const parts = Sender.frame(data, { fin: true, rsv1: false, opcode: isBinary ? 2 : 1, mask: false, readOnly: true });
  if (data.length > MERGE_LIMIT) return parts;
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

function socketOf(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

/**
 * With `cork`, writes to a socket within one tick leave together (cork on the first write,
 * uncork on the next tick: one writev instead of one write per message), the "fastest
 * reasonable" variant of the baseline; without it, one write per message, as ws.send does.
 */
function writer(cork: boolean): (socket: Socket, bytes: Buffer | Buffer[]) => void {
  const writeOrParts = (socket: Socket, bytes: Buffer | Buffer[]): void => {
    if (!Array.isArray(bytes)) {
      socket.write(bytes);
      return;
    }
    // Header and payload in one writev.
    socket.cork();
    for (const b of bytes) socket.write(b);
    process.nextTick(() => socket.uncork());
  };
  if (!cork) return writeOrParts;
  const corked = new Set<Socket>();
  const flush = (): void => {
    for (const s of corked) s.uncork();
    corked.clear();
  };
  return (socket, bytes) => {
    if (!corked.has(socket)) {
      if (corked.size === 0) process.nextTick(flush);
      corked.add(socket);
      socket.cork();
    }
    if (Array.isArray(bytes)) for (const b of bytes) socket.write(b);
    else socket.write(bytes);
  };
}

async function startBare(cork: boolean): Promise<{ url: string; stats: () => Record<string, number> }> {
  const write = writer(cork);
  const channels = new Map<string, Set<Socket>>();
  const callees: Socket[] = [];
  const pending = new Map<number, { socket: Socket; request: number }>();
  let nextInvocation = 0;
  let roundRobin = 0;
  const sessions = new Map<number, Socket>();
  let nextSession = 0;

  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    clientTracking: false,
    // wamp.2.json, or the first WAMP subprotocol offered (the bulk scenario's msgpack and cbor clients).
    handleProtocols: (offered) => (offered.has(WAMP_JSON) ? WAMP_JSON : [...offered].find((p) => p.startsWith('wamp.2.')) ?? false),
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const q = new URL(req.url ?? '/', 'ws://x').searchParams;
    const socket = socketOf(ws);
    const sub = q.get('sub');
    const pub = q.get('pub');
    const rpc = q.get('rpc');
    if (q.get('hello')) {
      ws.once('message', () => {
        const id = ++nextSession;
        sessions.set(id, socket);
        ws.on('close', () => sessions.delete(id));
        write(socket, frame(Buffer.from(`[2,${id},{"realm":"realm1","authid":"anonymous-${id}","authrole":"anonymous","roles":{"broker":{},"dealer":{}}}]`), false));
      });
    }
    if (sub) {
      let set = channels.get(sub);
      if (!set) channels.set(sub, (set = new Set()));
      set.add(socket);
      ws.on('close', () => set.delete(socket));
    }
    if (pub) {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        const receivers = channels.get(pub);
        if (!receivers || receivers.size === 0) return;
        const bytes = frame(data, isBinary);
        for (const s of receivers) write(s, bytes);
      });
    } else if (rpc === 'caller') {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        // [48,REQ,{},"proc",ARGS] → [68,INV,REG,{},ARGS]
        const c2 = nthComma(data, 2);
        const c4 = nthComma(data, 4);
        if (callees.length === 0 || c4 < 0) return;
        const request = readInt(data, 4, c2);
        const invocation = ++nextInvocation;
        pending.set(invocation, { socket, request });
        const callee = callees[roundRobin++ % callees.length]!;
        const head = Buffer.from(`[68,${invocation},${BARE_REGISTRATION},{}`);
        write(callee, frame(Buffer.concat([head, data.subarray(c4)]), isBinary));
      });
    } else if (rpc === 'callee') {
      callees.push(socket);
      ws.on('close', () => callees.splice(callees.indexOf(socket), 1));
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        // [70,INV,{},ARGS] → [50,REQ,{},ARGS]
        const c2 = nthComma(data, 2);
        const p = pending.get(readInt(data, 4, c2));
        if (!p) return;
        pending.delete(readInt(data, 4, c2));
        const head = Buffer.from(`[50,${p.request}`);
        write(p.socket, frame(Buffer.concat([head, data.subarray(c2)]), isBinary));
      });
    }
  });
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('bare server must listen on TCP');
  return {
    url: `ws://127.0.0.1:${address.port}/`,
    stats: () => ({ pending_invocations: pending.size, callees: callees.length, sessions: sessions.size }),
  };
}

async function main(): Promise<void> {
  const kind = process.argv[2] as ServerKind;
  if (!process.send) throw new Error('bench/server.js runs as a child of bench/run.js (it needs an IPC channel)');
  const server = kind === 'xbar' ? await startXbar() : kind === 'bare' ? await startBare(process.argv.includes('--cork')) : undefined;
  if (!server) throw new Error(`unknown server kind ${kind}; expected xbar or bare`);
  const reply = (m: FromServer): void => void process.send!(m);
  process.on('message', (m: ToServer) => {
    if (m.cmd === 'cpu') reply({ cpu: process.cpuUsage(), rss: process.memoryUsage.rss() });
    else if (m.cmd === 'memory') {
      const u = process.memoryUsage();
      reply({ memory: { rss: u.rss, heap: u.heapUsed + u.external } });
    }
    else if (m.cmd === 'stats') reply({ stats: server.stats() });
    else if (m.cmd === 'gc') {
      // A full collection (the child runs with --expose-gc), so a phase does not pay for the last one's garbage.
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      reply({ gc: gc !== undefined });
    }
    else if (m.cmd === 'stop') process.exit(0);
  });
  // The parent going away must not leave us running.
  process.on('disconnect', () => process.exit(0));
  reply({ ready: true, url: server.url });
}

main().catch((e: unknown) => {
  console.error(`bench server: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
