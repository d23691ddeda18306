/**
 * The Origin check of WebSocket endpoints (issue 11, item 12), with a real WebSocket client (`ws`)
 * sending Origin headers and a raw socket for what `ws` cannot send: the embedded default accepts
 * only loopback origins and clients without an Origin; a Crossbar.io config's `allowed_origins`
 * and `allow_null_origin` are honoured as Crossbar.io does (HTTP 400 and its sentence); a config
 * without them allows every origin (Crossbar.io's default); the relay takes the same options.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import WebSocket from 'ws';
import { defaultConfig } from '../../../src/config/defaults.js';
import { parseConfig } from '../../../src/config/load.js';
import type { NodeConfig, TransportConfig } from '../../../src/config/types.js';
import { XbarNode } from '../../../src/node.js';
import { connectAutobahn } from '../../helpers/clients.js';
import { freePort } from '../../helpers/ports.js';
import { parsePrometheusText, valueOf } from '../stats/prometheus-text.js';

type Outcome = { joined: true } | { joined: false; status: number; body: string };

/** Opens a WAMP WebSocket with `headers` and says whether HELLO got a WELCOME, or how the upgrade was refused. */
function tryJoin(url: string, headers: Record<string, string> = {}, protocol = 'wamp.2.json'): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocol ? [protocol] : [], { headers, perMessageDeflate: false });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ joined: false, status: res.statusCode ?? 0, body: body.trim() }));
    });
    ws.once('open', () => ws.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }])));
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as unknown[];
      ws.close();
      if (msg[0] === 2) resolve({ joined: true });
      else reject(new Error(`expected WELCOME, got ${data.toString()}`));
    });
    ws.once('error', (e) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(e);
    });
  });
}

/** An upgrade request written by hand (two Origin headers, which `ws` cannot send); the status line that comes back. */
function rawUpgrade(port: number, path: string, extraHeaders: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n${extraHeaders}\r\n`);
    });
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

/** The embedded default with its listeners on free ports. */
function embeddedDefault(): NodeConfig {
  const c = defaultConfig();
  return {
    ...c,
    transports: c.transports.map((t): TransportConfig => ({ ...t, endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 } })),
  };
}

const log = () => pino({ level: process.env.XBAR_TEST_LOG ?? 'silent' });

describe('Origin check: the embedded default', { timeout: 30_000 }, () => {
  let node: XbarNode;
  let url: string;
  before(async () => {
    node = new XbarNode(embeddedDefault(), { logger: log() });
    await node.start();
    url = `ws://127.0.0.1:${node.port('web')}/ws`;
  });
  after(() => node?.stop());

  it('refuses a page from another origin with HTTP 400 and Crossbar.io\'s sentence', async () => {
    assert.deepEqual(await tryJoin(url, { Origin: 'https://evil.example' }), {
      joined: false, status: 400, body: "WebSocket connection denied: origin 'https://evil.example' not allowed",
    });
    for (const origin of ['http://localhost.evil.example:8080', 'http://127.0.0.1.evil.example', 'http://10.0.0.1:8080', 'null', 'file://']) {
      const r = await tryJoin(url, { Origin: origin });
      assert.equal(r.joined ? 200 : r.status, 400, origin);
    }
  });

  it('accepts pages from loopback origins on any port, and clients that send no Origin', async () => {
    for (const origin of ['http://localhost:5173', 'https://localhost', 'http://127.0.0.1:8080', 'http://127.9.8.7:1', 'http://[::1]:3000']) {
      assert.deepEqual(await tryJoin(url, { Origin: origin }), { joined: true }, origin);
    }
    assert.deepEqual(await tryJoin(url), { joined: true });
    const autobahn = await connectAutobahn(url);
    assert.ok(autobahn.session.isOpen, 'Autobahn|JS in Node sends no Origin');
    await autobahn.close();
  });

  it('refuses an unreadable or repeated Origin with 400, and keeps serving', async () => {
    const port = node.port('web');
    assert.match(await rawUpgrade(port, '/ws', 'Origin: http://localhost:1\r\nOrigin: http://localhost:2\r\n'), /^HTTP\/1\.1 400 [^\r]*\r\n[\s\S]*HTTP Origin header appears more than once/);
    assert.match(await rawUpgrade(port, '/ws', 'Origin: http://localhost:8x\r\n'), /^HTTP\/1\.1 400 [\s\S]*HTTP Origin header invalid: Port could not be cast/);
    assert.match(await rawUpgrade(port, '/ws', `Origin: http://${'a'.repeat(2000)}.example\r\n`), /^HTTP\/1\.1 400 [\s\S]*HTTP Origin header invalid: longer than 1024/);
    assert.deepEqual(await tryJoin(url, { Origin: 'http://localhost:1' }), { joined: true });
  });

  it('counts refusals in /metrics by path and reason', async () => {
    const families = parsePrometheusText(await (await fetch(`http://127.0.0.1:${node.port('web')}/metrics`)).text());
    const count = (reason: string) => valueOf(families, 'xbar_websocket_origin_refused_total', 'xbar_websocket_origin_refused_total', { path: '/ws', reason }) ?? 0;
    assert.ok(count('not_allowed') >= 4);
    assert.ok(count('null') >= 2, 'null and file:');
    assert.ok(count('invalid') >= 3);
  });
});

