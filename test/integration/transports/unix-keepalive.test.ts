import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { XbarNode } from '../../../src/node.js';
import { SESSION_DEFAULTS, startNode, testConfig, type TestNode } from '../../helpers/node.js';
import { connectAutobahn } from '../../helpers/clients.js';
import pino from 'pino';
import { eventually } from '../../helpers/eventually.js';

const dir = mkdtempSync(path.join(tmpdir(), 'xbar-unix-'));

describe('RawSocket over a Unix socket', () => {
  const socketPath = path.join(dir, 'router.sock');
  let t: TestNode;
  before(async () => {
    t = await startNode({
      extraTransports: [{ type: 'rawsocket', id: 'unix', endpoint: { type: 'unix', path: socketPath }, ...SESSION_DEFAULTS }],
    });
  });
  after(() => t.stop());

  it('carries events between an Autobahn|JS session on the Unix socket and one on WebSocket', async () => {
    const onUnix = await connectAutobahn('', { transports: [{ type: 'rawsocket', path: socketPath }] });
    const onWs = await connectAutobahn(t.wsUrl, { serializer: 'cbor' });
    let got!: (v: unknown) => void;
    const received = new Promise((r) => (got = r));
    await onUnix.session.subscribe('com.unix.hello', (args, kwargs) => got([args, kwargs]));
    await onWs.session.publish('com.unix.hello', ['über'], { n: 2 ** 53 }, { acknowledge: true });
    assert.deepEqual(await received, [['über'], { n: 2 ** 53 }]);
    await onUnix.close();
    await onWs.close();
  });

  it('refuses to start over an existing file that is not a socket', async () => {
    const file = path.join(dir, 'not-a-socket');
    writeFileSync(file, 'keep me');
    const config = testConfig();
    const node = new XbarNode(
      { ...config, transports: [{ type: 'rawsocket', id: 'u', endpoint: { type: 'unix', path: file }, ...SESSION_DEFAULTS }] },
      { logger: pino({ level: 'silent' }) },
    );
    await assert.rejects(node.start(), /not a Unix socket/);
  });
});

describe('WebSocket keepalive', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode({ websocket: { autoPingInterval: 100, autoPingTimeout: 300 } });
  });
  after(() => t.stop());

  it('pings an idle session and keeps it while the peer answers', async () => {
    const c = await connectAutobahn(t.wsUrl);
    const ws = new WebSocket(t.wsUrl, ['wamp.2.json']);
    let pings = 0;
    ws.on('ping', () => pings++);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }]));
    await new Promise((r) => ws.once('message', r));
    while (pings < 3) await new Promise((r) => ws.once('ping', r));
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.ok(c.connection.isOpen);
    ws.close();
    await c.close();
  });

  it('closes a connection whose peer stops answering pings', async () => {
    const ws = new WebSocket(t.wsUrl, ['wamp.2.json']);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }]));
    await new Promise((r) => ws.once('message', r));
    const before = t.node.router.connectionCount;
    // Stop reading: pings queue in the kernel and no pong goes back.
    (ws as unknown as { _socket: Socket })._socket.pause();
    const started = Date.now();
    await eventually(() => t.node.router.connectionCount !== before, 'the silent peer to be dropped');
    const elapsed = Date.now() - started;
    assert.equal(t.node.router.connectionCount, before - 1, 'the silent peer was dropped');
    assert.ok(elapsed >= 300, `dropped after ${elapsed} ms, before the ping timeout`);
    ws.terminate();
  });
});
