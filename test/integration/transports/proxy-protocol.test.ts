/**
 * Behind a load balancer (issue 11, item 14), without HAProxy: a tunnel that writes PROXY
 * protocol headers as HAProxy does (test/helpers/spread-proxy.ts) in front of real clients
 * (Autobahn|JS, ws, RawSocket), and X-Forwarded-For from a trusted proxy. The node sees the
 * client the header names — in the meta API's transport.peer, per-address limits and access
 * control — refuses connections without a valid header on endpoints configured for it (counted
 * in /metrics), and never takes a header on endpoints that are not. The addresses in headers are
 * loopback addresses other than the tunnel's 127.0.0.1.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { encodeProxyV1, encodeProxyV2 } from '../../../src/network/proxy-protocol.js';
import { connectAutobahn } from '../../helpers/clients.js';
import { spreadProxy, type SpreadProxy } from '../../helpers/spread-proxy.js';
import { Code, RawSocketClient } from '../../helpers/raw-wamp.js';
import { type AuthNode, makeCertificates, startDoc, tcp, type Certificates } from '../auth/support.js';
import { parsePrometheusText, valueOf } from '../stats/prometheus-text.js';

const ALL = [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }];
const anonymous = { anonymous: { type: 'static', role: 'anonymous' } };

/** transport.peer of the caller's own session, from the meta API. */
async function ownPeer(session: { id: number; call(p: string, a: unknown[]): PromiseLike<unknown> }): Promise<string> {
  const details = (await session.call('wamp.session.get', [session.id])) as { transport: { peer: string } };
  return details.transport.peer;
}

/** transport.peer of a raw WAMP session over WebSocket (HELLO, then wamp.session.get of itself). */
function wsPeer(url: string, options: WebSocket.ClientOptions): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(url, ['wamp.2.json'], options);
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {} } }])));
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as unknown[];
      if (m[0] === 2) ws.send(JSON.stringify([48, 1, {}, 'wamp.session.get', [m[1]]]));
      if (m[0] === 50) {
        ws.close();
        resolve((m[3] as [{ transport: { peer: string } }])[0].transport.peer);
      }
    });
  });
}

/** Bytes sent straight to `port` and everything that came back until the server closed (or `ms`). */
function exchange(port: number, bytes: Uint8Array | string, o: { localAddress?: string; ms?: number } = {}): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', ...(o.localAddress ? { localAddress: o.localAddress } : {}) }, () => s.write(bytes));
    let reply = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ reply, closed: false });
    }, o.ms ?? 3000);
    s.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ reply, closed: true });
    });
    s.on('error', () => undefined);
  });
}