describe('Origin check: a Crossbar.io config', { timeout: 30_000 }, () => {
  let node: XbarNode;
  let port: number;
  before(async () => {
    port = await freePort();
    const config = parseConfig({
      version: 2,
      workers: [{
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { subscribe: true } }] }] }],
        transports: [{
          type: 'web',
          endpoint: { type: 'tcp', interface: '127.0.0.1', port },
          paths: {
            ws: { type: 'websocket', options: { allowed_origins: ['https://*.example.com:*', 'http://localhost:8080'] } },
            strict: { type: 'websocket', options: { allowed_origins: ['https://app.example.com:443'], allow_null_origin: false } },
            open: { type: 'websocket' },
            relay: { type: 'relay', allowed_origins: ['https://lab.example.org:*'] },
          },
        }],
      }],
    }, 'origins.json');
    node = new XbarNode(config, { logger: log() });
    await node.start();
  });
  after(() => node?.stop());

  it('allows what allowed_origins matches and the null origin unless allow_null_origin is false', async () => {
    const ws = `ws://127.0.0.1:${port}/ws`;
    assert.deepEqual(await tryJoin(ws, { Origin: 'https://app.example.com' }), { joined: true });
    assert.deepEqual(await tryJoin(ws, { Origin: 'https://a.b.example.com:8443' }), { joined: true });
    assert.deepEqual(await tryJoin(ws, { Origin: 'http://localhost:8080' }), { joined: true });
    assert.deepEqual(await tryJoin(ws, { Origin: 'null' }), { joined: true }, "Crossbar.io's allow_null_origin defaults to true");
    assert.equal((await tryJoin(ws, { Origin: 'http://app.example.com' })).joined, false, 'another scheme');
    assert.equal((await tryJoin(ws, { Origin: 'http://localhost:8081' })).joined, false, 'another port');
    assert.equal((await tryJoin(ws, { Origin: 'https://example.com.evil.example' })).joined, false);
    const strict = `ws://127.0.0.1:${port}/strict`;
    assert.deepEqual(await tryJoin(strict, { Origin: 'https://app.example.com' }), { joined: true });
    assert.deepEqual(await tryJoin(strict, { Origin: 'null' }), { joined: false, status: 400, body: "WebSocket connection denied: origin 'null' not allowed" });
  });

  it('allows every origin where the config says nothing, as Crossbar.io does', async () => {
    assert.deepEqual(await tryJoin(`ws://127.0.0.1:${port}/open`, { Origin: 'https://evil.example' }), { joined: true });
  });

  it('checks the relay\'s topics and its stats channel too', async () => {
    const relay = (path: string, origin: string) => tryJoin(`ws://127.0.0.1:${port}/relay/${path}`, { Origin: origin }, '').catch((e: Error) => e);
    const refused = await relay('expt', 'https://evil.example');
    assert.deepEqual(refused, { joined: false, status: 400, body: "WebSocket connection denied: origin 'https://evil.example' not allowed" });
    assert.deepEqual(await relay('stats', 'https://evil.example'), refused, 'the stats channel');
    // An allowed origin gets a relay connection (no WELCOME: it is not WAMP, the test's HELLO is relayed to nobody).
    const ok = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/relay/expt`, { headers: { Origin: 'https://lab.example.org' } });
      ws.once('open', () => {
        ws.close();
        resolve(true);
      });
      ws.once('unexpected-response', () => resolve(false));
    });
    assert.equal(ok, true);
  });
});
