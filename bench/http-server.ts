/**
 * The server of the `http` bench scenario, a child process of bench/run.ts:
 *
 *   node dist/bench/http-server.js xbar   an XbarNode: a web transport on 127.0.0.1 with a
 *                                         `publisher` path (/publish) and a WebSocket path (/ws)
 *   node dist/bench/http-server.js bare   the baseline: node:http that reads each POST body, parses
 *                                         it as JSON, and answers {"id": n} — nothing else
 *
 * It reports `{ ready, url }` over IPC and answers `{ cmd: 'cpu' }` and `{ cmd: 'stop' }` as
 * bench/server.ts does.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { NodeConfig } from '../src/config/types.js';
import { XbarNode } from '../src/node.js';
import { DEFAULTS } from '../src/config/normalize.js';

const kind = process.argv[2];

function xbarConfig(): NodeConfig {
  return {
    realms: [{
      name: 'realm1', uriCheck: 'loose',
      roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true }, disclose: { caller: false, publisher: false }, cache: true }] }],
    }],
    transports: [{
      type: 'web', id: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 },
      paths: new Map([
        ['ws', { type: 'websocket', serializers: ['json'], maxMessageSize: 16 * 1024 * 1024, maxOutBuffer: 16 * 1024 * 1024, slowConsumer: 'drop', slowConsumerTimeout: DEFAULTS.slowConsumerTimeout, maxHandshakeOutBuffer: DEFAULTS.maxHandshakeOutBuffer, readTimeout: DEFAULTS.readTimeout, helloTimeout: 10_000, autoPingInterval: 0, autoPingTimeout: 10_000 }],
        ['publish', { type: 'publisher', realm: 'realm1', role: 'anonymous', checks: { requireTls: false, postBodyLimit: 0, timestampDeltaLimit: 300, json: true } }],
      ]),
    }],
  };
}

async function start(): Promise<{ url: string; stop(): Promise<void> }> {
  if (kind === 'xbar') {
    const node = new XbarNode(xbarConfig(), { logger: pino({ level: 'silent' }) });
    await node.start();
    return { url: `http://127.0.0.1:${node.port('web')}`, stop: () => node.stop() };
  }
  let id = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const body = `{"id":${++id}}`;
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': body.length });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const s = await start();
process.send!({ ready: true, url: s.url });
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'cpu') process.send!({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
  else if (m.cmd === 'stop') void s.stop().finally(() => process.exit(0));
});
