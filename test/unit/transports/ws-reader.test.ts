import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { readFramesDirectly, unmask, wholeMessageAt } from '../../../src/transports/ws-reader.js';

/** A masked client frame (RFC 6455 §5.2). */
function clientFrame(payload: Buffer, opts: { opcode?: number; fin?: boolean; mask?: number[]; rsv?: number } = {}): Buffer {
  const { opcode = 2, fin = true, mask = [0x11, 0x22, 0x33, 0x44], rsv = 0 } = opts;
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const h = Buffer.alloc(2 + ext + 4);
  h[0] = (fin ? 0x80 : 0) | rsv | opcode;
  h[1] = 0x80 | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) h.writeUInt16BE(len, 2);
  if (ext === 8) h.writeUInt32BE(len, 6);
  Buffer.from(mask).copy(h, 2 + ext);
  const body = Buffer.from(payload);
  for (let i = 0; i < len; i++) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([h, body]);
}

interface Received { data: string; binary: boolean; direct: boolean }

describe('the lean WebSocket read path in front of ws', () => {
  let wss: WebSocketServer;
  let url: { port: number };
  const servers: { ws: WebSocket; got: Received[]; closed: Promise<number> }[] = [];

  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 100_000, autoPong: true });
    await once(wss, 'listening');
    url = { port: (wss.address() as AddressInfo).port };
    wss.on('connection', (ws) => {
      const got: Received[] = [];
      const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
      ws.on('error', () => {}); // ws closes with the code itself; 'close' follows
      assert.equal(readFramesDirectly(ws, (d, binary) => got.push({ data: d.toString('latin1'), binary, direct: true })), true);
      ws.on('message', (d: Buffer, binary: boolean) => got.push({ data: d.toString('latin1'), binary, direct: false }));
      servers.push({ ws, got, closed });
    });
  });
  after(() => wss.close());

  async function connect(): Promise<{ sock: net.Socket; server: (typeof servers)[number]; fromServer: Buffer[] }> {
    const sock = net.connect(url.port, '127.0.0.1');
    await once(sock, 'connect');
    sock.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const fromServer: Buffer[] = [];
    await new Promise<void>((resolve) => {
      let head = Buffer.alloc(0);
      const onData = (c: Buffer): void => {
        head = Buffer.concat([head, c]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        sock.off('data', onData);
        if (head.length > end + 4) fromServer.push(head.subarray(end + 4));
        sock.on('data', (d: Buffer) => fromServer.push(d));
        resolve();
      };
      sock.on('data', onData);
    });
    while (servers.length === 0) await new Promise((r) => setTimeout(r, 5));
    return { sock, server: servers.shift()!, fromServer };
  }

  async function until(cond: () => boolean): Promise<void> {
    for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(cond(), 'timed out');
  }

  it('delivers whole frames of one read itself, unmasked, in order, with their type', async () => {
    const { sock, server } = await connect();
    // Small enough to arrive in one read (a 64-bit length frame is checked below, wholeMessageAt).
    const big = Buffer.alloc(2000, 'q');
    sock.write(Buffer.concat([
      clientFrame(Buffer.from('one'), { opcode: 1 }),
      clientFrame(Buffer.from('two')),
      clientFrame(Buffer.alloc(300, 'z'), { mask: [0, 0, 0, 0] }),
      clientFrame(big),
    ]));
    await until(() => server.got.length === 4);
    assert.deepEqual(server.got.slice(0, 2), [{ data: 'one', binary: false, direct: true }, { data: 'two', binary: true, direct: true }]);
    assert.equal(server.got[2]!.data, 'z'.repeat(300));
    assert.equal(server.got[3]!.data, big.toString('latin1'));
    assert.ok(server.got.every((g) => g.direct));
    sock.destroy();
  });

  it('leaves a frame split across reads, fragments and control frames to ws, keeping the order', async () => {
    const { sock, server, fromServer } = await connect();
    const split = clientFrame(Buffer.from('split-across-reads'));
    sock.write(Buffer.concat([clientFrame(Buffer.from('a')), split.subarray(0, 7)]));
    await new Promise((r) => setTimeout(r, 30));
    sock.write(Buffer.concat([
      split.subarray(7),
      clientFrame(Buffer.from('frag1-'), { fin: false, opcode: 1 }),
      clientFrame(Buffer.from('ping'), { opcode: 9 }),
      clientFrame(Buffer.from('frag2'), { opcode: 0 }),
      clientFrame(Buffer.from('b')),
    ]));
    await until(() => server.got.length === 4);
    assert.deepEqual(server.got.map((g) => g.data), ['a', 'split-across-reads', 'frag1-frag2', 'b']);
    assert.equal(server.got[0]!.direct, true);
    assert.equal(server.got[1]!.direct, false);
    // ws answered the ping (a pong, 0x8a, with the ping's payload).
    await until(() => Buffer.concat(fromServer).includes(Buffer.from([0x8a, 4, ...Buffer.from('ping')])));
    // Once ws holds nothing, whole frames take the lean path again.
    sock.write(clientFrame(Buffer.from('c')));
    await until(() => server.got.length === 5);
    assert.deepEqual(server.got[4], { data: 'c', binary: true, direct: true });
    sock.destroy();
  });

  it('lets ws refuse what breaks the rules: over maxPayload is 1009, RSV bits 1002, bad UTF-8 1007', async () => {
    for (const [frame, code] of [
      [clientFrame(Buffer.alloc(100_001)), 1009],
      [clientFrame(Buffer.from('x'), { rsv: 0x40 }), 1002],
      [clientFrame(Buffer.from([0x66, 0xff, 0xfe]), { opcode: 1 }), 1007],
    ] as const) {
      const { sock, server, fromServer } = await connect();
      sock.write(Buffer.concat([clientFrame(Buffer.from('ok')), frame, clientFrame(Buffer.from('after'))]));
      await server.closed;
      const out = Buffer.concat(fromServer);
      assert.equal(out[0], 0x88, 'a close frame');
      assert.equal(out.readUInt16BE(2), code);
      assert.deepEqual(server.got.map((g) => g.data), ['ok']);
      sock.destroy();
    }
  });

  it('stops reading at a close frame, as ws does', async () => {
    const { sock, server } = await connect();
    const close = clientFrame(Buffer.from([0x03, 0xe8]), { opcode: 8 });
    sock.write(Buffer.concat([clientFrame(Buffer.from('before')), close, clientFrame(Buffer.from('after'))]));
    assert.equal(await server.closed, 1000);
    assert.deepEqual(server.got.map((g) => g.data), ['before']);
    sock.destroy();
  });
});

