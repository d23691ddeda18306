/**
 * The relay under test, a child process of bench/relay.ts (pinned to its own CPU when taskset is
 * there):
 *
 *   node dist/bench/relay-server.js xbar '<json relay options>'   `xbar relay`: an XbarNode with the
 *                                                                relay at the root, no WAMP realm
 *   node dist/bench/relay-server.js bare                         the baseline: a bare `ws` relay
 *
 * The baseline is the fastest reasonable relay: topics by URL path, every message framed once
 * (`Sender.frame`, as xbar does) and written to every other client of the topic, with no queue
 * bound, no statistics, no access control and no drop accounting.
 *
 * IPC: reports `{ready, url}`, answers `{cmd:'cpu'}` with its `process.cpuUsage()` and RSS,
 * `{cmd:'stats'}` with its relay counters, `{cmd:'stop'}` by exiting.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import pino from 'pino';
import * as wsModule from 'ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { relayDefaults } from '../src/config/normalize-relay.js';
import type { RelayPathConfig } from '../src/config/types.js';
import { XbarNode } from '../src/node.js';

const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } };

export type RelayServerKind = 'xbar' | 'bare';
export type ToRelayServer = { cmd: 'cpu' } | { cmd: 'stats' } | { cmd: 'stop' };
export type FromRelayServer =
  | { ready: true; url: string }
  | { cpu: NodeJS.CpuUsage; rss: number }
  | { stats: { connections: number; rxDropped: number; txDropped: number; delivered: number } };

async function startXbar(options: Partial<RelayPathConfig>): Promise<{ url: string; stats: () => FromRelayServer }> {
  const node = new XbarNode(
    {
      realms: [],
      transports: [{
        type: 'web', id: 'relay', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 },
        paths: new Map([['', relayDefaults(options)]]),
      }],
    },
    { logger: pino({ level: 'warn' }) },
  );
  await node.start();
  const relay = node.relays[0]!;
  return {
    url: `ws://127.0.0.1:${node.port('web')}`,
    stats: () => {
      const r = relay.reports();
      return {
        stats: {
          connections: r.length,
          rxDropped: r.reduce((n, c) => n + c.stats.rx.dropped, 0),
          txDropped: r.reduce((n, c) => n + c.stats.tx.dropped, 0),
          delivered: r.reduce((n, c) => n + c.stats.rx.count, 0),
        },
      };
    },
  };
}

async function startBare(): Promise<{ url: string; stats: () => FromRelayServer }> {
  const topics = new Map<string, Set<WebSocket>>();
  let delivered = 0;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, clientTracking: false });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket: Socket, head) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    // practable: /in/x and /out/x meet on "/out/x"; an /out client may not write.
    const topic = path.startsWith('/in/') ? `/out/${path.slice(4)}` : path;
    const writer = !path.startsWith('/out/');
    wss.handleUpgrade(req, socket, head, (ws) => {
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(ws);
      ws.on('message', (data: Buffer, binary: boolean) => {
        if (!writer) return;
        const frames = Sender.frame(data, { fin: true, rsv1: false, opcode: binary ? 2 : 1, mask: false, readOnly: true });
        const one = frames.length === 2 && data.length <= 64 * 1024 ? [Buffer.concat(frames)] : frames;
        for (const other of set) {
          if (other === ws) continue;
          const s = (other as unknown as { _socket: Socket })._socket;
          if (one.length === 1) s.write(one[0]!);
          else {
            s.cork();
            for (const f of one) s.write(f);
            s.uncork();
          }
          delivered++;
        }
      });
      ws.on('error', () => undefined);
      ws.on('close', () => set.delete(ws));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    stats: () => ({
      stats: { connections: [...topics.values()].reduce((n, s) => n + s.size, 0), rxDropped: 0, txDropped: 0, delivered },
    }),
  };
}

const kind = process.argv[2] as RelayServerKind;
const options = JSON.parse(process.argv[3] ?? '{}') as Partial<RelayPathConfig>;
const server = kind === 'xbar' ? await startXbar(options) : await startBare();
process.on('message', (m: ToRelayServer) => {
  if (m.cmd === 'cpu') process.send!({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss } satisfies FromRelayServer);
  else if (m.cmd === 'stats') process.send!(server.stats());
  else if (m.cmd === 'stop') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true, url: server.url } satisfies FromRelayServer);
