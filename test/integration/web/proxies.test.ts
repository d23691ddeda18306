/**
 * `reverseproxy` and `websocket-reverseproxy` over real sockets: an HTTP target (node:http) that
 * reports what it received, curl as the client; a WebSocket echo backend (ws) and, as in
 * crossbar-examples' `wsrproxy`, the node's own WAMP transport behind the proxy, reached by
 * Autobahn|JS through it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connectAutobahn } from '../../helpers/clients.js';
import WebSocket, { WebSocketServer } from 'ws';
import { freePort } from '../../helpers/ports.js';
import { type ConfigNode, EXAMPLE_REALM, NodeDir, curl, rawGet, startConfigNode } from '../../helpers/crossbar-node.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Inbox {
  ws: WebSocket;
  /** The next message, in arrival order (buffered from the start: one may come with the handshake). */
  next(): Promise<{ data: Buffer; isBinary: boolean }>;
}

function openSocket(url: string, protocols: string[] = []): Promise<Inbox> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    const queue: { data: Buffer; isBinary: boolean }[] = [];
    const waiting: ((m: { data: Buffer; isBinary: boolean }) => void)[] = [];
    ws.on('message', (data, isBinary) => {
      const m = { data: data as Buffer, isBinary };
      const w = waiting.shift();
      if (w) w(m);
      else queue.push(m);
    });
    const next = () => new Promise<{ data: Buffer; isBinary: boolean }>((r) => (queue.length > 0 ? r(queue.shift()!) : waiting.push(r)));
    ws.once('open', () => resolve({ ws, next }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe('reverseproxy and websocket-reverseproxy', () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let target: http.Server;
  let echo: WebSocketServer;
  let wampPort: number;
  let deadPort: number;
  const seen: Seen[] = [];
  before(async () => {
    target = http.createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (req.url?.startsWith('/base/status/418')) res.writeHead(418, { 'x-target': 'yes', connection: 'x-drop', 'x-drop': '1' }).end('teapot');
        else res.writeHead(200, { 'content-type': 'text/plain', 'x-target': 'yes' }).end(`${req.method} ${req.url} ${body}`);
      });
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    echo = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => (p.has('echo.v2') ? 'echo.v2' : false) });
    echo.on('connection', (ws, req) => {
      ws.send(`hello ${req.url}`);
      ws.on('message', (data, isBinary) => (String(data) === 'close please' ? ws.close(4000, 'asked to') : ws.send(data as Buffer, { binary: isBinary })));
    });
    await new Promise((r) => echo.once('listening', r));
    wampPort = await freePort();
    const webPort = await freePort();
    deadPort = await freePort();
    const targetPort = (target.address() as AddressInfo).port;
    const echoPort = (echo.address() as AddressInfo).port;
    t = await startConfigNode(dir, {
      version: 2,
      workers: [
        {
          type: 'router',
          realms: [EXAMPLE_REALM],
          transports: [
            { type: 'websocket', endpoint: { type: 'tcp', port: wampPort } },
            {
              type: 'web',
              endpoint: { type: 'tcp', port: webPort },
              paths: {
                app: { type: 'reverseproxy', host: '127.0.0.1', port: targetPort, path: '/base', forwarded_port: 443, forwarded_proto: 'https' },
                plain: { type: 'reverseproxy', host: '127.0.0.1', port: targetPort },
                down: { type: 'reverseproxy', host: '127.0.0.1', port: deadPort },
                echo: { type: 'websocket-reverseproxy', backend: { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: echoPort }, url: `ws://localhost:${echoPort}/echo?x=1` } },
                wamp: { type: 'websocket-reverseproxy', backend: { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: wampPort }, url: `ws://localhost:${wampPort}` } },
                nowhere: { type: 'websocket-reverseproxy', backend: { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: deadPort }, url: `ws://localhost:${deadPort}` } },
              },
            },
          ],
        },
      ],
    }, { fixedPorts: true });
  });
  after(async () => {
    await t?.stop();
    await new Promise((r) => target.close(r));
    await new Promise((r) => echo.close(r));
    dir.remove();
  });

  it('reverseproxy: forwards method, path below the service (re-quoted) under "path", query and body', async () => {
    const out = await curl(['-X', 'POST', '--data-binary', 'payload', `${t.http}/app/a%20b/c?q=1&r=%2F`]);
    assert.equal(out, 'POST /base/a%20b/c?q=1&r=%2F payload');
    assert.equal(await (await fetch(`${t.http}/plain`)).text(), 'GET / ');
    assert.equal(await (await fetch(`${t.http}/plain/x/`)).text(), 'GET /x/ ');
  });

  it('reverseproxy: sets Host to the target and the X-Forwarded-* headers as Crossbar.io does', async () => {
    seen.length = 0;
    await (await fetch(`${t.http}/app/h`, { headers: { 'x-forwarded-for': '6.6.6.6', 'x-custom': 'kept' } })).text();
    const h = seen[0]!.headers;
    assert.equal(h.host, `127.0.0.1:${(target.address() as AddressInfo).port}`);
    assert.equal(h['x-forwarded-host'], `127.0.0.1:${t.port}`);
    assert.equal(h['x-forwarded-for'], '127.0.0.1', 'the client address replaces what the client claimed');
    assert.equal(h['x-real-ip'], '127.0.0.1');
    assert.equal(h['x-forwarded-port'], '443');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-custom'], 'kept');
    seen.length = 0;
    await (await fetch(`${t.http}/plain/`)).text();
    assert.equal(seen[0]!.headers['x-forwarded-port'], '80');
    assert.equal(seen[0]!.headers['x-forwarded-proto'], 'http');
  });

  it('reverseproxy: passes the status and headers back, without hop-by-hop ones; an unreachable target is 502', async () => {
    const r = await rawGet(t.port, '/app/status/418');
    assert.equal(r.status, 418);
    assert.equal(r.headers['x-target'], 'yes');
    assert.equal(r.headers['x-drop'], undefined, 'a header named in Connection is hop-by-hop');
    assert.equal(r.body.toString().includes('teapot'), true);
    assert.equal((await fetch(`${t.http}/down/x`)).status, 502);
  });

  it('websocket-reverseproxy: relays text and binary both ways to the backend URL, with the subprotocol it chose', async () => {
    const { ws, next } = await openSocket(`ws://127.0.0.1:${t.port}/echo`, ['echo.v1', 'echo.v2']);
    try {
      assert.equal(ws.protocol, 'echo.v2');
      assert.equal(String((await next()).data), 'hello /echo?x=1');
      ws.send('text');
      const text = await next();
      assert.deepEqual([String(text.data), text.isBinary], ['text', false]);
      ws.send(Buffer.from([0, 1, 2, 255]));
      const bin = await next();
      assert.deepEqual([[...bin.data], bin.isBinary], [[0, 1, 2, 255], true]);
      // A large burst arrives whole and in order (the proxy pauses a side instead of buffering).
      const chunk = Buffer.alloc(512 * 1024, 7);
      for (let i = 0; i < 20; i++) ws.send(Buffer.concat([Buffer.from([i]), chunk]));
      for (let i = 0; i < 20; i++) {
        const m = await next();
        assert.deepEqual([m.data[0], m.data.length], [i, chunk.length + 1]);
      }
      // A close from the backend reaches the client as 1000 with the backend's reason.
      const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, String(reason)])));
      ws.send('close please');
      assert.deepEqual(await closed, [1000, 'asked to']);
    } finally {
      ws.terminate();
    }
  });

  it('websocket-reverseproxy: refuses the upgrade with 503 when the backend is not reachable', async () => {
    await assert.rejects(openSocket(`ws://127.0.0.1:${t.port}/nowhere`), /HTTP 503/);
    const plain = await fetch(`${t.http}/echo`);
    assert.equal(plain.status, 426);
  });

  it('websocket-reverseproxy: Autobahn|JS reaches the WAMP router behind it and does pub/sub', async () => {
    const viaProxy = await connectAutobahn(`ws://127.0.0.1:${t.port}/wamp`);
    const direct = await connectAutobahn(`ws://127.0.0.1:${wampPort}`);
    try {
      let got!: (v: unknown) => void;
      const received = new Promise((r) => (got = r));
      await viaProxy.session.subscribe('com.example.proxied', (args) => got(args?.[0]));
      await direct.session.publish('com.example.proxied', ['through the proxy'], {}, { acknowledge: true });
      assert.equal(await received, 'through the proxy');
    } finally {
      await viaProxy.close();
      await direct.close();
    }
  });
});