describe('frame checks and unmasking', () => {
  it('finds the payload only of whole final masked data frames within the limit', () => {
    const f = clientFrame(Buffer.from('hello'));
    assert.equal(wholeMessageAt(f, 0, 100), 6);
    assert.equal(wholeMessageAt(f.subarray(0, f.length - 1), 0, 100), -1);
    assert.equal(wholeMessageAt(f, 0, 4), -1);
    assert.equal(wholeMessageAt(clientFrame(Buffer.from('x'), { fin: false }), 0, 100), -1);
    assert.equal(wholeMessageAt(clientFrame(Buffer.from('x'), { opcode: 9 }), 0, 100), -1);
    const unmasked = Buffer.from(f);
    unmasked[1] = unmasked[1]! & 0x7f;
    assert.equal(wholeMessageAt(unmasked, 0, 100), -1);
    assert.equal(wholeMessageAt(clientFrame(Buffer.alloc(200)), 0, 1000), 8);
    assert.equal(wholeMessageAt(clientFrame(Buffer.alloc(70_000)), 0, 100_000), 14);
  });

  it('unmasks any length (JS and native paths) and is its own inverse', () => {
    for (const n of [0, 1, 3, 5, 63, 64, 65, 1000]) {
      const plain = Buffer.from(Array.from({ length: n }, (_, i) => i & 0xff));
      const f = clientFrame(plain);
      const start = wholeMessageAt(f, 0, 1e6);
      const data = f.subarray(start);
      unmask(data, f, start - 4);
      assert.ok(data.equals(plain), `length ${n}`);
    }
  });
});