describe('PROXY protocol and X-Forwarded-For', { timeout: 60_000 }, () => {
  let n: AuthNode;
  let certs: Certificates;
  const tunnels: SpreadProxy[] = [];
  /** lb web (PROXY), lb rawsocket (PROXY), plain web (metrics), plain rawsocket, PROXY only from 127.0.0.2, fast timeout, TLS+PROXY, XFF web. */
  let port: { lbWeb: number; lbRaw: number; plainWeb: number; plainRaw: number; picky: number; quick: number; tls: number; xff: number };

  before(async () => {
    certs = makeCertificates();
    const lb = (extra: Record<string, unknown> = {}) => ({ ...tcp(), proxy_protocol: true, ...extra });
    n = await startDoc(
      {
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: ALL }] }],
        transports: [
          { type: 'web', endpoint: lb(), paths: { ws: { type: 'websocket', auth: anonymous }, health: { type: 'health' } } },
          { type: 'rawsocket', endpoint: lb(), auth: anonymous },
          { type: 'web', endpoint: tcp(), paths: { ws: { type: 'websocket', auth: anonymous }, metrics: { type: 'metrics' }, health: { type: 'health' } } },
          { type: 'rawsocket', endpoint: tcp(), auth: anonymous },
          { type: 'web', endpoint: lb({ trusted_proxies: ['127.0.0.2'] }), paths: { health: { type: 'health' } } },
          { type: 'web', endpoint: lb({ proxy_protocol_timeout: 300 }), paths: { health: { type: 'health' } } },
          { type: 'web', endpoint: lb({ tls: { key: 'server.key', certificate: 'server.crt' } }), paths: { ws: { type: 'websocket', auth: anonymous } } },
          {
            type: 'web',
            endpoint: { ...tcp(), trusted_proxies: ['127.0.0.1/32'] },
            paths: { ws: { type: 'websocket', auth: anonymous }, stats: { type: 'stats', access: { networks: ['127.0.0.99'] } } },
          },
        ],
      },
      { dir: certs.dir },
    );
    const [lbWeb, lbRaw, plainWeb, plainRaw, picky, quick, tlsPort, xff] = n.ports as [number, number, number, number, number, number, number, number];
    port = { lbWeb, lbRaw, plainWeb, plainRaw, picky, quick, tls: tlsPort, xff };
  });
  after(async () => {
    await Promise.all(tunnels.map((t) => t.close()));
    await n?.stop();
    certs?.cleanup();
  });

  const tunnel = async (backend: number, header: (c: net.Socket) => Uint8Array) => {
    const t = await spreadProxy([backend], header);
    tunnels.push(t);
    return t.port;
  };

  it('shows Autobahn|JS behind a v1 header, and behind a v2 header, with the client address of the header', async () => {
    const v1 = await tunnel(port.lbWeb, (c) => encodeProxyV1({ address: '127.0.0.42', port: 40001 }, { address: '127.0.0.1', port: c.localPort! }));
    const a = await connectAutobahn(`ws://127.0.0.1:${v1}/ws`);
    assert.equal(await ownPeer(a.session), 'tcp4:127.0.0.42:40001');
    await a.close();
    const v2 = await tunnel(port.lbWeb, (c) => encodeProxyV2({ address: '::1', port: 40002 }, { address: '::1', port: c.localPort! }));
    const b = await connectAutobahn(`ws://127.0.0.1:${v2}/ws`);
    assert.equal(await ownPeer(b.session), 'tcp6:::1:40002');
    await b.close();
  });

  it('takes the header on a RawSocket endpoint, and the bytes that follow it in the same packet', async () => {
    const v2 = await tunnel(port.lbRaw, () => encodeProxyV2({ address: '127.0.0.43', port: 40003 }, { address: '127.0.0.1', port: port.lbRaw }));
    const c = await RawSocketClient.open(v2);
    const id = await c.hello();
    const req = c.nextRequest();
    c.send([Code.CALL, req, {}, 'wamp.session.get', [id]]);
    const result = await c.waitFor((m) => m[0] === Code.RESULT && m[1] === req);
    assert.equal((result[3] as [{ transport: { peer: string } }])[0].transport.peer, 'tcp4:127.0.0.43:40003');
    c.destroy();
    // Header, RawSocket handshake and HELLO in one write.
    const hello = Buffer.from(JSON.stringify([1, 'realm1', { roles: { caller: {} } }]));
    const frame = Buffer.alloc(4);
    frame.writeUInt32BE(hello.length);
    const oneWrite = Buffer.concat([encodeProxyV1({ address: '127.0.0.44', port: 1 }, { address: '127.0.0.1', port: 2 }), Buffer.from([0x7f, 0xf1, 0, 0]), frame, hello]);
    const { reply } = await exchange(port.lbRaw, oneWrite, { ms: 500 });
    assert.match(reply, /\[2,\d+,/, 'WELCOME');
  });

  it('refuses a connection without the header, and counts it', async () => {
    const http1 = await exchange(port.lbWeb, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.deepEqual(http1, { reply: '', closed: true }, 'closed without an answer');
    const raw = await exchange(port.lbRaw, Buffer.from([0x7f, 0xf1, 0, 0]));
    assert.deepEqual(raw, { reply: '', closed: true });
    const garbage = await exchange(port.lbWeb, 'PROXY TCP4 127.0.0.1 nonsense\r\nGET /health HTTP/1.1\r\n\r\n');
    assert.deepEqual(garbage, { reply: '', closed: true });
    const ws = await new Promise<string>((resolve) => {
      const w = new WebSocket(`ws://127.0.0.1:${port.lbWeb}/ws`, ['wamp.2.json']);
      w.on('error', (e) => resolve(e.message));
      w.on('open', () => resolve('open'));
    });
    assert.notEqual(ws, 'open');
    const count = (reason: string) => metricsCount('xbar_proxy_protocol_refused_total', { transport: 'transport001', reason });
    assert.ok((await count('missing')) >= 2);
    assert.ok((await count('invalid')) >= 1);
    assert.ok((await metricsCount('xbar_proxy_protocol_refused_total', { transport: 'transport002', reason: 'missing' })) >= 1);
  });

  it('never takes a header on an endpoint not configured for it', async () => {
    const header = encodeProxyV1({ address: '127.0.0.45', port: 1 }, { address: '127.0.0.1', port: 2 });
    const web = await exchange(port.plainWeb, Buffer.concat([header, Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')]));
    assert.match(web.reply, /^HTTP\/1\.1 400 Bad Request/, 'the header is not HTTP');
    const raw = await exchange(port.plainRaw, Buffer.concat([encodeProxyV2({ address: '127.0.0.45', port: 1 }, { address: '127.0.0.1', port: 2 }), Buffer.from([0x7f, 0xf1, 0, 0])]));
    assert.equal(raw.closed, true);
    assert.doesNotMatch(raw.reply, /^\x7f\xf1/, 'no RawSocket handshake reply');
    const a = await connectAutobahn(`ws://127.0.0.1:${port.plainWeb}/ws`);
    assert.match(await ownPeer(a.session), /^tcp4:127\.0\.0\.1:\d+$/);
    await a.close();
  });

  it('takes the header only from trusted_proxies when that list is set', async () => {
    const header = encodeProxyV1({ address: '127.0.0.46', port: 1 }, { address: '127.0.0.1', port: 2 });
    const request = Buffer.concat([header, Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]);
    assert.deepEqual(await exchange(port.picky, request), { reply: '', closed: true });
    assert.match((await exchange(port.picky, request, { localAddress: '127.0.0.2' })).reply, /^HTTP\/1\.1 200 OK/);
    assert.ok((await metricsCount('xbar_proxy_protocol_refused_total', { transport: 'transport005', reason: 'untrusted' })) >= 1);
  });

  it('closes a connection whose header does not come within proxy_protocol_timeout', async () => {
    const started = Date.now();
    const r = await exchange(port.quick, 'PROXY TCP4 127.0.0.1', { ms: 5000 });
    assert.deepEqual(r, { reply: '', closed: true });
    assert.ok(Date.now() - started < 4000);
    assert.ok((await metricsCount('xbar_proxy_protocol_refused_total', { transport: 'transport006', reason: 'timeout' })) >= 1);
  });

  it('reads the header before TLS: wss:// behind a PROXY header shows the header\'s client', async () => {
    const v2 = await tunnel(port.tls, () => encodeProxyV2({ address: '127.0.0.47', port: 40004 }, { address: '127.0.0.1', port: port.tls }));
    const ca = readFileSync(certs.ca);
    const socket = tls.connect({ host: '127.0.0.1', port: v2, ca, servername: 'localhost' });
    const peer = await wsPeer(`wss://localhost:${v2}/ws`, { ca, createConnection: () => socket } as WebSocket.ClientOptions);
    assert.equal(peer, 'tcp4:127.0.0.47:40004');
  });

  it('believes X-Forwarded-For from a trusted proxy only, hop by hop from the right', async () => {
    const xff = `ws://127.0.0.1:${port.xff}/ws`;
    const peerOf = (headers: Record<string, string>, localAddress?: string) => wsPeer(xff, { headers, ...(localAddress ? { localAddress } : {}) });
    assert.equal(await peerOf({ 'X-Forwarded-For': '127.0.0.99' }), 'tcp4:127.0.0.99:0');
    assert.equal(await peerOf({ 'X-Forwarded-For': '127.0.0.98, 127.0.0.99, 127.0.0.1' }), 'tcp4:127.0.0.99:0', 'trusted hops are skipped, the first untrusted one is the client');
    assert.equal(await peerOf({ 'X-Forwarded-For': 'unknown, 127.0.0.97:5555' }), 'tcp4:127.0.0.97:0');
    assert.match(await peerOf({ 'X-Forwarded-For': 'garbage' }), /^tcp4:127\.0\.0\.1:\d+$/);
    assert.match(await peerOf({ 'X-Forwarded-For': '127.0.0.99' }, '127.0.0.2'), /^tcp4:127\.0\.0\.2:\d+$/, 'from a peer not in trusted_proxies the header is ignored');
    const stats = (headers: Record<string, string>, localAddress?: string) => new Promise<number>((resolve, reject) => {
      http.get(`http://127.0.0.1:${port.xff}/stats.json`, { headers, ...(localAddress ? { localAddress } : {}) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(await stats({ 'X-Forwarded-For': '127.0.0.99' }), 200, 'access control sees the forwarded client');
    assert.equal(await stats({}), 403);
    assert.equal(await stats({ 'X-Forwarded-For': '127.0.0.99' }, '127.0.0.2'), 403, 'a forged header from an untrusted peer');
  });

  async function metricsCount(name: string, labels: Record<string, string>): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${port.plainWeb}/metrics`)).text();
    return valueOf(parsePrometheusText(text), name, name, labels) ?? 0;
  }
});
