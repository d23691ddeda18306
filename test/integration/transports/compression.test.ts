/**
 * permessage-deflate (Crossbar.io's `options.compression.deflate`), negotiated by a real `ws`
 * client that compresses every message it sends: the router inflates them, answers in frames any
 * client reads (uncompressed, as RFC 7692 allows), keeps max_message_size on the inflated size,
 * and does not negotiate the extension where the config has no `compression`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import WebSocket from 'ws';
import { parseConfig } from '../../../src/config/load.js';
import { XbarNode } from '../../../src/node.js';

const doc = {
  version: 2,
  workers: [{
    type: 'router',
    realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { publish: true, subscribe: true } }] }] }],
    transports: [{
      type: 'web', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 1 },
      paths: {
        ws: { type: 'websocket', options: { max_message_size: 65536, compression: { deflate: { request_no_context_takeover: true } } } },
        plain: { type: 'websocket' },
      },
    }],
  }],
};

/** A ws client speaking wamp.2.json that deflates everything it sends; resolves once open. */
function client(url: string, deflate: boolean): Promise<{ ws: WebSocket; next: () => Promise<unknown[]>; closed: Promise<number> }> {
  const ws = new WebSocket(url, 'wamp.2.json', { perMessageDeflate: deflate ? { threshold: 0 } : false });
  const inbox: unknown[][] = [];
  const waiting: ((m: unknown[]) => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as unknown[];
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, closed, next: () => (inbox.length ? Promise.resolve(inbox.shift()!) : new Promise((r) => waiting.push(r))) }));
    ws.once('error', reject);
  });
}

describe('WebSocket compression (permessage-deflate)', () => {
  let node: XbarNode;
  let port: number;
  before(async () => {
    const config = parseConfig(doc, 'compression.json');
    const web = config.transports[0]!;
    node = new XbarNode({ ...config, transports: [{ ...web, endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 } }] }, { logger: pino({ level: 'silent' }) });
    await node.start();
    port = node.port('web');
  });
  after(() => node.stop());

  it('is negotiated as configured, and deflated messages are routed like any others', async () => {
    const sub = await client(`ws://127.0.0.1:${port}/ws`, true);
    const pub = await client(`ws://127.0.0.1:${port}/ws`, true);
    assert.equal(sub.ws.extensions, 'permessage-deflate');
    const agreed = (sub.ws as unknown as { _extensions: Record<string, { params: Record<string, unknown> }> })._extensions['permessage-deflate']!.params;
    assert.equal(agreed.client_no_context_takeover, true, 'request_no_context_takeover asks the client');
    for (const c of [sub, pub]) {
      c.ws.send(JSON.stringify([1, 'realm1', { roles: { publisher: {}, subscriber: {} } }]));
      assert.equal((await c.next())[0], 2, 'WELCOME');
    }
    sub.ws.send(JSON.stringify([32, 1, {}, 'com.big']));
    assert.equal((await sub.next())[0], 33, 'SUBSCRIBED');
    const big = 'temperature 21.5 '.repeat(3000); // 51 kB that deflates to well under 1 kB
    pub.ws.send(JSON.stringify([16, 2, { acknowledge: true }, 'com.big', [big]]));
    assert.equal((await pub.next())[0], 17, 'PUBLISHED');
    const event = await sub.next();
    assert.deepEqual([event[0], event[4]], [36, [big]]);
    sub.ws.close();
    pub.ws.close();
  });

  it('applies max_message_size to the inflated message', async () => {
    const c = await client(`ws://127.0.0.1:${port}/ws`, true);
    c.ws.send(JSON.stringify([1, 'realm1', { roles: { publisher: {} }, pad: 'x'.repeat(200_000) }]));
    assert.equal(await c.closed, 1009);
  });

  it('is not negotiated on a path without compression', async () => {
    const c = await client(`ws://127.0.0.1:${port}/plain`, true);
    assert.equal(c.ws.extensions, '');
    c.ws.close();
  });
});
