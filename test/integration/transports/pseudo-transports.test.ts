/**
 * Crossbar.io's pseudo transports, from crossbar-examples' configs unchanged: `flash` (a
 * `flashpolicy` transport beside the web transport) answered over a raw socket with the policy
 * file Crossbar.io's FlashPolicyProtocol writes; `benchmark/websocket` (four `websocket-testee`
 * workers sharing port 8080, one listener in xbar) echoing text, binary, fragmented, compressed
 * and large messages to `ws` and Autobahn|Python clients; and a `stream.testee` transport.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { crossbarExample } from '../../helpers/crossbar-examples.js';
import { type ConfigNode, NodeDir, startConfigNode } from '../../helpers/crossbar-node.js';

/** Connects, writes each chunk (a tick apart), resolves with everything received until the server closed. */
function exchange(port: number, chunks: readonly (string | Buffer)[]): Promise<{ data: Buffer; reset: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', async () => {
      for (const c of chunks) {
        s.write(c);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    const got: Buffer[] = [];
    let reset = false;
    s.on('data', (b) => got.push(b));
    s.on('error', () => (reset = true));
    s.on('close', () => resolve({ data: Buffer.concat(got), reset }));
  });
}

describe('flashpolicy: the flash example', { timeout: 30_000 }, () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let flashPort: number;
  before(async () => {
    dir.write('web/index.html', readFileSync(crossbarExample('flash/web/index.html')));
    t = await startConfigNode(dir, JSON.parse(readFileSync(crossbarExample('flash/.crossbar/config.json'), 'utf8')));
    flashPort = t.node.addresses.find((a) => a.kind === 'flashpolicy')!.port!;
  });
  after(async () => {
    await t?.stop();
    dir.remove();
  });

  it('answers <policy-file-request/> with the policy file for allowed_domain and allowed_ports, then closes', async () => {
    const { data } = await exchange(flashPort, ['<policy-file-request/>\0']);
    assert.equal(
      data.toString(),
      '<?xml version="1.0"?><cross-domain-policy><allow-access-from domain="*" to-ports="8080" /></cross-domain-policy>',
    );
  });

  it('takes a request that arrives in pieces, with leading whitespace', async () => {
    const { data } = await exchange(flashPort, ['  <policy-file', '-request />']);
    assert.match(data.toString(), /^<\?xml version="1\.0"\?><cross-domain-policy>/);
  });

  it('cuts off a client that sends 200 bytes of anything else, and sends it nothing', async () => {
    const { data } = await exchange(flashPort, ['GET / HTTP/1.1\r\n', 'X'.repeat(300)]);
    assert.equal(data.length, 0);
  });

  it('leaves the web transport of the same config serving', async () => {
    const res = await fetch(`${t.http}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<html/i);
  });
});

/** Resolves with the next message of `ws` and whether it was binary. */
function next(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, binary) => resolve({ data: data as Buffer, binary })));
}

function open(url: string, protocols?: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: true, maxPayload: 64 * 1024 * 1024 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Autobahn|Python's Twisted WebSocket client: sends a 100 kB text message in 1000-byte fragments, prints what came back. */
const PYTHON_ECHO = String.raw`
import sys, json
from twisted.internet import reactor
from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol, connectWS
class Echo(WebSocketClientProtocol):
    def onOpen(self):
        self.sendMessage(('x' * 100000).encode('utf8'), isBinary=False)
    def onMessage(self, payload, isBinary):
        sys.__stdout__.write(json.dumps({'length': len(payload), 'binary': isBinary, 'same': payload == ('x' * 100000).encode('utf8')}) + '\n')
        self.sendClose(1000)
    def onClose(self, wasClean, code, reason):
        reactor.stop()
f = WebSocketClientFactory(sys.argv[1])
f.protocol = Echo
f.setProtocolOptions(autoFragmentSize=1000)
connectWS(f)
reactor.run()
`;

describe('websocket-testee: the benchmark/websocket example', { timeout: 60_000 }, () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  let url: string;
  before(async () => {
    t = await startConfigNode(dir, JSON.parse(readFileSync(crossbarExample('benchmark/websocket/.crossbar/config.json'), 'utf8')));
    assert.equal(t.node.addresses.length, 1, 'four workers sharing port 8080 are one listener');
    url = `ws://127.0.0.1:${t.node.addresses[0]!.port}`;
  });
  after(async () => {
    await t?.stop();
    dir.remove();
  });

  it('echoes text as text and binary as binary, with permessage-deflate negotiated', async () => {
    const ws = await open(url);
    assert.match(ws.extensions, /permessage-deflate/);
    assert.equal(ws.protocol, '');
    ws.send('héllo');
    const text = await next(ws);
    assert.deepEqual({ text: text.data.toString('utf8'), binary: text.binary }, { text: 'héllo', binary: false });
    ws.send(Buffer.from([0, 1, 2, 255]));
    const bin = await next(ws);
    assert.deepEqual({ data: [...bin.data], binary: bin.binary }, { data: [0, 1, 2, 255], binary: true });
    ws.close();
  });

  it('echoes a fragmented message whole, and an 8 MiB one', async () => {
    const ws = await open(url);
    ws.send('frag-', { fin: false });
    ws.send('ment-', { fin: false });
    ws.send('ed', { fin: true });
    assert.equal((await next(ws)).data.toString(), 'frag-ment-ed');
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    ws.send(big);
    const echo = await next(ws);
    assert.equal(echo.binary, true);
    assert.ok(echo.data.equals(big));
    ws.close();
  });

  it('echoes to Autobahn|Python a message it sent in 1000-byte fragments', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile('/usr/bin/python3', ['-c', PYTHON_ECHO, url], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    assert.deepEqual(JSON.parse(out.trim()), { length: 100000, binary: false, same: true });
  });

  it('closes a text message that is not UTF-8 with 1007', async () => {
    const ws = await open(url);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    // A raw text frame (masked, as a client must) with the bytes 0xC3 0x28: not UTF-8.
    const socket = (ws as unknown as { _socket: net.Socket })._socket;
    socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28]));
    assert.equal(await closed, 1007);
  });

  it('answers a plain GET with its status page', async () => {
    const res = await fetch(url.replace('ws:', 'http:'));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /WebSocket echo server/);
  });
});

describe('stream.testee transport', { timeout: 30_000 }, () => {
  const dir = new NodeDir();
  let t: ConfigNode;
  before(async () => {
    t = await startConfigNode(dir, {
      version: 2,
      workers: [{ type: 'router', transports: [{ type: 'stream.testee', endpoint: { type: 'tcp', port: 9000 } }] }],
    });
  });
  after(async () => {
    await t?.stop();
    dir.remove();
  });

  it('writes back every byte', async () => {
    const port = t.node.addresses[0]!.port!;
    const payload = Buffer.alloc(1024 * 1024, 7);
    const got = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      const s = net.connect(port, '127.0.0.1', () => s.write(payload));
      s.on('data', (b) => {
        chunks.push(b);
        n += b.length;
        if (n >= payload.length) s.end();
      });
      s.on('error', reject);
      s.on('close', () => resolve(Buffer.concat(chunks)));
    });
    assert.ok(got.equals(payload));
  });
});
